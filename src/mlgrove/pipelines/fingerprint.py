"""Cache keys: what a step's result depends on, hashed.

A key covers the step's code (its source, plus the source of every project function or
class it reaches through globals, closures and module attributes), the content address
of each input, its params and its declared environment. Library code (the standard
library, site-packages, Grove itself) is covered by the declared environment instead:
hashing NumPy's source on every run would cost more than most steps.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import sysconfig
import textwrap
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

from mlgrove.pipelines.step import Step

__all__ = ["Fingerprint", "code_hash", "env_hash", "fingerprint", "params_hash", "plain"]

_LIBRARY_ROOTS = tuple(
    {
        str(Path(p).resolve())
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (p := sysconfig.get_paths().get(key))
    }
    | {str(Path(sys.base_prefix).resolve()), str(Path(__file__).resolve().parents[1])}
)
_code_cache: dict[int, tuple[Any, str]] = {}


def _h(text: str) -> str:
    return blake3.blake3(text.encode("utf-8", "surrogatepass")).hexdigest()


def _is_project(obj: Any) -> bool:
    """Code the user wrote: defined in a file outside the Python install and Grove."""
    try:
        source_file = inspect.getsourcefile(obj)
    except TypeError:
        return False
    if not source_file:
        return False
    resolved = str(Path(source_file).resolve())
    return not resolved.startswith(_LIBRARY_ROOTS)


def _names(code: types.CodeType) -> set[str]:
    found = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _names(const)
    return found


def _source(obj: Any) -> str:
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        # No source file (defined in a REPL): the bytecode still changes with the code.
        code = getattr(obj, "__code__", None)
        return repr(code.co_code) + repr(code.co_consts) if code else repr(obj)


def _reached(fn: Any) -> list[Any]:
    """Project functions, classes and modules ``fn`` refers to by name."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    names = _names(code)
    env: dict[str, Any] = dict(getattr(fn, "__globals__", {}))
    for cell_name, cell in zip(code.co_freevars, fn.__closure__ or (), strict=False):
        try:
            env[cell_name] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    found = []
    for n in sorted(names):
        obj = env.get(n)
        if obj is None:
            continue
        if isinstance(obj, Step):
            obj = obj.fn
        if isinstance(obj, types.ModuleType):
            if _is_project(obj):
                # helpers.clean(...): the attributes used of a project module
                found += [getattr(obj, a) for a in sorted(names) if hasattr(obj, a)]
            continue
        if isinstance(obj, types.FunctionType | type) and _is_project(obj):
            found.append(obj)
    return found


def code_hash(fn: Any) -> str:
    """The hash of ``fn``'s source and of the project code it reaches, transitively."""
    cached = _code_cache.get(id(fn))
    if cached is not None and cached[0] is fn:
        return cached[1]
    seen: dict[str, str] = {}
    todo = [fn]
    while todo:
        obj = todo.pop()
        if isinstance(obj, types.ModuleType) or not callable(obj):
            continue
        name = f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
        if name in seen:
            continue
        seen[name] = _source(obj)
        if isinstance(obj, type):
            todo += [v for v in vars(obj).values() if isinstance(v, types.FunctionType)]
        else:
            todo += _reached(obj)
    digest = _h(json.dumps(sorted(seen.items())))
    _code_cache[id(fn)] = (fn, digest)
    return digest


def _version(package: str) -> str:
    # Imported here: it costs a fresh `mlgrove pipeline run` 20 ms, and only steps that
    # declare packages without a version need it.
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def env_hash(declared: Iterable[str]) -> tuple[str, dict[str, str]]:
    """The declared environment, resolved (package -> installed version), and its hash."""
    return _env_hash(tuple(declared))


@functools.lru_cache(maxsize=256)
def _env_hash(declared: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    resolved = {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for item in declared:
        key, sep, value = item.partition("=")
        resolved[key.strip()] = value.strip() if sep else _version(key.strip())
    return _h(json.dumps(resolved, sort_keys=True)), resolved


def plain(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def params_hash(params: Mapping[str, Any]) -> str:
    return _h(json.dumps({k: plain(v) for k, v in params.items()}, sort_keys=True))


@dataclass(frozen=True)
class Fingerprint:
    """The parts of a cache key, kept so status can say which part changed."""

    code: str
    inputs: dict[str, str]  # parameter -> content address
    params: dict[str, Any]
    env: str

    @functools.cached_property
    def key(self) -> str:
        return _h(
            json.dumps(
                {
                    "code": self.code,
                    "inputs": self.inputs,
                    "params": {k: plain(v) for k, v in self.params.items()},
                    "env": self.env,
                },
                sort_keys=True,
            )
        )


def fingerprint(
    s: Step,
    inputs: Mapping[str, str],
    params: Mapping[str, Any],
    pipeline_env: Iterable[str] = (),
) -> Fingerprint:
    env, _ = env_hash([*pipeline_env, *s.env])
    return Fingerprint(
        code=code_hash(s.fn),
        inputs=dict(inputs),
        params={k: plain(v) for k, v in params.items()},
        env=env,
    )
