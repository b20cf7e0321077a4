"""The model registry: models, versions made from a run's artifact, and aliases.

Every alias move (set, move, delete) is kept as an :class:`AliasEvent` and in the audit
log, so "what was in production last Tuesday, and who put it there" has an answer.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlgrove.domain import names
from mlgrove.domain import tracking as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.tracking import AliasEvent, Model, ModelVersion
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import audit, lineage
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.services.tracking import run_node, run_row
from mlgrove.store.models import (
    AliasEventRow,
    ModelAliasRow,
    ModelRow,
    ModelVersionRow,
    ProjectRow,
    RunArtifactRow,
)


def model_row(session: Session, ctx: Context, project: str | None, name: str) -> ModelRow:
    proj = ds_service.resolve_project(session, ctx, project)
    row = session.scalar(
        select(ModelRow).where(ModelRow.project_id == proj.id, ModelRow.name == name)
    )
    if row is None:
        raise NotFound(
            f"no model named {name!r} in project {proj.name!r}",
            hint="`mlgrove models list` shows them",
        )
    return row


def _aliases_by_version(session: Session, model_id: int) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for a in session.scalars(
        select(ModelAliasRow)
        .where(ModelAliasRow.model_id == model_id)
        .order_by(ModelAliasRow.alias)
    ):
        found.setdefault(a.version_id, []).append(a.alias)
    return found


def version_value(
    row: ModelVersionRow, model: str, aliases: list[str] | None = None
) -> ModelVersion:
    return ModelVersion(
        model=model,
        number=row.number,
        run_id=row.run_id,
        artifact=row.artifact,
        address=row.address,
        created_by=row.created_by,
        created_at=row.created_at,
        aliases=list(aliases or []),
    )


def resolve_row(
    session: Session, ctx: Context, ref: str, project: str | None = None
) -> tuple[ModelRow, ModelVersionRow]:
    """``name`` (latest version), ``name/v3`` or ``name@alias`` to its rows."""
    parsed = rules.parse_model_ref(ref)
    model = model_row(session, ctx, project, parsed.model)
    query = select(ModelVersionRow).where(ModelVersionRow.model_id == model.id)
    if parsed.alias is not None:
        alias = session.scalar(
            select(ModelAliasRow).where(
                ModelAliasRow.model_id == model.id, ModelAliasRow.alias == parsed.alias
            )
        )
        if alias is None:
            raise NotFound(
                f"model {model.name!r} has no alias {parsed.alias!r}",
                hint=f"`mlgrove models show {model.name}` lists its aliases",
            )
        version = session.get_one(ModelVersionRow, alias.version_id)
    elif parsed.number is not None:
        found = session.scalar(query.where(ModelVersionRow.number == parsed.number))
        if found is None:
            raise NotFound(
                f"model {model.name!r} has no version v{parsed.number}",
                hint=f"`mlgrove models show {model.name}` lists its versions",
            )
        version = found
    else:
        latest = session.scalar(query.order_by(ModelVersionRow.number.desc()).limit(1))
        if latest is None:
            raise NotFound(f"model {model.name!r} has no versions yet")
        version = latest
    return model, version


def register(
    ctx: Context, name: str, run_id: int, artifact: str, *, project: str | None = None
) -> ModelVersion:
    """A new version of model ``name`` (made on first use) from a run's artifact."""
    ctx.require(Action.WRITE_DATA)
    names.name(name, "model")
    with ctx.db.write() as s:
        run = run_row(s, run_id)
        proj = (
            ds_service.resolve_project(s, ctx, project)
            if project
            else s.get_one(ProjectRow, run.project_id)
        )
        art = s.scalar(
            select(RunArtifactRow).where(
                RunArtifactRow.run_id == run_id, RunArtifactRow.path == artifact
            )
        )
        if art is None:
            raise NotFound(
                f"run {run_id} has no artifact {artifact!r}",
                hint="log it first with run.log_artifact(path)",
            )
        model = s.scalar(
            select(ModelRow).where(ModelRow.project_id == proj.id, ModelRow.name == name)
        )
        if model is None:
            model = ModelRow(project_id=proj.id, name=name, created_by=ctx.actor_label)
            s.add(model)
            s.flush()
        number = (
            s.scalar(
                select(func.max(ModelVersionRow.number)).where(ModelVersionRow.model_id == model.id)
            )
            or 0
        ) + 1
        row = ModelVersionRow(
            model_id=model.id,
            number=number,
            run_id=run_id,
            artifact=art.path,
            address=art.address,
            created_by=ctx.actor_label,
        )
        s.add(row)
        s.flush()
        lineage.record(
            s,
            run_node(run_id),
            "output",
            ("model_version", str(row.id)),
            {"model": name, "version": number, "artifact": art.path},
        )
        audit.record(
            s, ctx.actor_label, "model.register", f"model_version:{row.id}", f"{name}/v{number}"
        )
        return version_value(row, name)


