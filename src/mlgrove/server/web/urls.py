"""Addresses of the dataset pages, in one place so links and routes agree.

Project and dataset names may hold spaces and dots, so each is quoted as one path segment.
"""

from __future__ import annotations

import urllib.parse

from mlgrove.server.web.formatting import urlpart


def project_url(project: str) -> str:
    return f"/data/{urlpart(project)}"


def dataset_url(project: str, dataset: str) -> str:
    return f"/data/{urlpart(project)}/{urlpart(dataset)}"


def version_url(project: str, dataset: str, version: int | str) -> str:
    ref = f"v{version}" if isinstance(version, int) else version
    return f"{dataset_url(project, dataset)}/{urlpart(ref)}"


def diff_url(
    project: str,
    dataset: str,
    old: int | str | None = None,
    new: int | str | None = None,
    *,
    offset: int = 0,
) -> str:
    query: dict[str, str] = {}
    if old is not None:
        query["from"] = f"v{old}" if isinstance(old, int) else old
    if new is not None:
        query["to"] = f"v{new}" if isinstance(new, int) else new
    if offset:
        query["offset"] = str(offset)
    base = f"{dataset_url(project, dataset)}/diff"
    return base + ("?" + urllib.parse.urlencode(query) if query else "")


def leakage_url(project: str, dataset: str, version: int) -> str:
    return f"{version_url(project, dataset, version)}/leakage"


GLOBALS = {
    "project_url": project_url,
    "dataset_url": dataset_url,
    "version_url": version_url,
    "diff_url": diff_url,
    "leakage_url": leakage_url,
}
