"""Scenario ``review_import``: import N Label Studio tasks into a review queue.

The file: N tasks (small: 10k, full: 100k), generated from a seed, in Label Studio's JSON
export format: each task has a text, one model prediction (a ``choices`` result with a
score) and two annotations by two of 50 annotators, so the import makes N items, N
predictions, 2N verdicts and 50 external reviewer identities, and resolves the items
whose two annotators agree.

- ``grove-cli``: ``mlgrove review import tickets FILE --format label-studio`` in a fresh
  workspace (``mlgrove init``, untimed), as a fresh process: start-up, JSON parsing, the
  checks of every task and field, and the one write transaction are all timed.
- ``grove-inner``: the same import in a fresh workspace, timed inside the process
  (``median_inner_s``): the import without interpreter start-up and imports.

- ``label-studio``: Label Studio 1.23.2 (its own venv, ``benchmarks/.peers/label-studio``),
  started as its users start it (``label-studio start``, SQLite, its default) on a fresh
  data folder each rep: a copy of a template folder made once (migrated database, an
  administrator with an API token, and the 50 annotators as users, since Label Studio
  refuses annotations by people it does not know). Untimed: the server start and the
  project with a labelling config matching the tasks (``maximum_annotations`` 2, as
  Grove's queue). Timed: a client process uploading the same tasks (annotator ids mapped
  to the Label Studio users) to ``POST /api/projects/{id}/import``. In the Community
  edition that call imports synchronously (tasks, annotations, predictions and counters
  are written before it answers); the client then reads the project back and the run
  counts only if it holds N tasks, 2N annotations and N predictions. After each rep
  (untimed) the project asks for a third annotation and one user's
  ``GET /api/projects/{id}/next`` is timed 50 times: Label Studio's next-task latency
  over the imported tasks, reported beside (Grove's is ``benchmarks.review_next``).

Target (BENCHMARKS.md): import at least 10x faster than Label Studio.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    DATA_DIR,
    ROOT,
    Contender,
    Peer,
    add_common_args,
    check_reps,
    compute_ratios,
    ensure_peer,
    grove_facts,
    machine_facts,
    print_table,
    remove_tree,
    run_alternating,
    write_results,
)

NAME = "review_import"
DESCRIPTION = "import 100k Label Studio tasks (predictions + annotations) into a review queue"
SIZES = {"small": 10_000, "full": 100_000}
SEED = 5
LABELS = ["bug", "question", "feature", "other"]
ANNOTATORS = 50
SOURCES = [
    "src/mlgrove/services/review_io.py",
    "src/mlgrove/services/review.py",
    "src/mlgrove/cli/review_cmds.py",
    "src/mlgrove/store/repos/review_bulk.py",
]
LS_REQUIREMENTS = ["label-studio==1.23.2"]
NEXT_CALLS = 50  # Label Studio next-task calls timed after each rep's import
LS_VERSIONS = ["label-studio", "Django"]
LS_USER, LS_PASSWORD = "bench@example.org", "bench-password-1"
LS_TOKEN = "6c1d0bd7f3e94a1f8e5b2c7a9d0e4f1a2b3c4d5e"  # a legacy API token, loopback only
LABEL_CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="category" toName="text">'
    + "".join(f'<Choice value="{label}"/>' for label in LABELS)
    + "</Choices></View>"
)


def _result(label: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": "category",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def make_tasks(path: Path, count: int, seed: int = SEED) -> Path:
    rng = random.Random(seed)
    tasks = []
    for i in range(count):
        truth = rng.choice(LABELS)
        first, second = rng.sample(range(1, ANNOTATORS + 1), 2)
        second_label = truth if rng.random() < 0.8 else rng.choice(LABELS)
        tasks.append(
            {
                "id": i + 1,
                "data": {
                    "text": f"ticket {i}: {rng.choice(['crash', 'how to', 'idea', 'thanks'])}"
                },
                "predictions": [
                    {
                        "model_version": "triage-v3",
                        "score": round(rng.random(), 3),
                        "result": _result(rng.choice(LABELS)),
                    }
                ],
                "annotations": [
                    {"completed_by": first, "result": _result(truth), "lead_time": 4.2},
                    {"completed_by": second, "result": _result(second_label), "lead_time": 6.0},
                ],
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tasks))
    return path


# --------------------------------------------------------------------------- Label Studio


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _api(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """GET ``path``, or POST ``body`` as JSON, with the API token."""
    request = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Token {LS_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read() or b"null")


class LabelStudio:
    """One ``label-studio start`` on a data folder, on a free loopback port."""

    def __init__(self, peer: Peer, data_dir: Path, log: Path) -> None:
        self.peer, self.data_dir, self.log = peer, data_dir, log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        # No calls home: no version check on PyPI, no analytics, no Sentry.
        return {
            **os.environ,
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "SECRET_KEY": "grove-benchmark-not-a-secret",
        }

    def start(self, timeout: float = 300) -> None:
        cmd = [
            str(self.peer.bin / "label-studio"),
            "start",
            "--no-browser",
            "--internal-host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--username",
            LS_USER,
            "--password",
            LS_PASSWORD,
            "--user-token",
            LS_TOKEN,
            "--enable-legacy-api-token",
            "--log-level",
            "WARNING",
        ]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, env=self.env(), stdout=out, stderr=subprocess.STDOUT, cwd=self.data_dir
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"label-studio exited with {self.proc.returncode}; see {self.log}"
                )
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                _api(self.url, "/api/projects")
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"label-studio did not answer within {timeout} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # ``label-studio start`` runs Django's server in its own process (--noreload).
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def ls_template(peer: Peer, folder: Path) -> tuple[Path, dict[int, int]]:
    """A migrated Label Studio data folder with the administrator and one user per
    annotator, made once and copied for every rep; ``{annotator: Label Studio user id}``."""
    template = folder / "ls-template"
    stamp = folder / "ls-template.stamp.json"
    params = {"requirements": LS_REQUIREMENTS, "annotators": ANNOTATORS, "token": LS_TOKEN}
    if stamp.exists() and template.is_dir():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == params:
            return template, {int(k): v for k, v in saved["users"].items()}
    remove_tree(template)
    stamp.unlink(missing_ok=True)
    template.mkdir(parents=True)
    started = time.perf_counter()
    server = LabelStudio(peer, template, folder / "ls-template.log")
    server.start(timeout=900)  # the first start runs every migration
    try:
        users = {}
        for k in range(1, ANNOTATORS + 1):
            made = _api(
                server.url,
                "/api/users/",
                {"email": f"annotator{k}@example.org", "username": f"annotator{k}"},
            )
            users[k] = int(made["id"])
    finally:
        server.stop()
    stamp.write_text(json.dumps({"params": params, "users": users}))
    print(f"  made the Label Studio template in {time.perf_counter() - started:.0f} s", flush=True)
    return template, users


def ls_tasks(source: Path, target: Path, users: dict[int, int]) -> Path:
    """The same tasks, each annotator named by their Label Studio user id."""
    tasks = json.loads(source.read_text())
    for task in tasks:
        for annotation in task["annotations"]:
            annotation["completed_by"] = users[annotation["completed_by"]]
    target.write_text(json.dumps(tasks))
    return target


def ls_next_latencies(url: str, project: int, calls: int = NEXT_CALLS) -> list[float]:
    """Seconds per ``GET /api/projects/{id}/next`` by one user, after the import (untimed
    by the harness: it runs in the clean-up). Every imported task already has its two
    annotations, so first the project asks for three (Label Studio then re-counts which
    tasks are labelled), or Label Studio would have nothing to hand out."""
    request = urllib.request.Request(
        f"{url}/api/projects/{project}",
        data=json.dumps({"maximum_annotations": 3}).encode(),
        method="PATCH",
        headers={"Authorization": f"Token {LS_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600):
        pass
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        task = _api(url, f"/api/projects/{project}/next")
        seconds.append(time.perf_counter() - started)
        if not isinstance(task, dict) or "id" not in task:
            raise RuntimeError(f"next gave no task: {task!r}")
    return seconds


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    """User + system CPU time of this process's finished children, so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def ls_worker(url: str, project: int, source: Path, server_pid: int) -> None:
    """Upload the file to the import API as a user's script would; print the timing and
    the CPU time the server spent meanwhile (less swayed by a busy machine than wall)."""
    import httpx

    cpu_before = _cpu_seconds(server_pid)
    started = time.perf_counter()
    with source.open("rb") as fh:
        response = httpx.post(
            f"{url}/api/projects/{project}/import",
            headers={"Authorization": f"Token {LS_TOKEN}"},
            files={"file": (source.name, fh, "application/json")},
            timeout=3600,
        )
    answered = time.perf_counter() - started
    response.raise_for_status()
    body = response.json()
    facts = _api(url, f"/api/projects/{project}")
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "server_cpu_s": round(_cpu_seconds(server_pid) - cpu_before, 2),
                "import_call_s": answered,
                "task_count": body.get("task_count"),
                "tasks": facts.get("task_number"),
                "annotations": facts.get("total_annotations_number"),
                "predictions": facts.get("total_predictions_number"),
            }
        )
    )


