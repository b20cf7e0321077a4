"""The runtime (database + object store + settings) and the per-call context (who acts)."""

from __future__ import annotations

from dataclasses import dataclass

from mlgrove.config import Settings
from mlgrove.domain.authz import Action, allowed
from mlgrove.domain.people import Person
from mlgrove.errors import PermissionDenied, SchemaOutdated
from mlgrove.store import schema
from mlgrove.store.db import Database
from mlgrove.store.objects import ObjectStore, open_object_store

__all__ = ["Context", "Runtime"]


@dataclass
class Runtime:
    """Everything a service needs that outlives one request. Made once per process."""

    settings: Settings
    db: Database
    objects: ObjectStore

    @classmethod
    def open(cls, settings: Settings, *, check_schema: bool = True) -> Runtime:
        db = Database(settings.database_url)
        db.check()
        if check_schema:
            current, head = schema.current_revision(db), schema.head_revision()
            if current != head:
                db.dispose()
                raise SchemaOutdated(
                    f"database schema is at {current or 'nothing'}, this Grove needs {head}",
                    hint="run `mlgrove upgrade`",
                )
        return cls(settings=settings, db=db, objects=open_object_store(settings.object_store_url))

    def as_actor(self, actor: Person) -> Context:
        return Context(runtime=self, actor=actor)

    def close(self) -> None:
        self.db.dispose()


@dataclass(frozen=True)
class Context:
    """A runtime plus the person on whose behalf a service runs."""

    runtime: Runtime
    actor: Person

    @property
    def db(self) -> Database:
        return self.runtime.db

    @property
    def objects(self) -> ObjectStore:
        return self.runtime.objects

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def require(self, action: Action) -> None:
        if not allowed(self.actor, action):
            raise PermissionDenied(
                f"{self.actor.username} ({self.actor.role}) may not {action}",
                hint="ask an administrator for a role that allows it",
            )

    @property
    def actor_label(self) -> str:
        return self.actor.username
