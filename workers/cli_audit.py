"""`tuoyu audit ...`: the tamper-evident audit trail (a Merkle log with signed tree heads,
witnessed outside the database, verified under the operator's pinned key).

A little over 300 lines, kept whole: its eight subcommands share the pinned-key and time-bound
helpers, and `verify`, `prove` and `consistency` are read together when a chain is in doubt."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from infra.settings import get_settings

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
console = Console()


def bounded(moment: datetime | None, option: str) -> datetime | None:
    """A date option out of range is a usage error (exit 2), not a traceback."""
    from models.bounds import query_datetime

    if moment is None:
        return None
    try:
        return query_datetime(moment)
    except ValueError:
        raise typer.BadParameter(
            "日期须在 2000-01-01 与 2100-01-01 之间。", param_hint=option
        ) from None


def audit_key_line(settings: Any) -> str:
    """The signing key's fingerprint, for the operator to compare with the pinned one."""
    from infra.signing import PinError, load_signer, pinned_keys

    signer = load_signer(settings)
    try:
        pinned = signer.public_key in pinned_keys(settings)
    except PinError:
        pinned = False
    state = (
        "pinned"
        if pinned
        else "[yellow]not pinned: run `tuoyu audit pin-key --out PATH` (outside the data dir) "
        "and set TUOYU_AUDIT_PUBLIC_KEY_FILE[/yellow]"
    )
    return f"Audit signing key id {signer.key_id} ({state})"


def pinned_keys_or_exit(settings: Any) -> set[str]:
    from infra.signing import PinError, pinned_keys

    try:
        return pinned_keys(settings)
    except PinError as exc:
        console.print(f"[red]Cannot verify: {exc}.[/red]")
        raise typer.Exit(2) from None


@audit_app.command("verify")
def audit_verify(
    topic: Annotated[
        bool, typer.Option("--topic/--no-topic", help="also read tuoyu.audit-checkpoints")
    ] = True,
) -> None:
    """Exit 0 when the hash chain, its signed tree heads and the witnessed heads (the
    witness file, and the topic when reachable) agree under the pinned key; 1 naming the
    first bad record or the missing range; 2 when no key is pinned."""
    from infra import audit_tree, audit_witness
    from infra.audit import verify_session
    from infra.db import make_engine, session_factory

    settings = get_settings()
    trusted = pinned_keys_or_exit(settings)
    try:
        heads = audit_witness.read_file(audit_witness.witness_file(settings))
    except ValueError as exc:
        console.print(f"[red]Audit witness damaged: {exc}[/red]")
        raise typer.Exit(1) from None
    sources = [f"{audit_witness.witness_file(settings)} ({len(heads)} heads)"]
    if topic:
        try:
            on_topic = audit_witness.read_topic(settings)
            heads += on_topic
            sources.append(f"the topic ({len(on_topic)} heads)")
        except (OSError, ValueError) as exc:
            console.print(f"[yellow]Witness topic not read: {exc}[/yellow]")
    engine = make_engine(settings.resolved_database_url, writer=False)
    with session_factory(engine)() as session:
        result = verify_session(session, trusted, heads)
        signed = audit_tree.latest_head(session)
    engine.dispose()
    witnessed = audit_witness.largest(heads)
    if result.ok and signed is not None and witnessed == 0:
        console.print(
            f"[red]Audit trail not verified: the database has signed tree heads (up to "
            f"{signed.seq}) but no witness has any; restore the witness file from its "
            "backup.[/red]"
        )
        raise typer.Exit(1)
    if result.ok:
        against = (
            f"; it extends the witnessed tree head of {witnessed} ({', '.join(sources)})"
            if witnessed
            else "; no tree head witnessed yet"
        )
        console.print(f"Audit trail intact: {result.checked} records{against}.")
        return
    where = f"at record {result.first_bad_seq}" if result.first_bad_seq else "(no record)"
    console.print(f"[red]Audit trail broken {where}: {result.problem}[/red]")
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

    since, until = bounded(since, "--since"), bounded(until, "--until")
    if id_number is not None:
        from infra.identity import IdentityNumberError, load_hasher

        try:
            person_hash = load_hasher(get_settings()).hash(id_number)
        except IdentityNumberError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
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
    """Sign the Merkle log's tree head now (the Temporal worker does this every minute),
    append it to the witness file and publish it to tuoyu.audit-checkpoints."""
    from infra.audit_tree import TreeError
    from infra.audit_witness import sign_and_witness
    from infra.db import make_engine, session_factory
    from infra.kafka import KafkaPublisher, client_options
    from infra.signing import load_signer

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    publisher: KafkaPublisher | None
    try:  # an unreachable broker answers in 3 s, not kafka-python's 30
        options = {**client_options(settings), "bootstrap_timeout_ms": 3000}
        publisher = KafkaPublisher(settings.kafka_bootstrap, timeout=5, options=options)
    except Exception as exc:  # no broker: the witness file still gets the head
        console.print(f"[yellow]Witness topic not reachable: {exc!r}[/yellow]")
        publisher = None
    try:
        head, published = sign_and_witness(
            settings, session_factory(engine), load_signer(settings), publisher
        )
    except TreeError as exc:
        console.print(f"[red]Not signed: {exc}; run `tuoyu audit verify`.[/red]")
        raise typer.Exit(1) from None
    finally:
        if publisher is not None:
            publisher.close()
        engine.dispose()
    if head is None:
        console.print("Nothing new to sign.")
    else:
        topic = "and the topic" if published else "(the topic retries at the next checkpoint)"
        console.print(f"Signed the tree head of {head.tree_size}; witnessed in the file {topic}.")


