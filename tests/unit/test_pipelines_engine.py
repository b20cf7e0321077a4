"""The pipeline engine without a database: typed steps, the DAG, cache keys, failures."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import blake3
import pytest

from mlgrove.errors import InvalidInput
from mlgrove.pipelines import Pipeline, load, step
from mlgrove.pipelines.engine import ResolvedInput, execute, status
from mlgrove.pipelines.executors import open_executor
from mlgrove.pipelines.fingerprint import Fingerprint
from mlgrove.pipelines.step import DatasetInput

_counter = itertools.count()


class MemoryBackend:
    """The engine's backend in a dict: what the services do with the database."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}
        self.objects: dict[str, bytes] = {}
        self.loads = 0

    def resolve(self, ref: DatasetInput) -> ResolvedInput:
        raise AssertionError("no datasets here")

    def cache_lookup(self, key: str) -> str | None:
        return self.cache.get(key)

    def cache_load(self, address: str) -> bytes:
        self.loads += 1
        return self.objects[address]

    def cache_save(self, step: str, key: str, data: bytes) -> str:
        address = blake3.blake3(data).hexdigest()
        self.objects[address] = data
        self.cache[key] = address
        return address


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Write a module of the user's project; returns its import name. Edits are new files
    read fresh by ``load(..., fresh=True)``, as a user's edits would be."""
    sys.path.insert(0, str(tmp_path))
    name = f"proj_{next(_counter)}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")

    def write(code: str, module: str = "pipe") -> str:
        (tmp_path / name / f"{module}.py").write_text(textwrap.dedent(code))
        return f"{name}.{module}"

    yield write
    sys.path.remove(str(tmp_path))
    for m in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[m]


CHAIN = """
from mlgrove.pipelines import Pipeline, step

def double(x: int) -> int:
    return x * 2

@step
def a(n: int = 3) -> int:
    return double(n)

@step
def b(a: int) -> list:
    return [a, a]

@step
def c(a: int, b: list, scale: float = 1.0) -> float:
    return (a + sum(b)) * scale

pipeline = Pipeline("chain", [c, b, a])
"""


def run(p: Pipeline, backend: MemoryBackend, **kw: Any) -> dict[str, str]:
    with open_executor("inline") as ex:
        return {n: r.status for n, r in execute(p, backend, ex, **kw).items()}


def test_a_step_without_type_hints_is_refused_with_a_clear_message() -> None:
    def train(rows, epochs: int = 3) -> bytes:  # type: ignore[no-untyped-def]
        return b""

    with pytest.raises(InvalidInput, match="step 'train' has no type hint for parameter 'rows'"):
        step(train)

    def evaluate(model: bytes):  # type: ignore[no-untyped-def]
        return 1

    with pytest.raises(InvalidInput, match="step 'evaluate' has no return type hint"):
        step(evaluate)


def test_the_dag_comes_from_parameter_names_in_topological_order(
    project: Callable[[str], str],
) -> None:
    p = load(project(CHAIN) + ":pipeline")
    assert p.order == ["a", "b", "c"]
    assert p.upstream == {"a": [], "b": ["a"], "c": ["a", "b"]}
    assert p.params() == {"n": 3, "scale": 1.0}
    assert p.downstream(["b"]) == {"b", "c"}


def test_cycles_and_missing_inputs_are_named() -> None:
    @step
    def x(z: int) -> int:
        return z

    @step
    def y(x: int) -> int:
        return x

    @step
    def z(y: int) -> int:
        return y

    with pytest.raises(InvalidInput, match="has a cycle: x -> z -> y -> x"):
        Pipeline("loop", [x, y, z])
    with pytest.raises(InvalidInput, match="step 'x' needs input 'z', which no step"):
        Pipeline("gap", [x, y])


