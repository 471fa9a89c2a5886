"""``dnmwatch serve`` (the dashboard) and ``dnmwatch users add/remove/list``.

Registered on the root command by :func:`register` (wired by the coordinator in
``dnmwatch.cli``). ``serve`` binds to loopback by default and refuses any other address unless
``--allow-remote`` is given: the dashboard shows pseudonymous research data, and exposing it
on a network must be a deliberate choice (put it behind TLS then: ``--secure-cookies``).
"""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated

import typer

from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.errors import ConfigError

users_app = typer.Typer(help="Manage dashboard accounts.", no_args_is_help=True)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost`` or a loopback address)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    allow_remote: Annotated[
        bool,
        typer.Option("--allow-remote", help="Allow binding a non-loopback address."),
    ] = False,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Mark cookies Secure (behind HTTPS).")
    ] = False,
    time_limit: Annotated[
        float, typer.Option("--query-time-limit", min=0.1, max=600, help="Seconds per page.")
    ] = 10.0,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Serve the analyst dashboard (read-only over the store; log in with `dnmwatch users`)."""
    import uvicorn

    from dnmwatch.web.app import LOOPBACK_HOSTS, WebConfig, create_app
    from dnmwatch.web.users import UserDB

    if not is_loopback(host) and not allow_remote:
        raise ConfigError(
            f"refusing to serve on {host}: not a loopback address; pass --allow-remote to "
            "expose the dashboard on a network (and put it behind HTTPS)"
        )
    settings = resolve_settings(config, data_dir)
    if not UserDB.for_data_dir(settings.data_dir).list():
        typer.secho(
            "no accounts yet: create one with `dnmwatch users add NAME --role admin`",
            err=True,
            fg=typer.colors.YELLOW,
        )
    web = WebConfig(
        data_dir=settings.data_dir,
        min_vendors=settings.privacy.min_vendors,
        dominance_pct=settings.privacy.dominance_pct,
        query_time_limit=time_limit,
        secure_cookies=secure_cookies,
        allowed_hosts=("*",) if allow_remote else (*LOOPBACK_HOSTS, host),
    )
    typer.echo(f"dashboard on http://{host}:{port}/ (data: {settings.data_dir}); Ctrl-C stops")
    uvicorn.run(
        create_app(web),
        host=host,
        port=port,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
    )


def _password(value: str | None) -> str:
    if value is not None:
        return value
    env = os.environ.get("DNMWATCH_NEW_PASSWORD")
    if env:
        return env
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Lower-case user name.")],
    role: Annotated[
        str, typer.Option("--role", help="viewer, analyst, steward or admin.")
    ] = "viewer",
    password_file: Annotated[
        str | None,
        typer.Option("--password-stdin", help="Read the password from this file ('-' = stdin)."),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Reset an existing account.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create an account (password prompted, or from $DNMWATCH_NEW_PASSWORD / a file)."""
    from dnmwatch.privacy.audit import AuditLog
    from dnmwatch.web.roles import Role
    from dnmwatch.web.users import UserDB

    try:
        parsed = Role.parse(role)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    secret: str | None = None
    if password_file is not None:
        import sys
        from pathlib import Path

        from_stdin = password_file == "-"  # noqa: S105 - "-" means stdin, not a password
        raw = sys.stdin.read() if from_stdin else Path(password_file).read_text()
        secret = raw.rstrip("\r\n")
    settings = resolve_settings(config, data_dir)
    user = UserDB.for_data_dir(settings.data_dir).add(
        username, _password(secret), parsed, replace=replace
    )
    AuditLog.for_data_dir(settings.data_dir).append(
        "cli", "user_add", {"user": user.username, "role": user.role.label, "replace": replace}
    )
    typer.echo(f"account {user.username} ({user.role.label}) saved")


@users_app.command("remove")
def users_remove(
    username: Annotated[str, typer.Argument(help="User name.")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete an account (its open sessions end when the dashboard restarts)."""
    from dnmwatch.privacy.audit import AuditLog
    from dnmwatch.web.users import UserDB

    settings = resolve_settings(config, data_dir)
    if not UserDB.for_data_dir(settings.data_dir).remove(username):
        raise ConfigError(f"no account {username!r}")
    AuditLog.for_data_dir(settings.data_dir).append("cli", "user_remove", {"user": username})
    typer.echo(f"account {username} removed")


@users_app.command("list")
def users_list(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """List accounts and roles (never hashes)."""
    from dnmwatch.web.users import UserDB

    settings = resolve_settings(config, data_dir)
    for user in UserDB.for_data_dir(settings.data_dir).list():
        typer.echo(f"{user.username}\t{user.role.label}\t{user.created_at}")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``users`` group to the root command."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