@audit_app.command("public-key")
def audit_public_key() -> None:
    """The Ed25519 public key (hex) of this data dir's signing key."""
    from infra.signing import load_signer

    typer.echo(load_signer(get_settings()).public_key)


@audit_app.command("pin-key")
def audit_pin_key(
    out: Annotated[Path, typer.Option(help="a file outside the data dir, kept by the operator")],
) -> None:
    """At install: write the signing key's public half where verification will read it, then
    set TUOYU_AUDIT_PUBLIC_KEY_FILE to that path."""
    from infra.signing import PinError, write_pin

    try:
        signer = write_pin(get_settings(), out)
    except PinError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"Pinned key id {signer.key_id} in {out}.")
    console.print(f"Set TUOYU_AUDIT_PUBLIC_KEY_FILE={out.resolve()} wherever it is verified.")


@audit_app.command("prove")
def audit_prove(
    seq: Annotated[int, typer.Argument(min=1, help="the record's sequence number")],
    tree_size: Annotated[
        int | None, typer.Option(help="a signed tree head's size; default the latest")
    ] = None,
) -> None:
    """The record's inclusion proof in a signed tree head (JSON), checked here against the
    pinned key; exit 1 when it does not verify."""
    from infra import audit_proofs

    settings = get_settings()
    try:
        trusted = pinned_keys_or_exit(settings)
        proof = audit_proofs.run(settings, lambda s: audit_proofs.inclusion(s, seq, tree_size))
    except audit_proofs.ProofError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None
    typer.echo(proof.model_dump_json(indent=2))
    bad = audit_proofs.check_inclusion(proof, trusted)
    if bad:
        console.print(f"[red]The proof does not verify: {bad}[/red]")
        raise typer.Exit(1)
    console.print(f"Record {seq} is in the signed tree of {proof.tree_head.tree_size}.")


@audit_app.command("consistency")
def audit_consistency(
    first: Annotated[int, typer.Argument(min=1)],
    second: Annotated[int, typer.Argument(min=1)],
) -> None:
    """The consistency proof that the tree of FIRST records is a prefix of that of SECOND
    (JSON), checked here; exit 1 when it does not verify."""
    from infra import audit_proofs

    settings = get_settings()
    try:
        trusted = pinned_keys_or_exit(settings)
        proof = audit_proofs.run(settings, lambda s: audit_proofs.consistency(s, first, second))
    except audit_proofs.ProofError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None
    typer.echo(proof.model_dump_json(indent=2))
    bad = audit_proofs.check_consistency(proof, trusted)
    if bad:
        console.print(f"[red]The proof does not verify: {bad}[/red]")
        raise typer.Exit(1)
    console.print(f"The tree of {first} is a prefix of the tree of {second}.")


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