def test_bad_pipeline_paths_say_what_is_wrong(project: Callable[[str], str]) -> None:
    module = project(CHAIN)
    with pytest.raises(InvalidInput, match="not a pipeline path"):
        load("no_colon_here")
    with pytest.raises(InvalidInput, match="cannot import 'nowhere_module'"):
        load("nowhere_module:pipeline")
    with pytest.raises(InvalidInput, match="has no attribute 'missing'"):
        load(f"{module}:missing")
    with pytest.raises(InvalidInput, match="is a Step, not a Pipeline"):
        load(f"{module}:a")


def test_a_second_run_is_fully_cached_and_reads_no_output(project: Callable[[str], str]) -> None:
    p = load(project(CHAIN) + ":pipeline")
    backend = MemoryBackend()
    assert run(p, backend) == {"a": "succeeded", "b": "succeeded", "c": "succeeded"}
    before = backend.loads
    assert run(p, backend) == {"a": "cached", "b": "cached", "c": "cached"}
    assert backend.loads == before  # nothing unpickled when nothing runs
    assert [s.fresh for s in status(p, backend)] == [True, True, True]


def test_status_explains_code_params_and_upstream_changes(project: Callable[[str], str]) -> None:
    module = project(CHAIN)
    p = load(module + ":pipeline")
    backend = MemoryBackend()
    with open_executor("inline") as ex:
        first = execute(p, backend, ex)
    last: dict[str, Fingerprint] = {n: r.fingerprint for n, r in first.items() if r.fingerprint}

    changed = status(p, backend, params={"scale": 2.0}, last=last)
    assert [(s.step, s.fresh, s.reasons) for s in changed] == [
        ("a", True, []),
        ("b", True, []),
        ("c", False, ["params changed: scale"]),
    ]
    # Editing a project function the step calls changes the step's code hash.
    project(CHAIN.replace("return x * 2", "return x * 2 + 1"))
    edited = load(module + ":pipeline", fresh=True)
    found = status(edited, backend, last=last)
    assert [(s.step, s.reasons) for s in found] == [
        ("a", ["code changed"]),
        ("b", ["upstream a stale"]),
        ("c", ["upstream a, b stale"]),
    ]


def test_force_reruns_a_step_and_its_dependants_only(project: Callable[[str], str]) -> None:
    p = load(project(CHAIN) + ":pipeline")
    backend = MemoryBackend()
    run(p, backend)
    assert run(p, backend, force=["b"]) == {"a": "cached", "b": "succeeded", "c": "succeeded"}
    with pytest.raises(InvalidInput, match="has no step 'nope'"):
        run(p, backend, force=["nope"])
    with pytest.raises(InvalidInput, match="has no param 'speed'"):
        run(p, backend, params={"speed": 1})


FAILING = """
from mlgrove.pipelines import Pipeline, step
import os

@step
def load_rows() -> list:
    return [1, 2, 3]

@step
def clean(load_rows: list) -> list:
    if os.environ.get("BREAK_CLEAN"):
        raise ValueError("row 2 is malformed")
    return load_rows

@step
def wrong(load_rows: list) -> int:
    return "not an int"

@step
def unpicklable(load_rows: list) -> object:
    return lambda: 1

@step
def report(clean: list) -> int:
    return len(clean)

pipeline = Pipeline("failing", [load_rows, clean, report])
wrong_type = Pipeline("wrong", [load_rows, wrong])
cannot_store = Pipeline("unstorable", [load_rows, unpicklable])
"""


