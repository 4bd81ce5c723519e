"""`tuoyu users ...`: people who use tuoyu, their access tokens and passwords."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra.settings import get_settings

users_app = typer.Typer(help="People who use tuoyu and their access tokens.", no_args_is_help=True)
console = Console()

if TYPE_CHECKING:
    from sqlmodel import Session


@contextmanager
def _session(*refusals: type[Exception]) -> Iterator[Session]:
    """A session on the database; a refusal (a user or password error) is printed in red and
    exits with status 2."""
    from infra.db import make_engine, session_factory

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_factory(engine)() as session:
            yield session
    except refusals as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def _read_password(stdin: bool) -> str:
    """From standard input (one line, for scripts) or asked twice at the terminal."""
    import sys

    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        console.print("[red]the passwords differ[/red]")
        raise typer.Exit(2)
    return str(first)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="a unique login name")],
    role: Annotated[
        str, typer.Option(help="operator, town, department, leading-office, auditor, admin")
    ],
    unit: Annotated[
        str | None, typer.Option(help="unit code; required for town, department, leading-office")
    ] = None,
    password: Annotated[
        bool, typer.Option("--password", help="ask for a first password for the web sign-in")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the first password from stdin")
    ] = False,
) -> None:
    """Add a user and print their bearer token (shown only this once); with --password or
    --password-stdin also set a password for the web pages."""
    from infra.passwords import PasswordError, hash_password
    from infra.users import UserError, add_user
    from models.actors import Role

    try:
        parsed = Role(role)
    except ValueError:
        console.print(f"[red]unknown role {role!r}[/red]")
        raise typer.Exit(2) from None
    hashed = None
    if password or password_stdin:
        try:
            hashed = hash_password(_read_password(password_stdin))
        except PasswordError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    with _session(UserError) as session:
        user, token = add_user(session, name, parsed, unit)
        if hashed is not None:
            user.password_hash = hashed
            session.add(user)
            session.commit()
    typer.echo(token)


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="the user's login name")]) -> None:
    """Disable a user: their token stops working at once (the user stays, for the record)."""
    from infra.users import UserError, disable_user

    with _session(UserError) as session:
        user = disable_user(session, name)
    console.print(f"disabled {user.name} at {user.disabled_at}")


@users_app.command("rotate")
def users_rotate(name: Annotated[str, typer.Argument(help="the user's login name")]) -> None:
    """Issue a new token and print it (shown only this once); the old one stops working."""
    from infra.users import UserError, rotate_token

    with _session(UserError) as session:
        token = rotate_token(session, name)
    typer.echo(token)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="the login name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Set a user's web password; their open sessions end."""
    from infra.passwords import PasswordError, set_password

    with _session(PasswordError) as session:
        set_password(session, name, _read_password(password_stdin))
    typer.echo(f"password of {name} set")


@users_app.command("list")
def users_list() -> None:
    """Users with their role and unit (never their tokens)."""
    from sqlmodel import select

    from infra.db import make_engine, session_factory
    from models.users import User

    engine = make_engine(get_settings().resolved_database_url, writer=False)
    with session_factory(engine)() as session:
        users = session.exec(select(User).order_by(User.name)).all()
    engine.dispose()
    ttl = get_settings().token_ttl
    table = Table("name", "role", "unit", "created", "token expires", "disabled")
    for u in users:
        issued = u.token_issued_at or u.created_at
        table.add_row(
            u.name,
            u.role,
            u.unit or "",
            u.created_at.isoformat(),
            (issued + ttl).isoformat(),
            u.disabled_at.isoformat() if u.disabled_at else str(u.disabled),
        )
    console.print(table)
