"""`tuoyu parked`: events that failed for good inside Temporal, for an operator to handle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra.settings import get_settings

parked_app = typer.Typer(
    help="Events parked after a deterministic failure (dead-lettered, cases flagged).",
    no_args_is_help=True,
)
console = Console()


@parked_app.command("list")
def parked_list(
    everything: Annotated[bool, typer.Option("--all", help="resolved ones too")] = False,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
) -> None:
    """Parked events, newest first: what failed, why, and its dead letter's id."""
    from sqlmodel import col, select

    from infra.db import make_engine, session_factory
    from models.parking import ParkedEvent

    engine = make_engine(get_settings().resolved_database_url, writer=False)
    try:
        with session_factory(engine)() as session:
            query = select(ParkedEvent).order_by(col(ParkedEvent.parked_at).desc()).limit(limit)
            if not everything:
                query = query.where(col(ParkedEvent.resolved_at).is_(None))
            rows = session.exec(query).all()
    finally:
        engine.dispose()
    table = Table("id", "kind", "event", "case", "error", "reason", "parked", "resolved")
    for r in rows:
        table.add_row(
            r.id, r.kind, r.event_id or "", r.case_id or "", r.error_type, r.reason[:80],
            r.parked_at.isoformat(timespec="seconds"),
            f"{r.resolved_at:%Y-%m-%d} {r.resolved_by}" if r.resolved_at else "",
        )  # fmt: skip
    console.print(table)


@parked_app.command("resolve")
def parked_resolve(
    park_id: Annotated[str, typer.Argument(help="the id `tuoyu parked list` shows")],
    by: Annotated[str, typer.Option(help="who handled it")],
    note: Annotated[str, typer.Option(help="what was done")] = "",
) -> None:
    """Mark a parked event as handled (recorded in the audit trail)."""
    from infra import audit
    from infra.db import make_engine, session_factory
    from models.audit import AuditEntry
    from models.parking import ParkedEvent

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_factory(engine)() as session:
            row = session.get(ParkedEvent, park_id)
            if row is None:
                console.print(f"[red]no parked event {park_id!r}[/red]")
                raise typer.Exit(2)
            now = datetime.now(UTC)
            row.resolved_at, row.resolved_by = now, by[:128]
            session.add(row)
            audit.append(
                session,
                AuditEntry(
                    actor=f"cli:{by}"[:128],
                    action="event.parked-resolved",
                    case_id=row.case_id,
                    occurred_at=now,
                    reason=note or None,
                    details={"parked": row.id, "event_id": row.event_id},
                ),
            )
            session.commit()
    finally:
        engine.dispose()
    console.print(f"resolved {park_id}")
