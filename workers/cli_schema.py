"""`tuoyu schema export DIR`: a JSON Schema for every inbound and outbound event type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

schema_app = typer.Typer(
    help="JSON Schemas of the events on the contract's topics.", no_args_is_help=True
)
console = Console()


def event_schemas() -> dict[str, dict[str, Any]]:
    from pydantic import TypeAdapter

    from models.audit import SignedTreeHead
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
        "outbound/audit-checkpoint": SignedTreeHead.model_json_schema(),
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
