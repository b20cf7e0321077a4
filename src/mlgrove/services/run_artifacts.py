"""Artifact folders and reading artifacts back.

``run.log_artifact(folder)`` logs every file under the folder as one artifact each,
named ``<folder name>/<relative path>`` (``/`` separated on every system), all recorded
in one transaction: a folder is logged whole or not at all. Downloading a run's
artifacts, or those under one name, writes them back under a destination folder with
the same relative paths, so the tree comes back as it was logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.client import artifact_files as files_of
from mlgrove.domain.authz import Action
from mlgrove.domain.tracking import RunArtifact, RunStatus
from mlgrove.errors import Conflict, InvalidInput, NotFound, ObjectMissing
from mlgrove.services import lineage, objects, tracking
from mlgrove.services.context import Context
from mlgrove.store.models import RunArtifactRow
from mlgrove.store.objects import Stored, check_address

NAME_MAX = files_of.NAME_MAX


def _check_running(session: Session, run_id: int) -> None:
    row = tracking.run_row(session, run_id)
    if row.status != RunStatus.RUNNING:
        raise Conflict(
            f"run {run_id} is {row.status}: it takes no more params, metrics or artifacts",
            hint="start a new run",
        )


def record(ctx: Context, run_id: int, items: Sequence[tuple[str, Stored]]) -> list[RunArtifact]:
    """Record stored objects as artifacts of a running run, all in one transaction."""
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        raise InvalidInput("two artifacts would have the same name")
    with ctx.db.write() as s:
        _check_running(s, run_id)
        taken = set(
            s.scalars(
                select(RunArtifactRow.path).where(
                    RunArtifactRow.run_id == run_id, RunArtifactRow.path.in_(names)
                )
            )
        )
        if taken:
            first = sorted(taken)[0]
            raise Conflict(
                f"run {run_id} already has an artifact named {first!r}",
                hint="log it under another name",
            )
        objects.register_many(s, [st for _, st in items], "artifact")
        rows = []
        for name, st in items:
            row = RunArtifactRow(run_id=run_id, path=name, address=st.address, size=st.size)
            s.add(row)
            rows.append(row)
            lineage.record(
                s, tracking.run_node(run_id), "output", ("object", st.address), {"artifact": name}
            )
        s.flush()
        return [
            RunArtifact(path=r.path, address=r.address, size=r.size, created_at=r.created_at)
            for r in rows
        ]


def log_tree(ctx: Context, run_id: int, folder: Path, name: str | None = None) -> list[RunArtifact]:
    """Every file under ``folder`` as an artifact ``<name or folder name>/<relative path>``."""
    ctx.require(Action.WRITE_DATA)
    folder = Path(folder)
    files = files_of.tree_files(folder, files_of.folder_prefix(folder, name))
    with ctx.db.read() as s:
        _check_running(s, run_id)  # fail before copying bytes
    with ctx.objects.batch():  # one durability barrier for the whole folder
        stored = [(label, ctx.objects.put_file(path)) for path, label in files]
    return record(ctx, run_id, stored)


def log_uploaded(ctx: Context, run_id: int, items: Sequence[tuple[str, str]]) -> list[RunArtifact]:
    """Record objects a remote client uploaded (``(name, address)`` pairs) as artifacts."""
    ctx.require(Action.WRITE_DATA)
    if not items:
        raise InvalidInput("no artifacts to record")
    stored = []
    for name, address in items:
        check_name(name)
        check_address(address)
        if not ctx.objects.exists(address):
            raise InvalidInput(
                f"object {address} is not in the store",
                hint="upload it first with PUT /api/v1/objects/{address}",
            )
        stored.append((name, Stored(address=address, size=ctx.objects.size(address), new=False)))
    return record(ctx, run_id, stored)


def check_name(name: str) -> str:
    if not name or len(name) > NAME_MAX:
        raise InvalidInput(f"an artifact name needs 1-{NAME_MAX} characters")
    return name


def list_artifacts(ctx: Context, run_id: int, path: str | None = None) -> list[RunArtifact]:
    """A run's artifacts: all, or the one named ``path`` and those under ``path/``."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        tracking.run_row(s, run_id)
        query = select(RunArtifactRow).where(RunArtifactRow.run_id == run_id)
        if path:
            prefix = path.rstrip("/")
            query = query.where(
                (RunArtifactRow.path == prefix) | RunArtifactRow.path.startswith(prefix + "/")
            )
        rows = s.scalars(query.order_by(RunArtifactRow.path)).all()
        found = [
            RunArtifact(path=r.path, address=r.address, size=r.size, created_at=r.created_at)
            for r in rows
        ]
    if path and not found:
        raise NotFound(
            f"run {run_id} has no artifact {path!r}", hint="`mlgrove runs show` lists them"
        )
    return found


def open_artifact(ctx: Context, run_id: int, path: str) -> tuple[RunArtifact, IO[bytes]]:
    """One artifact and its bytes, open for reading (the caller closes it)."""
    found = [a for a in list_artifacts(ctx, run_id, path) if a.path == path]
    if not found:
        raise NotFound(f"run {run_id} has no artifact file {path!r}", hint="it names a folder")
    try:
        return found[0], ctx.objects.open(found[0].address)
    except ObjectMissing:
        raise ObjectMissing(
            f"artifact {path!r} of run {run_id} names object {found[0].address}, "
            "which is not in the store",
            hint="run `mlgrove fsck`",
        ) from None


def download(ctx: Context, run_id: int, dest: Path, path: str | None = None) -> list[Path]:
    """Write a run's artifacts (all, or ``path`` and what is under it) below ``dest``,
    keeping their names as relative paths. Returns the files written."""
    wanted = list_artifacts(ctx, run_id, path)
    targets = [(a, files_of.relative_target(Path(dest), a.path)) for a in wanted]
    written = []
    for artifact, target in targets:
        with ctx.objects.open(artifact.address) as src:
            files_of.write_file(target, src)
        written.append(target)
    return written
