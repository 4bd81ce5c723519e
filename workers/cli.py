"""The `tuoyu` command line."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from infra.logs import configure as configure_logging
from infra.settings import get_settings
from workers.cli_audit import audit_app, audit_key_line, bounded
from workers.cli_devices import devices_app
from workers.cli_parked import parked_app
from workers.cli_schema import schema_app
from workers.cli_users import users_app
from workers.cli_vault import vault_app

app = typer.Typer(
    help="tuoyu: supervision of childcare institutions (Kaili City).", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
app.add_typer(schema_app, name="schema")
app.add_typer(users_app, name="users")
app.add_typer(parked_app, name="parked")
app.add_typer(vault_app, name="vault")
app.add_typer(devices_app, name="devices")
console = Console()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"tuoyu {version('tuoyu')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """tuoyu: supervision of childcare institutions (Kaili City)."""


@app.command("upgrade-check")
def upgrade_check_command(
    query: Annotated[
        str, typer.Option(help="visibility query selecting the workflows to replay")
    ] = 'ExecutionStatus="Running"',
) -> None:
    """Replay every open workflow's history on this code before restarting the workers on it;
    exit 1 if any would break determinism."""
    import asyncio

    from infra.temporal import connect
    from workers.temporal_worker import WORKFLOWS
    from workers.upgrade import upgrade_check

    settings = get_settings()

    async def check() -> list[Any]:
        client = await connect(settings)
        return await upgrade_check(client, WORKFLOWS, query)

    outcomes = asyncio.run(check())
    broken = [o for o in outcomes if not o.ok]
    for o in broken:
        console.print(f"[red]would break[/red] {o.workflow_type} {o.workflow_id}: {o.error}")
    console.print(f"{len(outcomes)} open workflows replayed, {len(broken)} would break")
    if broken:
        raise typer.Exit(1)


@app.command()
def up() -> None:
    """Start everything with the embedded defaults, in the foreground; Ctrl-C stops it all."""
    import threading
    import time

    from workers.stack import Stack
    from workers.supervision import CrashLoop

    began = time.monotonic()
    settings = get_settings()
    configure_logging(settings.log_level)
    stack = Stack(settings)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():
            return  # already stopping: a second Ctrl-C changes nothing, the stop is bounded
        stop.set()
        if not started or stack.supervisor.busy:
            raise KeyboardInterrupt  # interrupt the start-up or a restart where it is

    started = False
    # Installed explicitly: a shell that starts us in the background ignores SIGINT for us.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        started = True
        table = Table(title="tuoyu is up", show_header=False)
        for name, where in stack.endpoints():
            table.add_row(name, where)
        console.print(table)
        console.print(f"Ready {time.monotonic() - began:.1f}s after `tuoyu up` started.")
        make_started = os.environ.get("MAKE_UP_STARTED")  # set by `make up`
        if make_started:
            since = time.time() - float(make_started)
            console.print(f"`make up` to ready (install, Java, jars, start): {since:.0f}s.")
        console.print(audit_key_line(settings))
        console.print("Press Ctrl-C to stop.")
        stack.supervise(stop)
    except KeyboardInterrupt:
        pass
    except CrashLoop as exc:
        console.print(f"[red]{exc}[/red]")
        console.print("[red]Stopping everything.[/red]")
        stack.stop()
        raise typer.Exit(1) from None
    except Exception:
        stack.stop()
        raise
    t = time.monotonic()
    console.print("Stopping…")
    stack.stop()
    console.print(f"Stopped in {time.monotonic() - t:.1f}s.")


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


def _percent(rate: Any) -> str:
    return "—" if rate.value is None else f"{rate.value:.1%} ({rate.hits}/{rate.total})"


_bounded = bounded  # shared with `tuoyu audit query`


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
    _bounded(start, "--from")
    _bounded(end, "--to")
    first = start.date() if start else today.replace(day=1)
    last = end.date() if end else today
    if last < first:
        raise typer.BadParameter("统计截止日期不能早于起始日期。", param_hint="--to")
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
