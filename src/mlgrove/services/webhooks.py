"""The optional outgoing webhook: Slack-compatible JSON posted from a background thread.

Set ``growth_webhook_url`` to a Slack (or Mattermost, Teams...) incoming-webhook URL.
Messages carry no private content: only that someone has something new in Grove. A slow
or failing endpoint never slows or fails the change that caused the message: posts run
in a daemon thread with a timeout, and failures are logged, not raised.
"""

from __future__ import annotations

import logging
import threading

import httpx

log = logging.getLogger("mlgrove.webhooks")

#: Seconds to wait for the endpoint before giving up on one message.
TIMEOUT = 5.0


def slack_payload(text: str) -> dict[str, str]:
    """The body Slack's incoming webhooks accept (``text`` is the message)."""
    return {"text": text}


def _post(url: str, text: str, timeout: float) -> None:
    try:
        response = httpx.post(url, json=slack_payload(text), timeout=timeout)
        if response.is_error:
            log.warning("webhook %s answered %s", url.split("?")[0], response.status_code)
    except httpx.HTTPError as exc:
        log.warning("webhook %s failed: %s", url.split("?")[0], exc)


def post_in_background(url: str, text: str, *, timeout: float = TIMEOUT) -> threading.Thread:
    """Start posting ``text`` to ``url``; returns the thread (tests join it)."""
    thread = threading.Thread(
        target=_post, args=(url, text, timeout), name="grove-webhook", daemon=True
    )
    thread.start()
    return thread
