"""The demo workspace: two teams with people in every role, and the whole loop.

The people, teams and projects are made here; the loop itself (digits -> pipeline ->
review -> corrections -> retrain, and the team layer around it) is told by
:mod:`mlgrove.services.demo_story`. Building is idempotent: running the demo twice reuses
what exists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlgrove.domain.people import LOCAL_ADMIN, Role
from mlgrove.errors import Conflict
from mlgrove.services import datasets, demo_data, demo_story, people, projects, splits, table_commit
from mlgrove.services.context import Runtime
from mlgrove.services.workspace import init_workspace
from mlgrove.workspace import GROVE_DIR, Workspace

DEMO_PASSWORD = "grove-demo"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    role: Role
    team: str
    manager: str | None = None


TEAMS = [
    ("Applied ML", "Builds and runs the support-triage and defect-detection models."),
    ("Platform", "Keeps training infrastructure and data pipelines healthy."),
]
PEOPLE = [
    DemoPerson("ada", "Ada Admin", Role.ADMIN, "Platform"),
    DemoPerson("maya", "Maya Manager", Role.MANAGER, "Applied ML"),
    DemoPerson("eli", "Eli Engineer", Role.ENGINEER, "Applied ML", manager="maya"),
    DemoPerson("jun", "Jun Junior", Role.ENGINEER, "Applied ML", manager="maya"),
    DemoPerson("sam", "Sam Senior", Role.ENGINEER, "Applied ML", manager="maya"),
    DemoPerson("rita", "Rita Reviewer", Role.REVIEWER, "Applied ML", manager="maya"),
    DemoPerson("rosa", "Rosa Reviewer", Role.REVIEWER, "Applied ML", manager="maya"),
    DemoPerson("pat", "Pat Platform-lead", Role.MANAGER, "Platform"),
    DemoPerson("omar", "Omar Staff-engineer", Role.ENGINEER, "Platform", manager="pat"),
    DemoPerson("lin", "Lin Engineer", Role.ENGINEER, "Platform", manager="pat"),
]
PROJECTS = [
    ("support-triage", "Applied ML", "Routes incoming support tickets to the right queue."),
    ("defect-detection", "Applied ML", "Finds scratches and dents in product photos."),
    (demo_story.PROJECT, "Applied ML", "Reads handwritten digits (scikit-learn's digits)."),
]


def build_demo(
    root: Path, progress: Callable[[str], None] | None = None
) -> tuple[Workspace, demo_story.StoryCounts]:
    """Make (or reuse) a demo workspace at ``root``: the demo team, then the story.

    ``progress`` receives one line per chapter of the story as it happens.
    """
    say = progress or (lambda _line: None)
    ws = Workspace(root.resolve()) if (root / GROVE_DIR).is_dir() else init_workspace(root)
    runtime = Runtime.open(ws.settings())
    try:
        ctx = runtime.as_actor(LOCAL_ADMIN)
        existing_teams = {t.name for t in people.list_teams(ctx)}
        for name, description in TEAMS:
            if name not in existing_teams:
                people.create_team(ctx, name, description)
        existing_people = {p.username for p in people.list_people(ctx)}
        for p in PEOPLE:
            if p.username not in existing_people:
                people.create_person(
                    ctx,
                    p.username,
                    role=p.role,
                    password=DEMO_PASSWORD,
                    display_name=p.display_name,
                    email=f"{p.username}@grove.example",
                    team=p.team,
                    manager=p.manager,
                )
        existing_projects = {p.name for p in projects.list_projects(ctx)}
        for name, team, description in PROJECTS:
            if name not in existing_projects:
                # Conflict: made concurrently by another demo process.
                with contextlib.suppress(Conflict):
                    projects.create_project(ctx, name, team=team, description=description)
        say(f"{len(PEOPLE)} people in {len(TEAMS)} teams, {len(PROJECTS)} projects")
        _demo_datasets(runtime)
        say("support tickets v1 and v2 (synthetic demo data)")
        told = demo_story.tell(runtime, say)
    finally:
        runtime.close()
    return ws, told


def _demo_datasets(runtime: Runtime) -> None:
    """Support tickets with a train/test split, then a corrected second version."""
    eli = runtime.as_actor(
        next(p for p in people.list_people(runtime.as_actor(LOCAL_ADMIN)) if p.username == "eli")
    )
    if any(d.name == "tickets" for d, _ in datasets.list_datasets(eli, "support-triage")):
        return
    first = demo_data.tickets(20_000)
    table_commit.commit(
        eli,
        "tickets",
        first,
        project="support-triage",
        key=["id"],
        label="label",
        message="Export of last quarter's tickets (synthetic demo data)",
    )
    splits.split(
        eli, "tickets", "v1", ratios={"train": 0.8, "test": 0.2}, seed=42, project="support-triage"
    )
    table_commit.commit(
        eli,
        "tickets",
        demo_data.corrected(first),
        project="support-triage",
        message="Reviewed labels corrected, withdrawn tickets removed, new tickets added",
    )
