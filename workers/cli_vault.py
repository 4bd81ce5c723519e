"""`tuoyu vault ...`: the keys that seal personal data."""

from __future__ import annotations

import base64
import secrets

import typer

from infra.db import make_engine, session_factory
from infra.settings import get_settings
from infra.vault import load_vault
from infra.vault_store import reseal_contacts

vault_app = typer.Typer(help="The vault's keys (personal data, Temporal payloads).")


@vault_app.command("new-key")
def new_key() -> None:
    """Print a new key for TUOYU_VAULT_KEY (base64 of 32 random bytes)."""
    typer.echo(base64.b64encode(secrets.token_bytes(32)).decode())


@vault_app.command("key-id")
def key_id() -> None:
    """The id of the current key (it names the key in every sealed value and payload)."""
    typer.echo(load_vault(get_settings()).kid)


@vault_app.command("rewrap")
def rewrap() -> None:
    """After a rotation: re-wrap the stored contacts' data keys with the current key, and
    seal contacts stored in clear before they were sealed at the edge."""
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_factory(engine)() as session:
            done = reseal_contacts(session, load_vault(settings))
    finally:
        engine.dispose()
    typer.echo(f"re-wrapped {done.rewrapped}, sealed {done.sealed}")
