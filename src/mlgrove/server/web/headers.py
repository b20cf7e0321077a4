"""The security headers every response carries: pages, API answers, static files and
error pages (including the crash page, which is made outside the middleware stack)."""

from __future__ import annotations

from starlette.responses import Response

# Everything the pages load is served from here; no CDN, no inline scripts. Inline
# styles stay allowed: the server-made SVG charts and Swagger UI use them.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Set the security headers a handler has not set itself; returns ``response``."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
