"""A pipeline: steps wired by name into a DAG, checked for cycles and missing inputs.

A parameter named like another step receives that step's output; a declared dataset
input receives the table; a parameter with a default is a param. Anything else is a
missing input, reported before anything runs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlgrove.errors import InvalidInput
from mlgrove.pipelines.step import Step, make_step

__all__ = ["Pipeline", "Promotion", "RetrainRule", "load", "on_dataset", "on_schedule"]


@dataclass(frozen=True)
class RetrainRule:
    """When to run a pipeline by itself.

    ``kind`` is ``dataset`` (a new version of ``dataset`` whose diff from the last
    trained-on version meets any of the set conditions) or ``schedule`` (``cron``).
    """

    kind: str
    dataset: str | None = None
    min_added_rows: int | None = None
    min_changed_pct: float | None = None
    split_changed: str | None = None
    cron: str | None = None
    #: labels people reviewed (in review queues) and committed to the dataset since the
    #: version the pipeline last trained on
    min_reviewed_labels: int | None = None

    def describe(self) -> str:
        if self.kind == "schedule":
            return f"on schedule {self.cron}"
        conditions = []
        if self.min_added_rows is not None:
            conditions.append(f">= {self.min_added_rows} rows added")
        if self.min_changed_pct is not None:
            conditions.append(f">= {self.min_changed_pct:g}% rows changed")
        if self.split_changed is not None:
            conditions.append(f"split {self.split_changed!r} changed")
        if self.min_reviewed_labels is not None:
            conditions.append(f">= {self.min_reviewed_labels} reviewed labels")
        return f"when {self.dataset} gets a new version" + (
            f" with {' or '.join(conditions)}" if conditions else ""
        )


def on_dataset(
    name: str,
    *,
    min_added_rows: int | None = None,
    min_changed_pct: float | None = None,
    split_changed: str | None = None,
    min_reviewed_labels: int | None = None,
) -> RetrainRule:
    """Retrain when dataset ``name`` gets a new version meeting any given condition
    (with none given, any new version does). Changes add up across versions until a
    retrain happens."""
    if not name:
        raise InvalidInput("a dataset rule needs a dataset name")
    if min_added_rows is not None and min_added_rows < 1:
        raise InvalidInput("min_added_rows must be 1 or more")
    if min_changed_pct is not None and not 0 < min_changed_pct <= 100:
        raise InvalidInput("min_changed_pct must be a percentage in (0, 100]")
    if min_reviewed_labels is not None and min_reviewed_labels < 1:
        raise InvalidInput("min_reviewed_labels must be 1 or more")
    return RetrainRule(
        kind="dataset",
        dataset=name,
        min_added_rows=min_added_rows,
        min_changed_pct=min_changed_pct,
        split_changed=split_changed,
        min_reviewed_labels=min_reviewed_labels,
    )


def on_schedule(cron: str) -> RetrainRule:
    """Retrain on a cron schedule (``"0 3 * * *"``: every day at 03:00 UTC)."""
    from croniter import croniter

    if not croniter.is_valid(cron):
        raise InvalidInput(
            f"{cron!r} is not a cron expression", hint="five fields, e.g. '0 3 * * *'"
        )
    return RetrainRule(kind="schedule", cron=cron)


@dataclass(frozen=True)
class Promotion:
    """Move alias ``production`` to a candidate only if it beats the current production
    version on the *same* test set (dataset version and split) by ``margin``."""

    metric: str
    margin: float = 0.0
    higher_is_better: bool = True
    #: With a review queue named here, a candidate that wins on ``metric`` is promoted
    #: only once people judged at least ``human_min_items`` of its predictions on the
    #: queue's random slice, and only if their accept rate is not below production's by
    #: more than ``human_max_drop`` (until then the decision is "waiting").
    human_queue: str | None = None
    human_min_items: int = 20
    human_max_drop: float = 0.0


class Pipeline:
    """Named steps in a DAG, with the rules that retrain it and its promotion policy."""

    #: where it was loaded from (``module:attr``), so a worker can load it again
    path: str | None
    by_name: dict[str, Step]
    #: step -> the steps whose outputs it reads
    upstream: dict[str, list[str]]
    #: steps in a topological order (every step after what it reads)
    order: list[str]

    def __init__(
        self,
        name: str,
        steps: Iterable[Step | Callable[..., Any]],
        *,
        env: Iterable[str] = (),
        retries: int = 0,
        retrain: Iterable[RetrainRule] = (),
        promotion: Promotion | None = None,
        description: str = "",
    ) -> None:
        if not name or len(name) > 100 or not all(c.isalnum() or c in "-_." for c in name):
            raise InvalidInput(
                f"pipeline name {name!r} is not valid",
                hint="use 1-100 letters, digits, '-', '_' or '.'",
            )
        if retries < 0:
            raise InvalidInput("retries must be 0 or more")
        self.name = name
        self.steps = [make_step(s) for s in steps]
        if not self.steps:
            raise InvalidInput(f"pipeline {name!r} has no steps")
        self.env = tuple(env)
        self.retries = retries
        self.retrain = list(retrain)
        self.promotion = promotion
        self.description = description
        self.path = None
        self.by_name = {}
        for s in self.steps:
            if s.name in self.by_name:
                raise InvalidInput(f"pipeline {name!r} has two steps named {s.name!r}")
            self.by_name[s.name] = s
        self.upstream = {s.name: self._inputs_of(s) for s in self.steps}
        self.order = self._topological_order()

    def _inputs_of(self, s: Step) -> list[str]:
        found = []
        for pname in s.parameters:
            if pname in s.datasets:
                continue
            if pname in self.by_name:
                if pname == s.name:
                    raise InvalidInput(
                        f"step {s.name!r} reads its own output: a cycle",
                        hint="rename the parameter or the step",
                    )
                found.append(pname)
            elif pname not in s.defaults:
                raise InvalidInput(
                    f"step {s.name!r} needs input {pname!r}, which no step of pipeline "
                    f"{self.name!r} produces",
                    hint=f"add a step named {pname!r}, declare it as a dataset input, "
                    "or give it a default to make it a param",
                )
        return found

    def _topological_order(self) -> list[str]:
        # Depth-first, in declaration order, so the order is stable and a cycle is named.
        order: list[str] = []
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        path: list[str] = []

        def visit(n: str) -> None:
            if state.get(n) == 2:
                return
            if state.get(n) == 1:
                cycle = [*path[path.index(n) :], n]
                raise InvalidInput(
                    f"pipeline {self.name!r} has a cycle: {' -> '.join(cycle)}",
                    hint="a step cannot depend, even indirectly, on its own output",
                )
            state[n] = 1
            path.append(n)
            for up in self.upstream[n]:
                visit(up)
            path.pop()
            state[n] = 2
            order.append(n)

        for s in self.steps:
            visit(s.name)
        return order

    def downstream(self, names: Iterable[str]) -> set[str]:
        """``names`` and every step that depends on them, directly or not."""
        chosen = set(names)
        for n in self.order:  # upstream steps come first in topological order
            if any(up in chosen for up in self.upstream[n]):
                chosen.add(n)
        return chosen

    def params(self) -> dict[str, Any]:
        """Every param (a parameter with a default) with its default value."""
        found: dict[str, Any] = {}
        for s in self.steps:
            for pname, default in s.defaults.items():
                if pname not in self.by_name and pname not in s.datasets:
                    found.setdefault(pname, default)
        return found

    def check_params(self, given: Mapping[str, Any]) -> None:
        known = self.params()
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise InvalidInput(
                f"pipeline {self.name!r} has no param {unknown[0]!r}",
                hint="its params are: " + (", ".join(sorted(known)) or "none"),
            )

    def check_steps(self, names: Iterable[str]) -> None:
        for n in names:
            if n not in self.by_name:
                raise InvalidInput(
                    f"pipeline {self.name!r} has no step {n!r}",
                    hint="its steps are: " + ", ".join(self.order),
                )


def load(path: str, *, fresh: bool = False) -> Pipeline:
    """The pipeline at ``module.path:attr`` (a :class:`Pipeline`, or a function
    returning one). ``fresh`` re-imports its top-level package, to pick up edited code
    (the worker does, before every run)."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidInput(
            f"{path!r} is not a pipeline path", hint="write it as module.path:attribute"
        )
    top = module_name.split(".")[0]
    # Grove's own modules are never re-imported: a second copy of this module would make
    # a second Pipeline class, and the pipeline it loads would not be "a Pipeline".
    if fresh and top != __name__.split(".")[0]:
        # The whole top-level package: a helper module beside the pipeline may have changed.
        for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            del sys.modules[name]
        importlib.invalidate_caches()
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInput(
            f"cannot import {module_name!r} for pipeline {path!r}: {exc}",
            hint="run from your project folder, or add it to PYTHONPATH",
        ) from exc
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InvalidInput(f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if callable(obj) and not isinstance(obj, Pipeline | Step):
        obj = obj()
    if not isinstance(obj, Pipeline):
        raise InvalidInput(
            f"{path!r} is a {type(obj).__name__}, not a Pipeline",
            hint="point at a mlgrove.pipelines.Pipeline object",
        )
    obj.path = path
    return obj
