"""Steps: typed Python functions, the units a pipeline runs and caches.

A step's type hints are its contract (as in Hamilton): every parameter and the return
value must be annotated, or :func:`step` refuses the function. Parameters are filled, by
name, from other steps' outputs, from dataset inputs declared with :func:`dataset`, or
from params (parameters with a default, which a run may override).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from mlgrove.errors import InvalidInput

__all__ = ["DatasetInput", "Step", "check_output", "dataset", "step"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class DatasetInput:
    """A dataset version (one split of it, if named) that a step reads as a table."""

    dataset: str
    split: str | None = None
    version: str = "latest"

    @property
    def label(self) -> str:
        return self.dataset + (f":{self.split}" if self.split else "")


def dataset(name: str, *, split: str | None = None, version: str = "latest") -> DatasetInput:
    """Declare a dataset input: ``@step(datasets={"rows": dataset("reviews", split="train")})``.

    The run pins ``version`` (``latest`` by default) once, when it starts, so every step
    of a run reads the same version.
    """
    if not name:
        raise InvalidInput("a dataset input needs a dataset name")
    return DatasetInput(dataset=name, split=split, version=version)


@dataclass(frozen=True)
class Step:
    """A function with its contract: what it reads, what it returns, how it is cached."""

    name: str
    fn: Callable[..., Any]
    #: parameter name -> annotation, in signature order
    parameters: dict[str, Any]
    #: parameter name -> default, for parameters that have one
    defaults: dict[str, Any]
    output_type: Any
    datasets: dict[str, DatasetInput] = field(default_factory=dict)
    #: packages (or KEY=VALUE strings) whose versions are part of the cache key
    env: tuple[str, ...] = ()
    retries: int | None = None

    @property
    def ref(self) -> tuple[str, str]:
        """Where a worker process finds the function: (module, qualified name)."""
        return (self.fn.__module__, self.fn.__qualname__)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Calling a step calls its function: steps stay testable as plain functions.
        return self.fn(*args, **kwargs)


def _hints(fn: Callable[..., Any], name: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=False)
    except Exception as exc:  # a NameError in a string annotation, say
        raise InvalidInput(
            f"step {name!r}: its type hints cannot be read ({type(exc).__name__}: {exc})",
            hint="import every type the annotations name",
        ) from exc


def make_step(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    datasets: Mapping[str, DatasetInput] | None = None,
    env: Iterable[str] = (),
    retries: int | None = None,
) -> Step:
    """A :class:`Step` from a function, checking its contract."""
    if isinstance(fn, Step):
        return fn
    if not callable(fn) or not hasattr(fn, "__code__"):
        raise InvalidInput(f"a step must be a function, not {type(fn).__name__}")
    step_name = name or fn.__name__
    if not step_name.isidentifier():
        raise InvalidInput(f"step name {step_name!r} is not a Python identifier")
    hints = _hints(fn, step_name)
    signature = inspect.signature(fn)
    parameters: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for pname, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise InvalidInput(
                f"step {step_name!r} takes *{pname}: steps take named parameters only",
                hint="name every input the step reads",
            )
        if pname not in hints:
            raise InvalidInput(
                f"step {step_name!r} has no type hint for parameter {pname!r}",
                hint=f"steps are typed functions: annotate it, e.g. `{pname}: pa.Table`",
            )
        parameters[pname] = hints[pname]
        if param.default is not param.empty:
            defaults[pname] = param.default
    if "return" not in hints:
        raise InvalidInput(
            f"step {step_name!r} has no return type hint",
            hint="steps are typed functions: annotate what it returns, e.g. `-> bytes`",
        )
    declared = dict(datasets or {})
    for pname, ref in declared.items():
        if pname not in parameters:
            raise InvalidInput(
                f"step {step_name!r} declares dataset input {pname!r} but has no such parameter",
                hint=f"add a parameter `{pname}: pa.Table`",
            )
        if not isinstance(ref, DatasetInput):
            raise InvalidInput(
                f"step {step_name!r}: dataset input {pname!r} must come from dataset(...)"
            )
    if retries is not None and retries < 0:
        raise InvalidInput(f"step {step_name!r}: retries must be 0 or more")
    return Step(
        name=step_name,
        fn=fn,
        parameters=parameters,
        defaults=defaults,
        output_type=hints["return"],
        datasets=declared,
        env=tuple(env),
        retries=retries,
    )


@overload
def step(fn: F, /) -> Step: ...


@overload
def step(
    *,
    name: str | None = None,
    datasets: Mapping[str, DatasetInput] | None = None,
    env: Iterable[str] = (),
    retries: int | None = None,
) -> Callable[[F], Step]: ...


def step(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    datasets: Mapping[str, DatasetInput] | None = None,
    env: Iterable[str] = (),
    retries: int | None = None,
) -> Step | Callable[[F], Step]:
    """Make a typed function a pipeline step (``@step`` or ``@step(datasets=...)``).

    ``env`` names packages whose installed versions join the cache key (``"numpy"``) or
    fixed facts (``"CUDA=12.4"``); ``retries`` overrides the run's retry count.
    """
    if fn is not None:
        return make_step(fn)

    def wrap(f: F) -> Step:
        return make_step(f, name=name, datasets=datasets, env=env, retries=retries)

    return wrap


def _type_name(t: Any) -> str:
    return getattr(t, "__name__", None) or repr(t)


def check_output(step_name: str, expected: Any, value: Any) -> str | None:
    """Why ``value`` does not match the declared return type, or None when it does.

    Checks the outer type only (``list[int]`` checks ``list``): deep checks would cost
    as much as the step on large outputs.
    """
    if expected is Any or expected is object:
        return None
    if expected is None or expected is type(None):
        return None if value is None else _wrong(step_name, "None", value)
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(expected)
        if any(check_output(step_name, o, value) is None for o in options):
            return None
        return _wrong(step_name, " | ".join(_type_name(o) for o in options), value)
    if origin is typing.Literal:
        return None if value in typing.get_args(expected) else _wrong(step_name, "Literal", value)
    target = origin if origin is not None else expected
    if isinstance(target, type):
        return None if isinstance(value, target) else _wrong(step_name, _type_name(target), value)
    return None  # a TypeVar, a Protocol alias...: nothing to check against at run time


def _wrong(step_name: str, expected: str, value: Any) -> str:
    return f"step {step_name!r} returned {type(value).__name__}, but its return type is {expected}"
