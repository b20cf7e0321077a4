"""Lineage: typed edges recording what came from what."""

from __future__ import annotations

from typing import Any

import blake3
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mlgrove.domain.authz import Action
from mlgrove.domain.datasets import LineageEdge
from mlgrove.services.context import Context
from mlgrove.store.models import LineageEdgeRow

ID_MAX = 200  # the width of lineage_edges.from_id / to_id


def node_id(text: str) -> str:
    """A node id that fits the column: long ones (deep paths) keep their end, the most
    telling part, plus a hash of the whole so they stay unique."""
    if len(text) <= ID_MAX:
        return text
    digest = blake3.blake3(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"…{text[-(ID_MAX - 18) :]}#{digest}"


def record(
    session: Session,
    source: tuple[str, str],
    relation: str,
    target: tuple[str, str],
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an edge inside the caller's transaction (it commits with the change)."""
    session.add(
        LineageEdgeRow(
            from_kind=source[0],
            from_id=source[1],
            relation=relation,
            to_kind=target[0],
            to_id=target[1],
            detail=detail or {},
        )
    )


def _edge(row: LineageEdgeRow) -> LineageEdge:
    return LineageEdge(
        from_kind=row.from_kind,
        from_id=row.from_id,
        relation=row.relation,
        to_kind=row.to_kind,
        to_id=row.to_id,
        detail=row.detail,
        created_at=row.created_at,
    )


def edges_of(ctx: Context, kind: str, node_id: str, *, depth: int = 3) -> list[LineageEdge]:
    """Edges reachable from a node in either direction, up to ``depth`` steps."""
    ctx.require(Action.VIEW_PROJECTS)
    seen: set[int] = set()
    frontier = {(kind, node_id)}
    visited = set(frontier)
    found: list[LineageEdge] = []
    with ctx.db.read() as s:
        for _ in range(depth):
            if not frontier:
                break
            conditions = [
                or_(
                    (LineageEdgeRow.from_kind == k) & (LineageEdgeRow.from_id == i),
                    (LineageEdgeRow.to_kind == k) & (LineageEdgeRow.to_id == i),
                )
                for k, i in frontier
            ]
            rows = s.scalars(
                select(LineageEdgeRow).where(or_(*conditions)).order_by(LineageEdgeRow.id)
            ).all()
            next_frontier: set[tuple[str, str]] = set()
            for row in rows:
                if row.id in seen:
                    continue
                seen.add(row.id)
                found.append(_edge(row))
                for node in ((row.from_kind, row.from_id), (row.to_kind, row.to_id)):
                    if node not in visited:
                        visited.add(node)
                        next_frontier.add(node)
            frontier = next_frontier
    return found
