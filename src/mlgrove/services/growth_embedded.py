"""The embedded implementation of ``grove.growth`` (straight to the services)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from mlgrove.client.growth import Growth
from mlgrove.domain.growth import Feedback, FeedbackRequest, Notification
from mlgrove.domain.growth_policy import Visibility
from mlgrove.domain.ladder import Ladder
from mlgrove.services import growth_data, growth_feedback, growth_ladder, notifications
from mlgrove.services.context import Context


class EmbeddedGrowth(Growth):
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

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
        return growth_feedback.give_feedback(
            self._ctx,
            to,
            technical=technical,
            collaboration=collaboration,
            about=about,
            competencies=competencies,
            visibility=visibility,
            request_id=request_id,
        )

    def list_feedback(self, about: str | None = None) -> builtins.list[Feedback]:
        return growth_feedback.list_feedback(self._ctx, about)

    def request_feedback(
        self, peers: Sequence[str], *, about: str, message: str = ""
    ) -> builtins.list[FeedbackRequest]:
        return growth_feedback.request_feedback(self._ctx, peers, about=about, message=message)

    def feedback_requests(
        self,
    ) -> tuple[builtins.list[FeedbackRequest], builtins.list[FeedbackRequest]]:
        return growth_feedback.list_requests(self._ctx)

    def ladder(self) -> Ladder:
        return growth_ladder.current(self._ctx.settings)

    def notifications(self, *, unread_only: bool = False) -> builtins.list[Notification]:
        return notifications.list_notifications(self._ctx, unread_only=unread_only)

    def export(self) -> dict[str, Any]:
        return growth_data.export(self._ctx)