def test_a_failed_step_writes_no_cache_stops_downstream_and_the_next_run_resumes(
    project: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = load(project(FAILING) + ":pipeline")
    backend = MemoryBackend()
    monkeypatch.setenv("BREAK_CLEAN", "1")
    with open_executor("inline") as ex:
        results = execute(p, backend, ex)
    assert [r.status for r in results.values()] == ["succeeded", "failed", "skipped"]
    assert "step 'clean' raised ValueError: row 2 is malformed" in results["clean"].error
    assert 'raise ValueError("row 2 is malformed")' in results["clean"].traceback
    assert "upstream clean did not succeed" in results["report"].error
    assert len(backend.cache) == 1  # only load_rows
    monkeypatch.delenv("BREAK_CLEAN")
    assert run(p, backend) == {"load_rows": "cached", "clean": "succeeded", "report": "succeeded"}


def test_wrong_return_types_and_unpicklable_outputs_fail_the_step(
    project: Callable[[str], str],
) -> None:
    module = project(FAILING)
    backend = MemoryBackend()
    with open_executor("inline") as ex:
        wrong = execute(load(f"{module}:wrong_type"), backend, ex)
        unstorable = execute(load(f"{module}:cannot_store"), backend, ex)
    assert wrong["wrong"].status == "failed"
    assert wrong["wrong"].error == "step 'wrong' returned str, but its return type is int"
    assert unstorable["unpicklable"].status == "failed"
    assert "returned a function that cannot be stored" in unstorable["unpicklable"].error
    assert len(backend.cache) == 1


FLAKY = """
from pathlib import Path
from mlgrove.pipelines import Pipeline, step

COUNTER = Path(__file__).with_name("attempts.txt")

@step(retries=2)
def flaky() -> int:
    n = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(n + 1))
    if n < 2:
        raise ConnectionError(f"attempt {n + 1} lost the network")
    return n

pipeline = Pipeline("flaky", [flaky])
"""


def test_retries_run_a_failing_step_again(project: Callable[[str], str]) -> None:
    p = load(project(FLAKY) + ":pipeline")
    with open_executor("inline") as ex:
        result = execute(p, MemoryBackend(), ex)["flaky"]
    assert (result.status, result.attempts, result.value) == ("succeeded", 3, 2)


PARALLEL = """
import os, time
from mlgrove.pipelines import Pipeline, step

@step
def left() -> int:
    time.sleep(0.5)
    return os.getpid()

@step
def right() -> int:
    time.sleep(0.5)
    return os.getpid()

@step
def both(left: int, right: int) -> list:
    return [left, right]

@step
def dies() -> int:
    os._exit(3)

pipeline = Pipeline("parallel", [left, right, both])
crash = Pipeline("crash", [dies])
"""


def test_the_local_executor_runs_independent_steps_in_parallel_processes(
    project: Callable[[str], str],
) -> None:
    p = load(project(PARALLEL) + ":pipeline")
    with open_executor("local", jobs=2) as ex:
        results = execute(p, MemoryBackend(), ex)
    left, right = results["both"].value
    assert left != right  # two worker processes ran the independent steps
    assert {left, right}.isdisjoint({__import__("os").getpid()})


def test_a_worker_that_dies_mid_step_is_a_failed_step(project: Callable[[str], str]) -> None:
    p = load(project(PARALLEL) + ":crash")
    backend = MemoryBackend()
    with open_executor("local", jobs=1) as ex:
        result = execute(p, backend, ex, retries=1)["dies"]
    assert result.status == "failed"
    assert result.attempts == 2
    assert "its worker process died" in result.error
    assert backend.cache == {}


def test_unknown_executors_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown executor 'gpu'"):
        open_executor("gpu")
    with pytest.raises(InvalidInput, match="not a Dask scheduler address"):
        open_executor("dask://nohost")


def test_editing_a_helper_module_the_step_calls_changes_its_code_hash(
    project: Callable[[str], str],
) -> None:
    project("def clean(text: str) -> str:\n    return text.strip()\n", module="helpers")
    pkg = project("X = 1\n", module="x").split(".")[0]
    module = project(
        f"""
        from mlgrove.pipelines import Pipeline, step
        from {pkg} import helpers

        @step
        def tidy(text: str = " a ") -> str:
            return helpers.clean(text)

        pipeline = Pipeline("tidy", [tidy])
        """
    )
    backend = MemoryBackend()
    p = load(module + ":pipeline")
    with open_executor("inline") as ex:
        first = execute(p, backend, ex)
    assert first["tidy"].value == "a"
    fp = first["tidy"].fingerprint
    assert fp is not None
    last = {"tidy": fp}
    project("def clean(text: str) -> str:\n    return text.strip().upper()\n", module="helpers")
    edited = load(module + ":pipeline", fresh=True)
    assert [s.reasons for s in status(edited, backend, last=last)] == [["code changed"]]
