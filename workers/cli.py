"""The `tuoyu` command line."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from infra.logs import configure as configure_logging
from infra.settings import get_settings

app = typer.Typer(
    help="tuoyu: supervision of childcare institutions (Kaili City).", no_args_is_help=True
)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
schema_app = typer.Typer(
    help="JSON Schemas of the events on the contract's topics.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
app.add_typer(schema_app, name="schema")
users_app = typer.Typer(help="People who use tuoyu and their access tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
console = Console()


@app.command()
def up() -> None:
    """Start everything with the embedded defaults, in the foreground; Ctrl-C stops it all."""
    from workers.stack import Stack

    settings = get_settings()
    configure_logging(settings.log_level)
    stack = Stack(settings)
    interrupted = False

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal interrupted
        interrupted = True
        raise KeyboardInterrupt

    # Installed explicitly: a shell that starts us in the background ignores SIGINT for us.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        table = Table(title="tuoyu is up", show_header=False)
        for name, where in stack.endpoints():
            table.add_row(name, where)
        console.print(table)
        console.print("Press Ctrl-C to stop.")
        dead = stack.watch()
        console.print(
            f"[red]{dead.name} exited with code {dead.returncode()}; stopping the rest.[/red]"
        )
        console.print(dead.tail())
        stack.stop()
        raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("Stopping…")
        stack.stop()
        console.print("Stopped.")


@app.command()
def status() -> None:
    """What is running and healthy."""
    from workers.stack import status as stack_status

    rows = stack_status(get_settings())
    table = Table("component", "healthy", "where")
    for name, ok, detail in rows:
        table.add_row(name, "[green]yes[/green]" if ok else "[red]no[/red]", detail)
    console.print(table)
    raise typer.Exit(0 if all(ok for _, ok, _ in rows) else 1)


@app.command()
def migrate() -> None:
    """Apply database migrations and load reference data."""
    from infra.migrate import prepare_database

    units = prepare_database(get_settings().resolved_database_url)
    console.print(f"Database at head; {units} units loaded.")


@audit_app.command("verify")
def audit_verify() -> None:
    """Exit 0 when the hash chain and its signed checkpoints are intact; 1 naming the first
    bad record."""
    from infra.audit import verify_session
    from infra.db import make_engine, session_factory
    from infra.signing import key_file, load_signer

    settings = get_settings()
    trusted = {load_signer(settings).public_key} if key_file(settings).exists() else None
    engine = make_engine(settings.resolved_database_url, writer=False)
    with session_factory(engine)() as session:
        result = verify_session(session, trusted)
    engine.dispose()
    if result.ok:
        console.print(f"Audit trail intact: {result.checked} records.")
        return
    console.print(
        f"[red]Audit trail broken at record {result.first_bad_seq}: {result.problem}[/red]"
    )
    raise typer.Exit(1)


@audit_app.command("query")
def audit_query(
    case: Annotated[str | None, typer.Option(help="case reference")] = None,
    institution: Annotated[str | None, typer.Option(help="institution name")] = None,
    person_hash: Annotated[str | None, typer.Option(help="keyed hash of a person")] = None,
    id_number: Annotated[
        str | None, typer.Option(help="a person's identity number (hashed here, not stored)")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="the acting unit")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. case.escalated")] = None,
    since: Annotated[datetime | None, typer.Option(help="event time from (ISO 8601)")] = None,
    until: Annotated[datetime | None, typer.Option(help="event time before (ISO 8601)")] = None,
    after_seq: Annotated[int, typer.Option(help="continue after this record")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines")] = False,
) -> None:
    """Audit records matching every filter given, in sequence order, one page at a time."""
    from infra.audit_queries import query
    from infra.db import make_engine, session_factory
    from models.audit import AuditQuery
    from models.timeutil import SHANGHAI

    def aware(moment: datetime | None) -> datetime | None:
        return moment.replace(tzinfo=SHANGHAI) if moment and moment.tzinfo is None else moment

    if id_number is not None:
        from infra.identity import load_hasher

        person_hash = load_hasher(get_settings()).hash(id_number)
    q = AuditQuery(
        case_id=case,
        institution=institution,
        person_hash=person_hash,
        actor_unit=unit,
        action=action,
        since=aware(since),
        until=aware(until),
        after_seq=after_seq,
        limit=limit,
    )
    engine = make_engine(get_settings().resolved_database_url, writer=False)
    with session_factory(engine)() as session:
        page = query(session, q)
    engine.dispose()
    if as_json:
        for record in page.records:
            typer.echo(record.model_dump_json())
    else:
        table = Table("seq", "time (Beijing)", "actor", "action", "case", "reason")
        for r in page.records:
            when = r.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
            table.add_row(str(r.seq), when, r.actor, r.action, r.case_id or "", r.reason or "")
        console.print(table)
    if page.next_after_seq is not None:
        typer.echo(f"more: --after-seq {page.next_after_seq}", err=True)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's current tip now (the Temporal worker does this every minute)."""
    from infra.audit import checkpoint
    from infra.db import make_engine, session_factory
    from infra.signing import load_signer

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    with session_factory(engine)() as session:
        point = checkpoint(session, load_signer(settings))
        session.commit()
    engine.dispose()
    console.print(f"Signed at record {point.seq}." if point else "Nothing new to sign.")


@audit_app.command("public-key")
def audit_public_key() -> None:
    """The Ed25519 public key (hex) that verifies the checkpoints."""
    from infra.signing import load_signer

    typer.echo(load_signer(get_settings()).public_key)


