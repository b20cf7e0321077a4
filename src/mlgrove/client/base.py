"""The client interface shared by the embedded and the remote SDK.

Both implementations return the same domain objects and raise the same errors, so code
written against a local workspace runs unchanged against a server.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mlgrove.errors import InvalidInput

if TYPE_CHECKING:
    # The feature areas' interfaces are for type checkers and readers: importing them
    # all would cost every command (and every ``connect()``) a tenth of a second.
    from mlgrove.client.datasets import Datasets
    from mlgrove.client.growth import Growth
    from mlgrove.client.pipelines import Pipelines
    from mlgrove.client.programs import Programs
    from mlgrove.client.review import Review
    from mlgrove.client.tracking import Models, Runs
    from mlgrove.domain.people import (
        AuditEvent,
        NewToken,
        Person,
        Project,
        Role,
        Team,
        TokenInfo,
    )

T = TypeVar("T")


class NotAvailable(Generic[T]):
    """A feature area a client does not offer yet: reading it raises a clear error.

    Implementations that offer the area assign an instance attribute, which takes
    precedence over this (non-data) descriptor.
    """

    def __init__(self, area: str) -> None:
        self.area = area

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]  # the class attribute itself
        raise InvalidInput(
            f"{self.area} (grove.{self.name}) is not available over HTTP yet",
            hint="connect to the workspace folder (embedded mode) to use it",
        )


class Client(abc.ABC):
    """What ``mlgrove.connect()`` returns. Use it as a context manager to close it."""

    #: "embedded" or "remote".
    mode: str
    #: Versioned datasets: ``grove.datasets.add(...)``, ``.read(...)``, ``.diff(...)``.
    datasets: Datasets
    #: Run tracking: ``with grove.runs.start(project) as run: run.log_metric(...)``.
    runs: NotAvailable[Runs] = NotAvailable("run tracking")
    #: The model registry and evaluations: ``grove.models.register(...)``.
    models: NotAvailable[Models] = NotAvailable("the model registry")
    #: Pipelines: ``grove.pipelines.run(pipeline)``, ``.status(...)``, ``.runs(name)``.
    pipelines: NotAvailable[Pipelines] = NotAvailable("pipelines")
    #: Review queues: ``grove.review.queue("triage").add_predictions(...)``.
    review: NotAvailable[Review] = NotAvailable("review queues")
    #: Growth programmes: help requests, learning time, mentorship, design reviews,
    #: rotations (``grove.programs.ask_for_help(...)``).
    programs: NotAvailable[Programs] = NotAvailable("growth programmes")
    #: Growing engineers: feedback on two axes, requests, the ladder, notifications
    #: (``grove.growth.give_feedback(to, technical=..., collaboration=...)``).
    growth: NotAvailable[Growth] = NotAvailable("growing engineers")

    @abc.abstractmethod
    def health(self) -> dict[str, Any]:
        """Server/database status: version, database backend, schema revision."""

    @abc.abstractmethod
    def whoami(self) -> Person:
        """The person this client acts as."""

    # -- teams and people -------------------------------------------------------------
    @abc.abstractmethod
    def list_teams(self) -> list[Team]: ...

    @abc.abstractmethod
    def create_team(self, name: str, description: str = "") -> Team: ...

    @abc.abstractmethod
    def list_people(self) -> list[Person]: ...

    @abc.abstractmethod
    def create_person(
        self,
        username: str,
        *,
        role: Role | str,
        password: str | None = None,
        display_name: str | None = None,
        email: str = "",
        team: str | None = None,
        manager: str | None = None,
    ) -> Person: ...

    @abc.abstractmethod
    def update_person(self, username: str, **changes: Any) -> Person:
        """Change ``role``, ``display_name``, ``email``, ``team``, ``manager`` or ``active``.

        ``team=None`` / ``manager=None`` clear the link; ``active=False`` deactivates the
        person (their sessions end and their tokens stop working). Administrators only.
        """

    @abc.abstractmethod
    def audit_log(self, *, limit: int = 100, before_id: int | None = None) -> list[AuditEvent]:
        """Audit events, newest first (administrators only); page with ``before_id``."""

    # -- projects ---------------------------------------------------------------------
    @abc.abstractmethod
    def list_projects(self) -> list[Project]: ...

    @abc.abstractmethod
    def create_project(self, name: str, *, team: str, description: str = "") -> Project: ...

    @abc.abstractmethod
    def get_project(self, name: str) -> Project: ...

    # -- API tokens -------------------------------------------------------------------
    @abc.abstractmethod
    def create_token(self, name: str, *, days: int = 90, user: str | None = None) -> NewToken:
        """A new token for the current person (administrators: for ``user``).

        Its secret is returned once, here, and stored only as a hash.
        """

    @abc.abstractmethod
    def list_tokens(self, *, user: str | None = None) -> list[TokenInfo]: ...

    @abc.abstractmethod
    def revoke_token(self, token_id: int) -> TokenInfo: ...

    # -- lifecycle --------------------------------------------------------------------
    def close(self) -> None:  # noqa: B027 - optional hook, nothing to free by default
        """Release connections."""

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
