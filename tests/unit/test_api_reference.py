"""The committed REST API reference (docs/reference/openapi.json) is what the code serves.

A new or changed endpoint changes the OpenAPI document; the committed copy must follow in
the same change, or readers of the reference see an API that no longer exists.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlgrove.server.openapi_dump import openapi_document, render

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "openapi.json"


def _routes(document: dict[str, object]) -> set[str]:
    paths = document.get("paths", {})
    assert isinstance(paths, dict)
    return {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}


def test_committed_openapi_reference_matches_the_code() -> None:
    assert REFERENCE.exists(), f"{REFERENCE} is missing: run `make docs` and commit it"
    generated = openapi_document()
    committed_text = REFERENCE.read_text(encoding="utf-8")
    if committed_text == render(generated):
        return
    committed = json.loads(committed_text)
    added = sorted(_routes(generated) - _routes(committed))
    removed = sorted(_routes(committed) - _routes(generated))
    raise AssertionError(
        "docs/reference/openapi.json differs from the API the code serves: "
        "run `make docs` and commit docs/reference/openapi.json"
        + (f"\n  endpoints not in the committed file: {added}" if added else "")
        + (f"\n  endpoints no longer served: {removed}" if removed else "")
        + ("" if added or removed else "\n  (the same endpoints; their schemas or docs changed)")
    )