@audit_app.command("export")
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl (verifiable) or csv")] = "jsonl",
    out: Annotated[Path | None, typer.Option(help="file to write; default standard output")] = None,
) -> None:
    """Every record in order (JSON Lines add the signed checkpoints and the public keys)."""
    import sys

    from infra import audit_export as export
    from infra.db import make_engine, session_factory

    if fmt not in ("jsonl", "csv"):
        console.print("[red]--format is jsonl or csv[/red]")
        raise typer.Exit(2)
    engine = make_engine(get_settings().resolved_database_url, writer=False)
    target = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        with session_factory(engine)() as session:
            if fmt == "csv":
                export.write_csv(session, target)
            else:
                for line in export.jsonl(session):
                    target.write(line + "\n")
    finally:
        if out:
            target.close()
        engine.dispose()


def _percent(rate: Any) -> str:
    return "—" if rate.value is None else f"{rate.value:.1%} ({rate.hits}/{rate.total})"


@app.command()
def stats(
    start: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="first day")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="last day, included")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="only this unit")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Per-unit on-time acceptance, on-time closure and satisfaction; counts by category
    and town. Days are Beijing time; the default period is this month to date."""
    from infra.db import make_engine, session_factory
    from infra.statistics import compute
    from models.timeutil import SHANGHAI

    today = datetime.now(SHANGHAI).date()
    first = start.date() if start else today.replace(day=1)
    last = end.date() if end else today
    engine = make_engine(get_settings().resolved_database_url, writer=False)
    with session_factory(engine)() as session:
        result = compute(session, first, last, now=datetime.now(UTC), unit=unit)
    engine.dispose()
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    console.print(f"{result.start} – {result.end}: {result.cases} cases")
    table = Table(
        "unit", "name", "rounds", "及时签收率", "按时办结率", "满意率", "升级", "通报约谈"
    )
    for u in result.units:
        table.add_row(
            u.unit,
            u.name,
            str(u.rounds),
            _percent(u.on_time_acceptance),
            _percent(u.on_time_closure),
            _percent(u.satisfaction),
            str(u.escalations),
            str(u.notice_interviews),
        )
    console.print(table)
    counts = Table("category", "cases", "town", "cases")
    categories, towns = list(result.by_category.items()), list(result.by_town.items())
    for i in range(max(len(categories), len(towns))):
        c = categories[i] if i < len(categories) else ("", "")
        t = towns[i] if i < len(towns) else ("", "")
        counts.add_row(str(c[0]), str(c[1]), str(t[0]), str(t[1]))
    console.print(counts)


@app.command()
def integrity(
    institution: Annotated[str, typer.Argument(help="registry id, or a key like name:TOWN:NAME")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv or jsonl")] = "table",
) -> None:
    """An institution's integrity file (诚信档案): outcomes, decisions, bans, credit entries."""
    from infra import integrity as files
    from infra.db import make_engine, session_factory
    from models.integrity import IntegrityRecordPublic
    from models.timeutil import SHANGHAI

    key = institution if ":" in institution else f"id:{institution}"
    engine = make_engine(get_settings().resolved_database_url, writer=False)
    with session_factory(engine)() as session:
        records = [IntegrityRecordPublic.model_validate(r) for r in files.file_of(session, key)]
    engine.dispose()
    if fmt == "jsonl":
        for r in records:
            typer.echo(r.model_dump_json())
    elif fmt == "csv":
        typer.echo(files.to_csv(records), nl=False)
    else:
        table = Table("time (Beijing)", "kind", "case", "summary")
        for r in records:
            when = r.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            table.add_row(when, r.kind, r.case_id or "", r.summary)
        console.print(table)
    if not records:
        raise typer.Exit(1)


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
    from infra.db import make_engine, session_factory
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
    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_factory(engine)() as session:
            user, token = add_user(session, name, parsed, unit)
            if hashed is not None:
                user.password_hash = hashed
                session.add(user)
                session.commit()
    except UserError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(token)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="the login name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Set a user's web password; their open sessions end."""
    from infra.db import make_engine, session_factory
    from infra.passwords import PasswordError, set_password

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_factory(engine)() as session:
            set_password(session, name, _read_password(password_stdin))
    except PasswordError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
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
    table = Table("name", "role", "unit", "created", "disabled")
    for u in users:
        table.add_row(u.name, u.role, u.unit or "", u.created_at.isoformat(), str(u.disabled))
    console.print(table)


def event_schemas() -> dict[str, dict[str, Any]]:
    from pydantic import TypeAdapter

    from models.camera import CameraAlarm
    from models.complaints import ComplaintReceived
    from models.credit import CreditPlatformEvent
    from models.inspections import InspectionReport
    from models.notifications import DeadLetter, Notification
    from models.registry import RegistryEvent

    return {
        "inbound/complaint": ComplaintReceived.model_json_schema(),
        "inbound/registry": TypeAdapter(RegistryEvent).json_schema(),
        "inbound/camera-alarm": CameraAlarm.model_json_schema(),
        "inbound/inspection": InspectionReport.model_json_schema(),
        "outbound/notification": Notification.model_json_schema(),
        "outbound/credit-platform": CreditPlatformEvent.model_json_schema(),
        "outbound/dead-letter": DeadLetter.model_json_schema(),
    }


@schema_app.command("export")
def schema_export(
    directory: Annotated[Path, typer.Argument(help="where to write the *.schema.json files")],
) -> None:
    """Write a JSON Schema for every inbound and outbound event type."""
    for name, schema in event_schemas().items():
        path = directory / f"{name}.schema.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8"
        )
        console.print(f"wrote {path}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
