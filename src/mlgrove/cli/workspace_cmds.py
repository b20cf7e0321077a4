"""init, upgrade, fsck, config and the object plumbing commands."""

from __future__ import annotations

from pathlib import Path

import typer

from mlgrove.cli.common import err, out, settings
from mlgrove.config import SETTINGS_DOC
from mlgrove.domain.people import LOCAL_ADMIN

# The services (and with them SQLAlchemy) are imported by the commands that use them.


def init(
    path: Path = typer.Argument(Path("."), help="Folder to make the workspace in."),
    database_url: str | None = typer.Option(
        None,
        help="Metadata database (default: SQLite in .mlgrove/). e.g. postgresql://user@host/db",
    ),
    object_store_url: str | None = typer.Option(
        None,
        help="Object store (default: .mlgrove/objects). Any fsspec URL, e.g. s3://bucket/grove",
    ),
) -> None:
    """Make a Grove workspace here: .mlgrove/ with config, database and object store.

    The database schema is created at once. A secret key for web sessions is generated
    and kept in .mlgrove/config.toml (readable by you only); it is never printed.
    """
    from mlgrove.services.workspace import init_workspace

    ws = init_workspace(path, database_url=database_url, object_store_url=object_store_url)
    s = ws.settings()
    out.print(f"Initialised Grove workspace in {ws.grove_dir}")
    out.print(f"  database:     {_redact(s.database_url)}")
    out.print(f"  object store: {s.object_store_url}")
    out.print(
        "Next: `mlgrove user create NAME --role admin` to add yourself, then `mlgrove serve`."
    )


def _redact(url: str) -> str:
    from mlgrove.store.db import Database

    return Database(url).display_url


def upgrade(ctx: typer.Context) -> None:
    """Apply pending database migrations to this workspace's database."""
    from mlgrove.services.workspace import upgrade_database

    before, after = upgrade_database(settings(ctx).database_url)
    if before == after:
        out.print(f"Database schema is up to date ({after}).")
    else:
        out.print(f"Database schema upgraded from {before or 'empty'} to {after}.")


def fsck(ctx: typer.Context) -> None:
    """Re-hash every object the database names; report missing or corrupt ones.

    Exits 1 when any object is missing or corrupt, so scripts and CI can rely on it.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from mlgrove.services import objects
    from mlgrove.services.context import Runtime

    runtime = Runtime.open(settings(ctx))
    try:
        total = objects.count_objects(runtime)
        with Progress(
            TextColumn("checking objects"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=total == 0 or not err.is_terminal,
        ) as bar:
            task = bar.add_task("fsck", total=total)
            report = objects.fsck(runtime, progress=lambda n: bar.advance(task, n))
    finally:
        runtime.close()
    for address, kind in report.missing:
        out.print(f"missing  {address}  ({kind})")
    for address, kind in report.corrupt:
        out.print(f"corrupt  {address}  ({kind})")
    out.print(
        f"{report.checked} objects checked: {report.ok} ok, "
        f"{len(report.missing)} missing, {len(report.corrupt)} corrupt"
    )
    if not report.healthy:
        err.print("mlgrove: error: the object store does not match the database (see above)")
        raise typer.Exit(1)


config_app = typer.Typer(help="Show the workspace's settings.", no_args_is_help=True)


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the resolved settings (the secret key is never shown)."""
    s = settings(ctx)
    for key in sorted(SETTINGS_DOC):
        value = getattr(s, key)
        if key == "secret_key":
            value = "(set, hidden)"
        elif key == "database_url":
            value = _redact(value)
        out.print(f"{key} = {value}")


@config_app.command("keys")
def config_keys() -> None:
    """List every setting, its environment variable and what it does."""
    for key, doc in sorted(SETTINGS_DOC.items()):
        out.print(f"{key}  (${'MLGROVE_' + key.upper()})\n    {doc}")


object_app = typer.Typer(
    help="Plumbing: put and read content-addressed objects directly.", no_args_is_help=True
)


@object_app.command("put")
def object_put(ctx: typer.Context, path: Path = typer.Argument(..., help="File to store.")) -> None:
    """Store a file and print its BLAKE3 address (stored once however often it is put)."""
    from mlgrove.services import objects
    from mlgrove.services.context import Runtime

    runtime = Runtime.open(settings(ctx))
    try:
        stored = objects.put_file(runtime.as_actor(LOCAL_ADMIN), path)
    finally:
        runtime.close()
    out.print(stored.address)


@object_app.command("cat")
def object_cat(
    ctx: typer.Context, address: str = typer.Argument(..., help="64-hex address.")
) -> None:
    """Write an object's bytes to standard output."""
    import sys

    from mlgrove.services import objects
    from mlgrove.services.context import Runtime

    runtime = Runtime.open(settings(ctx))
    try:
        data = objects.get_bytes(runtime.as_actor(LOCAL_ADMIN), address)
    finally:
        runtime.close()
    sys.stdout.buffer.write(data)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(upgrade)
    app.command()(fsck)
    app.add_typer(config_app, name="config")
    app.add_typer(object_app, name="object")