def resolve(ctx: Context, ref: str, project: str | None = None) -> ModelVersion:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        model, version = resolve_row(s, ctx, ref, project)
        return version_value(version, model.name, _aliases_by_version(s, model.id).get(version.id))


def set_alias(
    ctx: Context, name: str, alias: str, version: str, *, project: str | None = None
) -> AliasEvent | None:
    """Point ``alias`` at a version (``3``, ``v3`` or another ``@alias``); None if it
    already did. The move is kept in the alias history and the audit log."""
    ctx.require(Action.WRITE_DATA)
    rules.alias(alias)
    ref = version if version.startswith("@") else f"/{version}"
    with ctx.db.write() as s:
        try:
            model, target = resolve_row(s, ctx, f"{name}{ref}", project)
        except InvalidInput as exc:
            raise InvalidInput(
                f"{version!r} does not name a version of {name!r}",
                hint="use a number (3 or v3) or another alias (@production)",
            ) from exc
        current = s.scalar(
            select(ModelAliasRow).where(
                ModelAliasRow.model_id == model.id, ModelAliasRow.alias == alias
            )
        )
        before: int | None = None
        if current is not None:
            if current.version_id == target.id:
                return None
            before = s.get_one(ModelVersionRow, current.version_id).number
            current.version_id = target.id
        else:
            s.add(ModelAliasRow(model_id=model.id, alias=alias, version_id=target.id))
        return _moved(s, ctx, model, alias, before, target.number)


def delete_alias(ctx: Context, name: str, alias: str, *, project: str | None = None) -> AliasEvent:
    ctx.require(Action.WRITE_DATA)
    with ctx.db.write() as s:
        model = model_row(s, ctx, project, name)
        current = s.scalar(
            select(ModelAliasRow).where(
                ModelAliasRow.model_id == model.id, ModelAliasRow.alias == alias
            )
        )
        if current is None:
            raise NotFound(f"model {name!r} has no alias {alias!r}")
        before = s.get_one(ModelVersionRow, current.version_id).number
        s.delete(current)
        return _moved(s, ctx, model, alias, before, None)


def _moved(
    s: Session, ctx: Context, model: ModelRow, alias: str, before: int | None, after: int | None
) -> AliasEvent:
    event = AliasEventRow(
        model_id=model.id,
        alias=alias,
        from_version=before,
        to_version=after,
        actor=ctx.actor_label,
    )
    s.add(event)
    s.flush()
    where = f"{model.name}@{alias}"
    if after is None:
        audit.record(
            s,
            ctx.actor_label,
            "model.alias.delete",
            f"model:{model.id}",
            f"{where} (was v{before})",
        )
    else:
        was = f"v{before}" if before is not None else "unset"
        audit.record(
            s,
            ctx.actor_label,
            "model.alias.set",
            f"model:{model.id}",
            f"{where}: {was} -> v{after}",
        )
    return AliasEvent(
        alias=alias, from_version=before, to_version=after, actor=event.actor, at=event.at
    )


def list_models(ctx: Context, project: str | None = None) -> list[Model]:
    """Models of a project with their aliases (versions: see :func:`get_model`)."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        proj = ds_service.resolve_project(s, ctx, project)
        rows = s.scalars(
            select(ModelRow).where(ModelRow.project_id == proj.id).order_by(ModelRow.name)
        ).all()
        return [_model_value(s, r, proj.name, full=False) for r in rows]


def get_model(ctx: Context, name: str, project: str | None = None) -> Model:
    """A model with its versions (newest first), aliases and alias history (newest first)."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        row = model_row(s, ctx, project, name)
        return _model_value(s, row, s.get_one(ProjectRow, row.project_id).name, full=True)


def _model_value(s: Session, row: ModelRow, project: str, *, full: bool) -> Model:
    versions = s.scalars(
        select(ModelVersionRow)
        .where(ModelVersionRow.model_id == row.id)
        .order_by(ModelVersionRow.number.desc())
    ).all()
    by_id = {v.id: v.number for v in versions}
    tagged = _aliases_by_version(s, row.id)
    aliases = {a: by_id[vid] for vid, names_ in tagged.items() for a in names_}
    history: list[AliasEvent] = []
    if full:
        history = [
            AliasEvent(
                alias=e.alias,
                from_version=e.from_version,
                to_version=e.to_version,
                actor=e.actor,
                at=e.at,
            )
            for e in s.scalars(
                select(AliasEventRow)
                .where(AliasEventRow.model_id == row.id)
                .order_by(AliasEventRow.id.desc())
            )
        ]
    return Model(
        id=row.id,
        project=project,
        name=row.name,
        created_at=row.created_at,
        aliases=dict(sorted(aliases.items())),
        versions=[version_value(v, row.name, tagged.get(v.id)) for v in versions] if full else [],
        alias_history=history,
    )
