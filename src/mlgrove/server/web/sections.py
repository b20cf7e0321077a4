"""Placeholder pages for areas still being built: what each will hold and how to fill it."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from mlgrove.server.web.pages import render
from mlgrove.services import projects
from mlgrove.services.context import Context

# What each section will hold, and how to put something there from the CLI or SDK. The
# pages list the real projects; the capability issues fill in the rest. (Data has its
# own pages: data_views.py.)
SECTIONS: dict[str, dict[str, str]] = {
    "runs": {
        "title": "Runs",
        "lead": "Training and evaluation runs: parameters, metrics and the exact data versions they used.",
    },
    "models": {
        "title": "Models",
        "lead": "Registered model versions, their aliases and their evaluations on tracked test sets.",
    },
    "pipelines": {
        "title": "Pipelines",
        "lead": "Featurize, train and evaluate as cached steps; retraining triggered by what changed.",
    },
    "review": {
        "title": "Review",
        "lead": "Queues where people validate model output; their corrections flow back into the data.",
    },
}


def section_page(request: Request, key: str, ctx: Context) -> Response:
    return render(
        request,
        "section.html",
        {"section": SECTIONS[key], "key": key, "projects": projects.list_projects(ctx)},
    )
