"""Health and identity."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.requests import Request

from mlgrove._version import __version__
from mlgrove.domain.people import Person
from mlgrove.server.api.schemas import Health, PersonOut
from mlgrove.server.deps import current_person, runtime
from mlgrove.store import schema

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
def health(request: Request) -> Health:
    """Liveness and readiness: answers 503 (problem+json) when the database is unreachable."""
    rt = runtime(request)
    rt.db.check()
    return Health(
        status="ok",
        version=__version__,
        database=rt.db.engine.dialect.name,
        schema=schema.current_revision(rt.db),
    )


@router.get("/me", response_model=PersonOut)
async def me(person: Person = Depends(current_person)) -> PersonOut:
    """The person the request authenticates as."""
    return PersonOut.of(person)
