"""The datasets part of the SDK: ``grove.datasets.add(...)``, ``.read(...)``, ``.diff(...)``.

Both the embedded and the remote client implement this interface. Grouping the verbs
here keeps :class:`~mlgrove.client.base.Client` from growing every verb of the product.
"""

from __future__ import annotations

import abc
import builtins
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mlgrove.domain.datasets import Dataset, Split, Version

if TYPE_CHECKING:
    import pyarrow as pa


class Datasets(abc.ABC):
    @abc.abstractmethod
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
        """Commit a new version of table dataset ``name``.

        ``fmt`` names the file format when the extension does not; ``progress`` is
        called with the number of rows read as the input streams in.

        ``data`` is a file (.csv .tsv .parquet .jsonl), a pandas or polars DataFrame, or an
        Arrow table. Only chunks no version has yet are stored (and, remotely, sent).
        """

    @abc.abstractmethod
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
        """Commit a new version of table dataset ``name``: its latest version plus
        ``rows`` (a file, a DataFrame or an Arrow table) at the end.

        Costs the new rows, not the table: only the latest version's last chunk and the
        new rows are read. The columns must be the dataset's; in a keyed dataset a key
        that exists already is refused (the error names it).
        """

    @abc.abstractmethod
    def list(self, project: str | None = None) -> builtins.list[tuple[Dataset, Version | None]]:
        """Datasets of a project with their latest version."""

    @abc.abstractmethod
    def log(
        self, name: str, *, project: str | None = None, limit: int = 100
    ) -> builtins.list[Version]:
        """Versions, newest first."""

    @abc.abstractmethod
    def show(self, name: str, version: str = "latest", *, project: str | None = None) -> Version:
        """One version with its statistics."""

    @abc.abstractmethod
    def read(
        self,
        name: str,
        version: str = "latest",
        *,
        split: str | None = None,
        project: str | None = None,
    ) -> pa.Table:
        """A version's rows (or one split's) as an Arrow table; ``.to_pandas()`` for pandas."""

    @abc.abstractmethod
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
        """Added, removed and changed rows between two versions (counts and a page of rows)."""

    @abc.abstractmethod
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
        """Assign a version's rows to splits (by ratios and seed, or from a column)."""

    @abc.abstractmethod
    def leakage(self, name: str, version: str, *, project: str | None = None) -> dict[str, Any]:
        """Rows whose content appears in more than one split, with examples."""
