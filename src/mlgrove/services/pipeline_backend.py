"""The engine's backend on a workspace: dataset inputs from the datasets service, the
step cache in the database (keys) and the object store (outputs)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from mlgrove.pipelines.engine import ResolvedInput
from mlgrove.pipelines.step import DatasetInput
from mlgrove.services import datasets as ds_service
from mlgrove.services import objects, splits
from mlgrove.services.context import Context
from mlgrove.services.pipeline_plain import input_label, split_address
from mlgrove.services.tracking import check_split
from mlgrove.store.models.pipelines import PipelineStepCacheRow
from mlgrove.store.objects import Stored


class WorkspaceBackend:
    """Implements :class:`mlgrove.pipelines.engine.Backend` for one service context."""

    def __init__(self, ctx: Context, project: str | None) -> None:
        self.ctx = ctx
        self.project = project
        # key -> address, read in one query per run (see prefetch)
        self._known: dict[str, str] = {}

    def prefetch(self, steps: Iterable[str]) -> None:
        """Read the cache entries of these steps in one query: a cached run then costs
        one round trip instead of one per step."""
        self._known.update(self.cache_entries(steps))

    def cache_entries(self, steps: Iterable[str]) -> dict[str, str]:
        """Cache key -> output address, for every entry of these steps."""
        names = list(steps)
        found: dict[str, str] = {}
        with self.ctx.db.read() as s:
            for i in range(0, len(names), 500):
                rows = s.execute(
                    select(PipelineStepCacheRow.key, PipelineStepCacheRow.address).where(
                        PipelineStepCacheRow.step.in_(names[i : i + 500])
                    )
                ).all()
                found.update({str(k): str(a) for k, a in rows})
        return found

    def resolve(self, ref: DatasetInput) -> ResolvedInput:
        ctx, project = self.ctx, self.project
        with ctx.db.read() as s:
            ds, _ = ds_service.dataset_row(s, ctx, project, ref.dataset)
            v = ds_service.version_row(s, ds, ref.version)
            address = v.address
            if ref.split is not None:
                check_split(s, v, ref.split)
                assignment = splits.current(s, v.id)
                assert assignment is not None  # check_split found the split
                address = split_address(v.address, ref.split, assignment.address)
            number, version_id = v.number, v.id
        name, split = ref.dataset, ref.split

        def load() -> Any:
            if split is not None:
                return splits.split_rows(ctx, name, f"v{number}", split, project)
            return ds_service.read_table(ctx, name, f"v{number}", project)

        label = input_label(name, number, split)
        return ResolvedInput(address=address, label=label, version_id=version_id, load=load)

    def cache_lookup(self, key: str) -> str | None:
        if key in self._known:
            return self._known[key]
        # Not prefetched: another run may have just saved it.
        with self.ctx.db.read() as s:
            return s.execute(
                select(PipelineStepCacheRow.address).where(PipelineStepCacheRow.key == key)
            ).scalar()

    def cache_load(self, address: str) -> bytes:
        return self.ctx.objects.get_bytes(address)

    def cache_save(self, step: str, key: str, data: bytes) -> str:
        # The bytes first, then the row naming them (a crash leaves an orphan, never a
        # key pointing at nothing). Two runs saving the same key is not a conflict.
        stored = self.ctx.objects.put_bytes(data)
        self.cache_register(step, key, stored)
        return stored.address

    def cache_register(self, step: str, key: str, stored: Stored) -> None:
        """Name stored bytes as the output of ``step`` under cache ``key``."""
        with self.ctx.db.write() as s:
            objects.register(s, stored, "pipeline-output")
            dialect = s.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            s.execute(
                insert(PipelineStepCacheRow)
                .values(
                    key=key,
                    step=step,
                    address=stored.address,
                    size=stored.size,
                    created_by=self.ctx.actor_label,
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
        self._known[key] = stored.address