def run(scale: str, reps: int, skip_peers: bool = False) -> dict[str, Any]:
    reps = check_reps(reps)
    count = SIZES[scale]
    folder = DATA_DIR / NAME
    source = make_tasks(folder / f"tasks-{scale}.json", count)
    workspace = folder / "ws"
    python = sys.executable
    peer = ensure_peer(
        "label-studio", LS_REQUIREMENTS, report_versions=LS_VERSIONS, skip=skip_peers
    )
    ls_state: dict[str, Any] = {}
    next_latencies: list[float] = []
    if peer.available:
        template, users = ls_template(peer, folder)
        ls_source = ls_tasks(source, folder / f"tasks-{scale}-ls.json", users)

        def ls_setup(rep: int) -> None:
            data = folder / "ls-run"
            remove_tree(data)
            shutil.copytree(template, data)
            server = LabelStudio(peer, data, folder / "ls-run.log")
            ls_state["server"] = server
            server.start()
            project = _api(
                server.url,
                "/api/projects",
                {"title": "tickets", "label_config": LABEL_CONFIG, "maximum_annotations": 2},
            )
            ls_state["project"] = int(project["id"])

        def ls_verify(rep: int, inner: dict[str, Any] | None) -> str | None:
            if inner is None:
                return "the client printed no JSON summary"
            got = (inner.get("tasks"), inner.get("annotations"), inner.get("predictions"))
            if got != (count, 2 * count, count):
                return f"Label Studio holds {got} tasks/annotations/predictions"
            return None

        def ls_cleanup(rep: int) -> None:
            server = ls_state.pop("server", None)
            if server is not None:
                with contextlib.suppress(Exception):  # a failed import has nothing to time
                    next_latencies.extend(ls_next_latencies(server.url, ls_state["project"]))
                server.stop()
            remove_tree(folder / "ls-run")

        ls_contender = Contender(
            name="label-studio",
            role="peer",
            description="a client uploading the file to POST /api/projects/{id}/import of a "
            "running label-studio (SQLite); synchronous in the Community edition",
            command=lambda rep: [
                python,
                "-m",
                f"benchmarks.{NAME}",
                "--ls-worker",
                ls_state["server"].url,
                str(ls_state["project"]),
                str(ls_source),
                str(ls_state["server"].proc.pid),
            ],
            setup=ls_setup,
            verify=ls_verify,
            cleanup=ls_cleanup,
            cwd=ROOT,
        )
    else:
        ls_contender = Contender(
            name="label-studio",
            role="peer",
            description="Label Studio's project import API",
            command=lambda rep: ["true"],
            unavailable=peer.reason,
        )

    children_cpu: list[float] = []  # [CPU of reaped children when the set-up ended]
    cli_cpu: list[float] = []

    def setup(rep: int) -> None:
        remove_tree(workspace)
        subprocess.run(
            [python, "-m", "mlgrove.cli", "init", str(workspace)], check=True, capture_output=True
        )
        children_cpu[:] = [_children_cpu()]

    def cli_verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        # The only child reaped between the set-up and here is the timed command.
        cli_cpu.append(round(_children_cpu() - children_cpu[0], 2))
        return verify(rep, inner)

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None:
            return "the import printed no JSON summary"
        if (inner.get("items"), inner.get("verdicts")) != (count, 2 * count):
            return f"imported {inner.get('items')} items, {inner.get('verdicts')} verdicts"
        db = workspace / ".mlgrove" / "grove.db"
        if db.exists():
            with sqlite3.connect(db) as conn:
                (n,) = conn.execute("select count(*) from review_items").fetchone()
            if n != count:
                return f"the database holds {n} items, not {count}"
        return None

    contenders = [
        Contender(
            name="grove-cli",
            role="grove",
            description="mlgrove review import QUEUE FILE --format label-studio --json",
            command=lambda rep: [
                python,
                "-m",
                "mlgrove.cli",
                "--workspace",
                str(workspace),
                "review",
                "import",
                "tickets",
                str(source),
                "--format",
                "label-studio",
                "--json",
            ],
            setup=setup,
            verify=cli_verify,
            cleanup=lambda rep: remove_tree(workspace),
            cwd=ROOT,
        ),
        Contender(
            name="grove-inner",
            role="grove",
            description="the same import inside one process (grove.review.import_label_studio, "
            "JSON parsing included), timed by the worker: what a warm server pays",
            command=lambda rep: [
                python,
                "-m",
                f"benchmarks.{NAME}",
                "--worker",
                str(source),
                str(workspace),
            ],
            setup=setup,
            verify=verify,
            cleanup=lambda rep: remove_tree(workspace),
            cwd=ROOT,
        ),
        ls_contender,
    ]
    try:
        measured = run_alternating(contenders, reps)
    finally:
        if "server" in ls_state:
            ls_state["server"].stop()
    ratios = compute_ratios(
        measured,
        [
            ("label-studio / grove-cli", "label-studio", "grove-cli"),
            ("label-studio / grove-inner", "label-studio", "grove-inner"),
        ],
    )
    print_table(measured, ratios)
    next_summary = _next_summary(next_latencies)
    cpu: dict[str, Any] = {
        "what": "CPU seconds (user + system) per rep: the whole grove-cli process, the "
        "import inside grove-inner, and the Label Studio server process during its import "
        "call and count check; less swayed than wall time by other work on the machine",
        "grove-cli": cli_cpu,
        "grove-inner": [i.get("cpu_s") for i in measured["grove-inner"].inner],
        "label-studio-server": [i.get("server_cpu_s") for i in measured["label-studio"].inner],
    }
    medians = {
        k: statistics.median(v)
        for k, v in cpu.items()
        if isinstance(v, list) and v and None not in v
    }
    cpu["median"] = medians
    if "label-studio-server" in medians and medians.get("grove-cli"):
        cpu["ratio_label_studio_server_per_grove_cli"] = round(
            medians["label-studio-server"] / medians["grove-cli"], 2
        )
        print(
            f"  CPU (medians): {medians}; ratio {cpu['ratio_label_studio_server_per_grove_cli']}x"
        )
    if next_summary is not None:
        print(
            f"  Label Studio next task ({next_summary['calls']} calls): "
            f"p50 {next_summary['p50_ms']} ms, p99 {next_summary['p99_ms']} ms",
            flush=True,
        )
    payload = {
        "description": DESCRIPTION,
        "tasks": count,
        "file_bytes": source.stat().st_size,
        "target": "import >= 10x faster than Label Studio",
        "contenders": {name: m.summary() for name, m in measured.items()},
        "ratios": ratios,
        "label_studio_next_task": next_summary,
        "cpu_s": cpu,
        "peer": {
            "name": "label-studio",
            "requirements": LS_REQUIREMENTS,
            "versions": peer.versions,
            "available": peer.available,
            "reason": peer.reason,
            "setup": "label-studio start (Django development server, --noreload), SQLite, "
            "a fresh copy of a migrated data folder each rep; the project made untimed",
        },
        "machine": machine_facts(),
        "grove": grove_facts(SOURCES),
    }
    path = write_results(NAME, scale, payload)
    print(f"  results: {path}", flush=True)
    return payload


