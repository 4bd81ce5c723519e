"""`tuoyu devices ...`: what a registrar needs to connect a GB/T 28181 device."""

from __future__ import annotations

import json

import typer

from api.sip import digest
from infra.settings import get_settings

devices_app = typer.Typer(help="GB/T 28181 devices (cameras, video recorders).")


@devices_app.command("sip-secret")
def sip_secret(
    device_id: str,
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, help="the device's access password"
    ),
) -> None:
    """Print the `sip_ha1` and `sip_ha1_sha256` fields of the device's `device-registered`
    event: digests of the password for this platform's realm, so the password itself never
    goes on a topic. A new realm (TUOYU_SIP_REALM) needs new digests."""
    realm = get_settings().sip_domain
    typer.echo(
        json.dumps(
            {
                "sip_ha1": digest.ha1(digest.MD5, device_id, realm, password),
                "sip_ha1_sha256": digest.ha1(digest.SHA256, device_id, realm, password),
            }
        )
    )
