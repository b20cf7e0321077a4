"""Rotations: an engineer spends a while in another team or project, for career discovery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Rotation:
    id: int
    person: str
    home_team: str | None
    host_team: str
    project: str
    starts_on: date
    ends_on: date
    goals: tuple[str, ...]
    reflection: str
    created_by: str
