"""user, team, project and token commands (local workspace or --url server)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from mlgrove.cli.common import client, out, state, workspace
from mlgrove.domain.clock import utcnow
from mlgrove.domain.people import LOCAL_ADMIN, Role
from mlgrove.errors import InvalidInput

user_app = typer.Typer(help="People: add them, list them, set passwords.", no_args_is_help=True)
team_app = typer.Typer(help="Teams.", no_args_is_help=True)
project_app = typer.Typer(
    help="Projects: what datasets, runs and models belong to.", no_args_is_help=True
)
token_app = typer.Typer(
    help="API tokens for the SDK and CLI (shown once, stored hashed).", no_args_is_help=True
)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Login name: lower-case letters, digits, . _ -"),
    role: Role = typer.Option(..., "--role", "-r", help="admin, manager, engineer or reviewer."),
    name: str | None = typer.Option(None, "--name", help="Display name (default: the username)."),
    email: str = typer.Option("", help="E-mail address."),
    team: str | None = typer.Option(None, help="Team to join."),
    manager: str | None = typer.Option(None, help="Username of their manager."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
    no_password: bool = typer.Option(
        False, "--no-password", help="No web login; the person uses API tokens only."
    ),
) -> None:
    """Add a person. Asks for a password unless --password-stdin or --no-password."""
    password = None if no_password else _read_password(password_stdin)
    with client(ctx) as c:
        p = c.create_person(
            username,
            role=role,
            password=password,
            display_name=name,
            email=email,
            team=team,
            manager=manager,
        )
    out.print(f"Created {p.role.value} {p.username} (id {p.id}).")


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """Everyone, with role, team and manager."""
    with client(ctx) as c:
        people = c.list_people()
        teams = {t.id: t.name for t in c.list_teams()}
    by_id = {p.id: p.username for p in people}
    table = Table("username", "name", "role", "team", "manager")
    for p in people:
        table.add_row(
            p.username,
            p.display_name,
            p.role.value,
            teams.get(p.team_id or -1, ""),
            by_id.get(p.manager_id or -1, ""),
        )
    out.print(table)


@user_app.command("update")
def user_update(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Whom to change."),
    role: Role | None = typer.Option(None, "--role", "-r", help="New role."),
    name: str | None = typer.Option(None, "--name", help="New display name."),
    email: str | None = typer.Option(None, help="New e-mail address."),
    team: str | None = typer.Option(None, help="Move to this team."),
    no_team: bool = typer.Option(False, "--no-team", help="Take out of their team."),
    manager: str | None = typer.Option(None, help="New manager's username."),
    no_manager: bool = typer.Option(False, "--no-manager", help="Clear their manager."),
) -> None:
    """Change someone's role, name, e-mail, team or manager (administrators only)."""
    changes: dict[str, object] = {}
    for key, value in (("role", role), ("display_name", name), ("email", email)):
        if value is not None:
            changes[key] = value
    if team is not None or no_team:
        changes["team"] = None if no_team else team
    if manager is not None or no_manager:
        changes["manager"] = None if no_manager else manager
    if not changes:
        raise InvalidInput("nothing to change", hint="give at least one option; see --help")
    with client(ctx) as c:
        p = c.update_person(username, **changes)
    out.print(f"Updated {p.username}: {p.role.value}, {p.display_name}.")


@user_app.command("deactivate")
def user_deactivate(
    ctx: typer.Context, username: str = typer.Argument(..., help="Who leaves.")
) -> None:
    """Stop someone logging in: ends their web sessions, their API tokens stop working.

    Their history (runs, reviews, feedback) stays; `mlgrove user activate` undoes it.
    """
    with client(ctx) as c:
        c.update_person(username, active=False)
    out.print(f"Deactivated {username}: sessions ended, tokens no longer accepted.")


@user_app.command("activate")
def user_activate(
    ctx: typer.Context, username: str = typer.Argument(..., help="Who returns.")
) -> None:
    """Let a deactivated person log in again."""
    with client(ctx) as c:
        c.update_person(username, active=True)
    out.print(f"Activated {username}.")


