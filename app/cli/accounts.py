"""`familiar create-user` and `create-token`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from app.cli.core import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    _fail,
    _prepare,
    cli,
)


@cli.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    admin: Annotated[
        bool | None, typer.Option("--admin/--no-admin", help="Administrator (default: first user)")
    ] = None,
) -> None:
    """Create an account (for AUTH=accounts); the password is stored as an Argon2 hash."""
    from app.db import session_scope
    from app.security.accounts import count_users
    from app.security.accounts import create_user as make_user
    from app.services.errors import BadInput, Conflict

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _prepare()
    try:
        with session_scope() as session:
            is_admin = admin if admin is not None else count_users(session) == 0
            user = make_user(session, username=username, password=password, is_admin=is_admin)
    except BadInput as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from exc
    except Conflict as exc:
        raise _fail(exc, EXIT_FAILED) from exc
    typer.echo(f"created user '{user.username}'{' (admin)' if user.is_admin else ''}")


@cli.command("create-token")
def create_token(
    username: Annotated[str, typer.Argument(help="The account the token acts as")],
    label: Annotated[str, typer.Option(help="A note: what the token is for")] = "",
) -> None:
    """Print a new personal API token (`Authorization: Bearer ...`); it is shown only once."""
    from app.db import session_scope
    from app.security.accounts import create_api_token
    from app.services.errors import NotFound

    _prepare()
    try:
        with session_scope() as session:
            token = create_api_token(session, username=username, label=label)
    except NotFound as exc:
        raise _fail(exc, EXIT_FAILED) from exc
    typer.echo(token)
