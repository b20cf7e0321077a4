"""Errors map to HTTP in one place, and the remote client maps them back to the same class."""

from __future__ import annotations

import httpx
import pytest

from mlgrove import errors
from mlgrove.client.http import RemoteClient
from mlgrove.server.errors import status_for


def all_error_classes() -> list[type[errors.GroveError]]:
    return [getattr(errors, n) for n in errors.__all__]


def test_every_error_has_a_unique_code() -> None:
    codes = [cls.code for cls in all_error_classes()]
    assert len(codes) == len(set(codes))


def make(cls: type[errors.GroveError]) -> errors.GroveError:
    if cls is errors.RateLimited:
        return errors.RateLimited("slow down", retry_after=30, hint="wait")
    if cls is errors.RemoteError:
        return errors.RemoteError("bad gateway", status=502)
    return cls("something is wrong", hint="do this")


@pytest.mark.parametrize("cls", all_error_classes(), ids=lambda c: c.__name__)
def test_user_mistakes_are_4xx_and_server_trouble_5xx(cls: type[errors.GroveError]) -> None:
    status = status_for(make(cls))
    user_fault = {
        errors.InvalidInput,
        errors.NotFound,
        errors.Conflict,
        errors.AuthError,
        errors.AuthenticationFailed,
        errors.TokenExpired,
        errors.TokenRevoked,
        errors.CsrfError,
        errors.RateLimited,
        errors.PermissionDenied,
    }
    assert (400 <= status < 500) == (cls in user_fault)


@pytest.mark.parametrize(
    "cls",
    [c for c in all_error_classes() if c is not errors.RemoteError],
    ids=lambda c: c.__name__,
)
def test_remote_client_raises_the_same_class(cls: type[errors.GroveError]) -> None:
    exc = make(cls)

    def handler(request: httpx.Request) -> httpx.Response:
        body = {"type": f"urn:mlgrove:problem:{cls.code}", "detail": exc.message, "hint": exc.hint}
        return httpx.Response(status_for(exc), json=body, headers={"Retry-After": "30"})

    client = RemoteClient("http://grove.test", token="t", transport=httpx.MockTransport(handler))
    with pytest.raises(cls) as info:
        client.list_teams()
    assert info.value.message == exc.message
    assert type(info.value) is cls


def test_non_problem_errors_become_remote_error_with_status() -> None:
    client = RemoteClient(
        "http://grove.test",
        transport=httpx.MockTransport(lambda r: httpx.Response(502, text="proxy down")),
    )
    with pytest.raises(errors.RemoteError, match="502") as info:
        client.health()
    assert info.value.status == 502


def test_str_carries_the_hint_on_one_line() -> None:
    text = str(errors.NotFound("no team named 'x'", hint="`mlgrove team list` shows the teams"))
    assert "\n" not in text
    assert text.endswith("(`mlgrove team list` shows the teams)")