@user_app.command("passwd")
def user_passwd(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Whose password to set."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
) -> None:
    """Set a password (local workspace only). Ends that person's web sessions."""
    from mlgrove.services import people
    from mlgrove.services.workspace import opened

    if state(ctx).url:
        raise InvalidInput(
            "passwords are set in a local workspace", hint="run this on the server's workspace"
        )
    password = _read_password(password_stdin)
    with opened(workspace(ctx)) as runtime:
        people.set_password(runtime.as_actor(LOCAL_ADMIN), username, password)
    out.print(f"Password of {username} changed; their web sessions were ended.")


@team_app.command("create")
def team_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Team name."),
    description: str = typer.Option("", help="What the team does."),
) -> None:
    """Create a team."""
    with client(ctx) as c:
        t = c.create_team(name, description)
    out.print(f"Created team {t.name} (id {t.id}).")


@team_app.command("list")
def team_list(ctx: typer.Context) -> None:
    """All teams."""
    with client(ctx) as c:
        teams = c.list_teams()
    table = Table("name", "description")
    for t in teams:
        table.add_row(t.name, t.description)
    out.print(table)


@project_app.command("create")
def project_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Project name."),
    team: str = typer.Option(..., help="Owning team."),
    description: str = typer.Option("", help="What the project is for."),
) -> None:
    """Create a project owned by a team."""
    with client(ctx) as c:
        p = c.create_project(name, team=team, description=description)
    out.print(f"Created project {p.name} (id {p.id}).")


@project_app.command("list")
def project_list(ctx: typer.Context) -> None:
    """All projects (visible across teams)."""
    with client(ctx) as c:
        projects = c.list_projects()
        teams = {t.id: t.name for t in c.list_teams()}
    table = Table("name", "team", "description")
    for p in projects:
        table.add_row(p.name, teams.get(p.team_id, ""), p.description)
    out.print(table)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="What the token is for, e.g. 'laptop' or 'ci'."),
    days: int = typer.Option(90, help="Days until it expires (1-366)."),
    for_user: str | None = typer.Option(
        None, "--for", help="Administrators: make it for this person (default: --user / yourself)."
    ),
) -> None:
    """Create an API token. The token is printed once; only its hash is kept."""
    owner = for_user or (state(ctx).user if not state(ctx).url else None)
    with client(ctx) as c:
        new = c.create_token(name, days=days, user=owner)
    # The secret goes alone to stdout so `export MLGROVE_TOKEN=$(mlgrove token create ci)` works.
    print(new.secret)
    sys.stderr.write(
        f"Token {new.info.prefix} '{new.info.name}' expires {new.info.expires_at:%Y-%m-%d}. "
        "Store it now: it will not be shown again.\n"
    )


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    for_user: str | None = typer.Option(
        None, "--for", help="Administrators: list this person's tokens."
    ),
) -> None:
    """Tokens with their state (active, expired, revoked). Never their secrets."""
    owner = for_user or (state(ctx).user if not state(ctx).url else None)
    with client(ctx) as c:
        tokens = c.list_tokens(user=owner)
    now = utcnow()
    table = Table("id", "name", "prefix", "expires", "last used", "state")
    for t in tokens:
        table.add_row(
            str(t.id),
            t.name,
            t.prefix,
            f"{t.expires_at:%Y-%m-%d}",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            t.state(now),
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context, token_id: int = typer.Argument(..., help="Token id (see `token list`).")
) -> None:
    """Revoke a token at once; requests with it fail from now on."""
    with client(ctx) as c:
        t = c.revoke_token(token_id)
    out.print(f"Revoked token {t.prefix} '{t.name}'.")


def audit(
    ctx: typer.Context,
    limit: int = typer.Option(50, help="How many events (newest first)."),
    before: int | None = typer.Option(None, help="Only events older than this event id (paging)."),
) -> None:
    """Show the audit log: logins, people and token changes, reads of private data."""
    with client(ctx) as c:
        events = c.audit_log(limit=limit, before_id=before)
    table = Table("id", "when (UTC)", "actor", "action", "subject", "detail")
    for e in events:
        table.add_row(
            str(e.id), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.subject, e.detail
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(audit)
    app.add_typer(user_app, name="user")
    app.add_typer(team_app, name="team")
    app.add_typer(project_app, name="project")
    app.add_typer(token_app, name="token")
