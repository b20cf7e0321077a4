"""``grove.growth``: feedback, feedback requests, the ladder, notifications, the read log.

One interface for both modes: the embedded implementation calls the growth services,
the remote one the REST API; both return the same domain values and apply the same
privacy policy (on the server side, for remote).
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Sequence
from typing import Any

from mlgrove.domain.growth import Feedback, FeedbackRequest, Notification
from mlgrove.domain.growth_policy import Visibility
from mlgrove.domain.ladder import Ladder


class Growth(abc.ABC):
    """Growing engineers from Python or the CLI."""

    @abc.abstractmethod
    def give_feedback(
        self,
        to: str,
        *,
        technical: str = "",
        collaboration: str = "",
        about: str = "",
        competencies: Sequence[str] = (),
        visibility: Visibility | str = Visibility.RECEIVER,
        request_id: int | None = None,
    ) -> Feedback:
        """Give feedback to ``to`` (e-mail or username) on a technical and/or a
        collaboration axis, about a piece of work (a URL or ``run:ID``...)."""

    @abc.abstractmethod
    def list_feedback(self, about: str | None = None) -> builtins.list[Feedback]:
        """Feedback about you, or ``about`` someone: only what you may see."""

    @abc.abstractmethod
    def request_feedback(
        self, peers: Sequence[str], *, about: str, message: str = ""
    ) -> builtins.list[FeedbackRequest]:
        """Ask named peers for feedback on a piece of work."""

    @abc.abstractmethod
    def feedback_requests(
        self,
    ) -> tuple[builtins.list[FeedbackRequest], builtins.list[FeedbackRequest]]:
        """(requests waiting for your answer, requests you made)."""

    @abc.abstractmethod
    def ladder(self) -> Ladder:
        """The competency ladder in force."""

    @abc.abstractmethod
    def notifications(self, *, unread_only: bool = False) -> builtins.list[Notification]:
        """Your in-app notifications, newest first."""

    @abc.abstractmethod
    def export(self) -> dict[str, Any]:
        """Everything Grove holds about your growth, as a JSON-ready dict."""
