"""The embedded implementation of :class:`mlgrove.client.datasets.Datasets`."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from mlgrove.client.datasets import Datasets
from mlgrove.domain.datasets import Dataset, Split, Version
from mlgrove.services import datasets, splits, table_append, table_commit, table_diff
from mlgrove.services.context import Context


class EmbeddedDatasets(Datasets):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def add(
        self,
        name: str,
        data: str | os.PathLike[str] | Any,
        *,
        key: Sequence[str] | None = None,
        label: str | None = None,
        message: str = "",
        project: str | None = None,
        allow_schema_change: bool = False,
        fmt: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Version:
        return table_commit.commit(
            self.ctx,
            name,
            data,
            project=project,
            key=key,
            label=label,
            message=message,
            allow_schema_change=allow_schema_change,
            fmt=fmt,
            progress=progress,
        )

    def append(
        self,
        name: str,
        rows: str | os.PathLike[str] | Any,
        *,
        message: str = "",
        project: str | None = None,
        fmt: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Version:
        return table_append.append(
            self.ctx, name, rows, project=project, message=message, fmt=fmt, progress=progress
        )

    def list(self, project: str | None = None) -> builtins.list[tuple[Dataset, Version | None]]:
        return datasets.list_datasets(self.ctx, project)

    def log(
        self, name: str, *, project: str | None = None, limit: int = 100
    ) -> builtins.list[Version]:
        return datasets.log(self.ctx, name, project, limit=limit)

    def show(self, name: str, version: str = "latest", *, project: str | None = None) -> Version:
        return datasets.show(self.ctx, name, version, project)

    def read(
        self,
        name: str,
        version: str = "latest",
        *,
        split: str | None = None,
        project: str | None = None,
    ) -> pa.Table:
        if split is not None:
            return splits.split_rows(self.ctx, name, version, split, project)
        return datasets.read_table(self.ctx, name, version, project)

    def diff(
        self,
        name: str,
        old: str,
        new: str,
        *,
        project: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        return table_diff.diff(
            self.ctx, name, old, new, project=project, limit=limit, offset=offset
        )

    def split(
        self,
        name: str,
        version: str,
        *,
        ratios: dict[str, float] | None = None,
        seed: int = 0,
        column: str | None = None,
        project: str | None = None,
    ) -> Split:
        return splits.split(
            self.ctx, name, version, ratios=ratios, seed=seed, column=column, project=project
        )

    def leakage(self, name: str, version: str, *, project: str | None = None) -> dict[str, Any]:
        return splits.leakage(self.ctx, name, version, project)
