"""Design reviews and presentations across teams, and the registry of projects and designs.

Adding a design shows the existing ones it resembles (TF-IDF cosine over title and
summary, ``domain/similarity.py``) and those that use the same datasets, so two teams
find out they are building the same thing before they both build it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain import help_requests as text_rules
from mlgrove.domain import similarity
from mlgrove.domain.clock import utcnow
from mlgrove.domain.designs import (
    Design,
    DesignFeedback,
    DesignMatches,
    DesignReview,
    ReviewKind,
    SimilarDesign,
    check_url,
)
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import audit
from mlgrove.services.context import Context
from mlgrove.services.programs import (
    own_team,
    participant,
    person_row,
    team_names,
    team_row,
    usernames,
)
from mlgrove.store.models import DatasetRow, ProjectRow
from mlgrove.store.models.growth_programs import DesignFeedbackRow, DesignReviewRow, DesignRow

LIST_MAX = 500


def _design(row: DesignRow, teams: dict[int, str]) -> Design:
    return Design(
        id=row.id,
        title=row.title,
        summary=row.summary,
        team=teams.get(row.team_id, ""),
        doc_url=row.doc_url,
        datasets=tuple(row.datasets),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _datasets(s: Session, refs: Sequence[str]) -> list[str]:
    """``project/dataset`` references, each checked to exist."""
    found = []
    for ref in refs:
        ref = ref.strip()
        if not ref:
            continue
        project, sep, name = ref.partition("/")
        if not sep:
            raise InvalidInput(f"dataset {ref!r} is not project/name", hint="e.g. vision/parts")
        exists = s.scalar(
            select(DatasetRow.id)
            .join(ProjectRow, ProjectRow.id == DatasetRow.project_id)
            .where(ProjectRow.name == project, DatasetRow.name == name)
        )
        if exists is None:
            raise NotFound(f"no dataset {ref!r}", hint="`mlgrove data list` shows datasets")
        if ref not in found:
            found.append(ref)
    return found


def _similar(
    s: Session, text: str, datasets: Sequence[str], *, exclude: int | None = None
) -> list[SimilarDesign]:
    teams = team_names(s)
    rows = [r for r in s.scalars(select(DesignRow).order_by(DesignRow.id)) if r.id != exclude]
    by_id = {r.id: r for r in rows}
    scores = {
        m.key: m.score
        for m in similarity.similar(text, [(r.id, f"{r.title}\n{r.summary}") for r in rows])
    }
    wanted = set(datasets)
    shared = {r.id: tuple(d for d in r.datasets if d in wanted) for r in rows}
    ids = set(scores) | {i for i, d in shared.items() if d}
    found = [SimilarDesign(_design(by_id[i], teams), scores.get(i, 0.0), shared[i]) for i in ids]
    found.sort(key=lambda x: (-x.score, -len(x.shared_datasets), x.design.id))
    return found[: similarity.TOP * 2]


def add_design(
    ctx: Context,
    title: str,
    summary: str,
    *,
    team: str | None = None,
    doc_url: str = "",
    datasets: Sequence[str] = (),
) -> DesignMatches:
    """Register a project or design, and see the existing ones it resembles."""
    participant(ctx)
    clean_title = text_rules.text(title, "title", limit=200)
    clean_summary = text_rules.text(summary, "summary")
    url = check_url(doc_url)
    with ctx.db.write() as s:
        t = own_team(s, ctx, team)
        refs = _datasets(s, datasets)
        similar = _similar(s, f"{clean_title}\n{clean_summary}", refs)
        row = DesignRow(
            title=clean_title,
            summary=clean_summary,
            team_id=t.id,
            doc_url=url,
            datasets=refs,
            created_by=ctx.actor_label,
        )
        s.add(row)
        s.flush()
        audit.record(s, ctx.actor_label, "design.add", f"design:{row.id}", clean_title[:100])
        return DesignMatches(_design(row, team_names(s)), tuple(similar))


def similar_designs(
    ctx: Context, text: str, *, datasets: Sequence[str] = ()
) -> list[SimilarDesign]:
    """Existing designs like ``text`` (or using one of ``datasets``), most similar first."""
    participant(ctx)
    clean = text_rules.text(text, "text to compare")
    with ctx.db.read() as s:
        return _similar(s, clean, _datasets(s, datasets))


def list_designs(ctx: Context, *, team: str | None = None, limit: int = 200) -> list[Design]:
    participant(ctx)
    query = select(DesignRow).order_by(DesignRow.id.desc()).limit(min(limit, LIST_MAX))
    with ctx.db.read() as s:
        if team:
            query = query.where(DesignRow.team_id == team_row(s, team).id)
        teams = team_names(s)
        return [_design(r, teams) for r in s.scalars(query)]


def get_design(ctx: Context, design_id: int) -> DesignMatches:
    """A design and the others like it."""
    participant(ctx)
    with ctx.db.read() as s:
        row = s.get(DesignRow, design_id)
        if row is None:
            raise NotFound(f"no design {design_id}", hint="`mlgrove designs list` shows them")
        similar = _similar(s, f"{row.title}\n{row.summary}", row.datasets, exclude=row.id)
        return DesignMatches(_design(row, team_names(s)), tuple(similar))


# -- reviews and presentations -------------------------------------------------------------


def _review(s: Session, row: DesignReviewRow) -> DesignReview:
    teams = team_names(s)
    feedback = list(
        s.scalars(
            select(DesignFeedbackRow)
            .where(DesignFeedbackRow.review_id == row.id)
            .order_by(DesignFeedbackRow.id)
        )
    )
    names = usernames(
        s,
        {row.presenter_id, *row.attendees}
        | {f.author_id for f in feedback if f.author_id is not None},
    )
    return DesignReview(
        id=row.id,
        kind=ReviewKind(row.kind),
        title=row.title,
        abstract=row.abstract,
        doc_url=row.doc_url,
        presenter=names.get(row.presenter_id, "?"),
        team=teams.get(row.team_id, ""),
        scheduled_at=row.scheduled_at,
        design_id=row.design_id,
        invited_teams=tuple(teams[t] for t in row.invited_teams if t in teams),
        attendees=tuple(names[p] for p in row.attendees if p in names),
        feedback=tuple(
            DesignFeedback(
                f.id,
                names.get(f.author_id, "(deleted)") if f.author_id else "(deleted)",
                f.body,
                f.at,
            )
            for f in feedback
        ),
        created_by=row.created_by,
    )


def _review_row(s: Session, review_id: int) -> DesignReviewRow:
    row = s.get(DesignReviewRow, review_id)
    if row is None:
        raise NotFound(f"no design review {review_id}", hint="the designs page lists them")
    return row


def schedule_review(
    ctx: Context,
    title: str,
    scheduled_at: datetime,
    *,
    kind: str = ReviewKind.DESIGN_REVIEW.value,
    abstract: str = "",
    doc_url: str = "",
    presenter: str | None = None,
    team: str | None = None,
    invite: Sequence[str] = (),
    design_id: int | None = None,
) -> DesignReview:
    """Schedule a design review or presentation and invite other teams."""
    participant(ctx)
    try:
        k = ReviewKind(kind)
    except ValueError:
        raise InvalidInput(
            f"unknown kind {kind!r}", hint="use design-review or presentation"
        ) from None
    if scheduled_at.tzinfo is None:
        raise InvalidInput("the time needs a timezone", hint="e.g. 2026-12-04T15:00Z")
    clean_title = text_rules.text(title, "title", limit=200)
    clean_abstract = text_rules.text(abstract, "abstract", required=False)
    url = check_url(doc_url)
    with ctx.db.write() as s:
        t = own_team(s, ctx, team)
        who = person_row(s, presenter) if presenter else None
        presenter_id = who.id if who else ctx.actor.id
        if design_id is not None and s.get(DesignRow, design_id) is None:
            raise NotFound(f"no design {design_id}", hint="`mlgrove designs list` shows them")
        invited = []
        for name in invite:
            other = team_row(s, name)
            if other.id != t.id and other.id not in invited:
                invited.append(other.id)
        row = DesignReviewRow(
            kind=k.value,
            title=clean_title,
            abstract=clean_abstract,
            doc_url=url,
            presenter_id=presenter_id,
            team_id=t.id,
            scheduled_at=scheduled_at,
            design_id=design_id,
            invited_teams=invited,
            attendees=[],
            created_by=ctx.actor_label,
        )
        s.add(row)
        s.flush()
        audit.record(
            s, ctx.actor_label, "design.review.schedule", f"review:{row.id}", clean_title[:100]
        )
        return _review(s, row)


def list_reviews(ctx: Context, *, upcoming: bool = False, limit: int = 100) -> list[DesignReview]:
    participant(ctx)
    query = select(DesignReviewRow)
    if upcoming:
        query = query.where(DesignReviewRow.scheduled_at >= utcnow()).order_by(
            DesignReviewRow.scheduled_at
        )
    else:
        query = query.order_by(DesignReviewRow.scheduled_at.desc())
    with ctx.db.read() as s:
        return [_review(s, r) for r in s.scalars(query.limit(min(limit, LIST_MAX)))]


def get_review(ctx: Context, review_id: int) -> DesignReview:
    participant(ctx)
    with ctx.db.read() as s:
        return _review(s, _review_row(s, review_id))


def invite_teams(ctx: Context, review_id: int, teams: Sequence[str]) -> DesignReview:
    participant(ctx)
    with ctx.db.write() as s:
        row = _review_row(s, review_id)
        invited = list(row.invited_teams)
        for name in teams:
            t = team_row(s, name)
            if t.id != row.team_id and t.id not in invited:
                invited.append(t.id)
        row.invited_teams = invited
        return _review(s, row)


def attend(ctx: Context, review_id: int, people: Sequence[str] = ()) -> DesignReview:
    """Record attendance: oneself, or (presenter, organiser) the named people."""
    me = participant(ctx)
    with ctx.db.write() as s:
        row = _review_row(s, review_id)
        ids = [me.id]
        if people:
            if me.id != row.presenter_id and ctx.actor_label != row.created_by:
                raise InvalidInput(
                    "only the presenter or organiser records others' attendance",
                    hint="record your own with no names",
                )
            ids = [person_row(s, p).id for p in people]
        row.attendees = list(dict.fromkeys([*row.attendees, *ids]))
        return _review(s, row)


def add_feedback(ctx: Context, review_id: int, body: str) -> DesignReview:
    """Written feedback on a design review (it is about the design, and seen by all)."""
    me = participant(ctx)
    clean = text_rules.text(body, "feedback")
    with ctx.db.write() as s:
        row = _review_row(s, review_id)
        s.add(DesignFeedbackRow(review_id=row.id, author_id=me.id, body=clean, at=utcnow()))
        s.flush()
        return _review(s, row)
