"""The remote implementation of ``grove.growth`` (over ``/api/v1/growth``)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlgrove.client import wire
from mlgrove.client.growth import Growth
from mlgrove.domain.growth import (
    Feedback,
    FeedbackRequest,
    Notification,
    PersonRef,
    WorkKind,
)
from mlgrove.domain.growth_policy import Visibility
from mlgrove.domain.ladder import Axis, Competency, Ladder, Level

if TYPE_CHECKING:
    from mlgrove.client.http import RemoteClient


def _ref(d: dict[str, Any]) -> PersonRef:
    return PersonRef(id=d["id"], username=d["username"], display_name=d["display_name"])


def _feedback(d: dict[str, Any]) -> Feedback:
    return Feedback(
        id=d["id"],
        giver=_ref(d["giver"]),
        receiver=_ref(d["receiver"]),
        technical=d["technical"],
        collaboration=d["collaboration"],
        about=d["about"],
        about_kind=WorkKind(d["about_kind"]),
        competencies=list(d["competencies"]),
        visibility=Visibility(d["visibility"]),
        created_at=wire.parse_time(d["created_at"]),
        request_id=d["request_id"],
    )


def _request(d: dict[str, Any]) -> FeedbackRequest:
    return FeedbackRequest(
        id=d["id"],
        requester=_ref(d["requester"]),
        peer=_ref(d["peer"]),
        about=d["about"],
        about_kind=WorkKind(d["about_kind"]),
        message=d["message"],
        created_at=wire.parse_time(d["created_at"]),
        answered_at=wire.parse_time(d["answered_at"]) if d["answered_at"] else None,
    )


class RemoteGrowth(Growth):
    def __init__(self, client: RemoteClient) -> None:
        self._client = client

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
        body = {
            "to": to,
            "technical": technical,
            "collaboration": collaboration,
            "about": about,
            "competencies": list(competencies),
            "visibility": str(visibility),
            "request_id": request_id,
        }
        return _feedback(self._client._call("POST", "/growth/feedback", json=body))

    def list_feedback(self, about: str | None = None) -> builtins.list[Feedback]:
        found = self._client._call("GET", "/growth/feedback", params=wire.params(about=about))
        return [_feedback(d) for d in found]

    def request_feedback(
        self, peers: Sequence[str], *, about: str, message: str = ""
    ) -> builtins.list[FeedbackRequest]:
        body = {"peers": list(peers), "about": about, "message": message}
        return [
            _request(d) for d in self._client._call("POST", "/growth/feedback-requests", json=body)
        ]

    def feedback_requests(
        self,
    ) -> tuple[builtins.list[FeedbackRequest], builtins.list[FeedbackRequest]]:
        d = self._client._call("GET", "/growth/feedback-requests")
        return [_request(r) for r in d["to_me"]], [_request(r) for r in d["mine"]]

    def ladder(self) -> Ladder:
        d = self._client._call("GET", "/growth/ladder")
        return Ladder(
            name=d["name"],
            levels=tuple(Level(lv["id"], lv["title"], lv["summary"]) for lv in d["levels"]),
            competencies=tuple(
                Competency(
                    id=c["id"],
                    name=c["name"],
                    axis=Axis(c["axis"]),
                    description=c["description"],
                    expectations=dict(c["expectations"]),
                )
                for c in d["competencies"]
            ),
        )

    def notifications(self, *, unread_only: bool = False) -> builtins.list[Notification]:
        found = self._client._call(
            "GET", "/growth/notifications", params={"unread": str(unread_only).lower()}
        )
        return [
            Notification(
                id=n["id"],
                kind=n["kind"],
                text=n["text"],
                link=n["link"],
                created_at=wire.parse_time(n["created_at"]),
                read_at=wire.parse_time(n["read_at"]) if n["read_at"] else None,
            )
            for n in found
        ]

    def export(self) -> dict[str, Any]:
        result: dict[str, Any] = self._client._call("GET", "/growth/export")
        return result
