"""The optional outgoing webhook, against a real local HTTP server: Slack-compatible JSON,
no private content, and a slow endpoint never holds up the change that caused it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mlgrove.services import growth_feedback, notifications, webhooks
from mlgrove.testing.factories import Factories


class Hook:
    def __init__(self, delay: float = 0.0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.delay = delay
        self.received = threading.Event()


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(state.delay)
            state.bodies.append(json.loads(body))
            state.content_types.append(self.headers["Content-Type"])
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")
            state.received.set()

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hooks/grove"
    server.shutdown()
    server.server_close()


def test_feedback_posts_a_content_free_slack_message(
    grove_factories: Factories, hook: tuple[Hook, str]
) -> None:
    state, url = hook
    f = grove_factories
    f.runtime.settings = f.runtime.settings.with_overrides(growth_webhook_url=url)
    eli = f.person("eli", display_name="Eli Engineer")
    bo = f.person("bo")
    growth_feedback.give_feedback(f.ctx(bo), "eli", technical="SECRET detail of the PR")
    assert state.received.wait(10)
    assert state.bodies == [{"text": "Eli Engineer has new feedback in Grove."}]
    assert state.content_types == ["application/json"]
    assert "SECRET" not in json.dumps(state.bodies)
    assert notifications.unread_count(f.ctx(eli)) == 1


def test_a_slow_endpoint_does_not_hold_up_the_caller(hook: tuple[Hook, str]) -> None:
    state, url = hook
    state.delay = 2.0
    started = time.monotonic()
    thread = webhooks.post_in_background(url, "hello", timeout=0.5)
    assert time.monotonic() - started < 0.5  # the caller returns at once
    thread.join(5)
    assert not thread.is_alive()  # the timeout ended the attempt; nothing was raised


def test_no_webhook_configured_posts_nothing(grove_factories: Factories) -> None:
    f = grove_factories
    assert f.runtime.settings.growth_webhook_url is None
    f.person("eli")
    bo = f.person("bo")
    growth_feedback.give_feedback(f.ctx(bo), "eli", collaboration="kind review")
    assert notifications.announce(f.ctx(bo), "x") is None