def _next_summary(seconds: list[float]) -> dict[str, Any] | None:
    if not seconds:
        return None
    ordered = sorted(seconds)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    return {
        "what": "GET /api/projects/{id}/next, one user, sequential, loopback, after the "
        "import (maximum_annotations raised to 3 so tasks are left to hand out)",
        "calls": len(ordered),
        "p50_ms": pct(0.5),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def worker(source: Path, workspace: Path) -> None:
    """Import in this process and print the timing as JSON (the ``grove-inner`` run)."""
    import gc

    import mlgrove

    with mlgrove.connect(workspace) as grove:
        started, cpu = time.perf_counter(), time.process_time()
        gc.disable()  # parsed as the CLI parses (see cli/review_cmds.py)
        tasks = json.loads(source.read_text())
        gc.freeze()
        gc.enable()
        summary = grove.review.import_label_studio("tickets", tasks)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": round(cpu, 2),
                "items": summary.tasks,
                "verdicts": summary.verdicts,
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--worker"]:
        worker(Path(sys.argv[2]), Path(sys.argv[3]))
        return 0
    if argv is None and sys.argv[1:2] == ["--ls-worker"]:
        ls_worker(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=DESCRIPTION)
    add_common_args(parser)
    args = parser.parse_args(argv)
    run(args.scale, args.reps, args.skip_peers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
