"""The Dask executor against real clusters: a ``LocalCluster`` and a scheduler and a
worker started as separate processes on loopback, as on a real cluster."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.errors import InvalidInput
from mlgrove.pipelines.executors.dask import DaskExecutor
from mlgrove.services import pipelines
from mlgrove.services.context import Runtime

MODULE = "daskproj"
CODE = """
import os
import socket

from mlgrove.pipelines import Pipeline, step


@step
def numbers(n: int = 5) -> list:
    return list(range(n))


@step
def squares(numbers: list) -> list:
    return [x * x for x in numbers]


@step
def where(squares: list) -> dict:
    # Which process computed it: the test checks it was not the caller.
    return {"pid": os.getpid(), "total": sum(squares)}


@step
def broken(numbers: list) -> int:
    return numbers[99]


@step
def dies(numbers: list) -> int:
    os._exit(1)


pipeline = Pipeline("squares", [numbers, squares, where])
failing = Pipeline("broken", [numbers, broken])
crashing = Pipeline("crashing", [numbers, dies])
"""


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("daskproject")
    (root / MODULE).mkdir()
    (root / MODULE / "__init__.py").write_text("")
    (root / MODULE / "pipeline.py").write_text(textwrap.dedent(CODE))
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for m in [m for m in sys.modules if m == MODULE or m.startswith(MODULE + ".")]:
        del sys.modules[m]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def scheduler(project_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``dask scheduler`` and ``dask worker`` as their own processes on loopback."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project_dir), os.environ.get("PYTHONPATH", "")]),
        # A task that kills its worker fails at once instead of being retried 3 times.
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
    }
    dask = str(Path(sys.executable).with_name("dask"))
    logs = tmp_path_factory.mktemp("dasklogs")
    scheduler_log = (logs / "scheduler.log").open("w")
    worker_log = (logs / "worker.log").open("w")
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=scheduler_log,
        )
    ]
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    procs.append(
        subprocess.Popen(
            [
                dask,
                "worker",
                f"tcp://{address}",
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--local-directory",
                str(logs),
            ],
            env=env,
            cwd=project_dir,
            stdout=subprocess.DEVNULL,
            stderr=worker_log,
        )
    )
    try:
        # Wait until the worker has joined: a run needs somewhere to go.
        from distributed import Client

        with Client(f"tcp://{address}", timeout="30s", set_as_default=False) as c:  # type: ignore[no-untyped-call]
            c.wait_for_workers(1, timeout=60)
        yield f"dask://{address}"
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        scheduler_log.close()
        worker_log.close()


def test_a_pipeline_runs_on_a_scheduler_and_worker_processes(
    grove_runtime: Runtime, scheduler: str, project_dir: Path
) -> None:
    ctx = grove_runtime.as_actor(LOCAL_ADMIN)
    run = pipelines.run(ctx, f"{MODULE}.pipeline:pipeline", executor=scheduler)
    assert run.status == "succeeded", run.error
    assert run.executor == scheduler
    where = next(s for s in run.steps if s.step == "where")
    assert where.output is not None
    # The output landed in the workspace's object store and says where it was computed.
    import pickle

    value = pickle.loads(grove_runtime.objects.get_bytes(where.output))
    assert value["total"] == 30
    assert value["pid"] != os.getpid()

    again = pipelines.run(ctx, f"{MODULE}.pipeline:pipeline", executor=scheduler)
    assert [s.status for s in again.steps] == ["cached", "cached", "cached"]


def test_step_failures_on_dask_carry_the_steps_traceback(
    grove_runtime: Runtime, scheduler: str, project_dir: Path
) -> None:
    ctx = grove_runtime.as_actor(LOCAL_ADMIN)
    run = pipelines.run(ctx, f"{MODULE}.pipeline:failing", executor=scheduler, retries=1)
    failed = run.failed_step
    assert failed is not None
    assert failed.step == "broken"
    assert failed.error == "step 'broken' raised IndexError: list index out of range"
    assert "return numbers[99]" in (failed.traceback or "")
    assert failed.attempts == 2


def test_a_worker_dying_mid_step_fails_the_step_not_the_caller(
    grove_runtime: Runtime, scheduler: str, project_dir: Path
) -> None:
    ctx = grove_runtime.as_actor(LOCAL_ADMIN)
    run = pipelines.run(ctx, f"{MODULE}.pipeline:crashing", executor=scheduler)
    failed = run.failed_step
    assert failed is not None
    assert failed.step == "dies"
    assert "was lost on the Dask cluster" in (failed.error or "")
    assert [s.status for s in run.steps] == ["succeeded", "failed"]


def test_a_local_cluster_runs_the_pipeline(grove_runtime: Runtime, project_dir: Path) -> None:
    from distributed import LocalCluster

    ctx = grove_runtime.as_actor(LOCAL_ADMIN)
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        spec = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
        run = pipelines.run(ctx, f"{MODULE}.pipeline:pipeline", executor=spec, params={"n": 4})
    assert run.status == "succeeded", run.error
    assert [s.status for s in run.steps] == ["succeeded", "succeeded", "succeeded"]


def test_an_unreachable_scheduler_is_a_clear_error_before_anything_runs() -> None:
    port = free_port()
    with pytest.raises(
        InvalidInput, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"
    ):
        DaskExecutor(f"dask://127.0.0.1:{port}", timeout="2s")
