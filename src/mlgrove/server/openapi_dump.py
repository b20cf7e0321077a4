"""Write the server's OpenAPI document, the generated REST API reference (``make docs``).

The document is what ``create_app(...).openapi()`` returns for this version of Grove. It
does not depend on any data, but the app needs a runtime, so one is opened on a throwaway
SQLite database in a temporary folder and closed again.

    python -m mlgrove.server.openapi_dump docs/reference/openapi.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from mlgrove.config import Settings
from mlgrove.server.app import create_app
from mlgrove.services.context import Runtime

__all__ = ["main", "openapi_document", "render"]


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the REST API, as the server serves it at /api/openapi.json."""
    with tempfile.TemporaryDirectory(prefix="grove-openapi-") as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'grove.db'}",
            object_store_url=str(Path(tmp) / "objects"),
            secret_key="openapi-dump-" + "0" * 52,  # never used to sign anything
            cache_dir=str(Path(tmp) / "cache"),
        )
        # No schema check: the document describes routes, not tables.
        runtime = Runtime.open(settings, check_schema=False)
        try:
            document: dict[str, Any] = create_app(runtime).openapi()
        finally:
            runtime.close()
    return document


def render(document: dict[str, Any]) -> str:
    """Stable text for a committed file: sorted keys, two-space indent, final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mlgrove.server.openapi_dump OUT.json", file=sys.stderr)
        return 2
    out = Path(args[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(openapi_document()), encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
