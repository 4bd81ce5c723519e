"""Inbound events on `tuoyu.registry`: institutions registered; staff hired, leaving, changing
manager. Identity numbers arrive in clear text and are hashed when the event is parsed; what
travels on from there is the `*Command` form, with `PersonRef`s only."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from models.bounds import EventTime, Line
from models.institutions import Registrar
from models.people import PersonIdentity, PersonRef
from models.staff import StaffRole

ChannelKey = Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,64}$")]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    event_id: Line = Field(min_length=1, max_length=128, description="idempotency key")
    occurred_at: EventTime


class InstitutionRegistered(_Event):
    type: Literal["institution-registered"]
    institution_id: Line = Field(min_length=1, max_length=64)
    name: Line = Field(min_length=1, max_length=200)
    town: Line = Field(min_length=1, max_length=64)
    registrar: Registrar


class StaffHired(_Event):
    type: Literal["staff-hired"]
    institution_id: Line = Field(min_length=1, max_length=64)
    person: PersonIdentity
    role: StaffRole
    manager: PersonIdentity | None = None


class StaffLeft(_Event):
    type: Literal["staff-left"]
    institution_id: Line = Field(min_length=1, max_length=64)
    person: PersonIdentity


class ManagerChanged(_Event):
    type: Literal["manager-changed"]
    institution_id: Line = Field(min_length=1, max_length=64)
    person: PersonIdentity
    manager: PersonIdentity | None


class DeviceRegistered(_Event):
    """A camera or video recorder connected for an institution (GB/T 28181 device id)."""

    type: Literal["device-registered"]
    device_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")
    institution_id: Line = Field(min_length=1, max_length=64)
    name: Line | None = Field(default=None, max_length=200)
    sip_ha1: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{32}$",
        description="SIP digest HA1, MD5(device_id:realm:password) in lowercase hex; the "
        "password itself never travels. Without it the device cannot register.",
    )
    sip_ha1_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256(device_id:realm:password), for devices that offer SHA-256 digest",
    )
    keepalive_interval: int | None = Field(
        default=None, ge=5, le=3600, description="seconds between the device's keepalives"
    )
    rooms: dict[ChannelKey, Annotated[Line, Field(max_length=200)]] = Field(
        default={}, max_length=512, description="channel id -> the room of the institution"
    )


RegistryEvent = Annotated[
    InstitutionRegistered | StaffHired | StaffLeft | ManagerChanged | DeviceRegistered,
    Field(discriminator="type"),
]


class RegistryEnvelope(BaseModel):
    event: RegistryEvent


# After hashing: what workflows and activities see.


class StaffCommand(BaseModel):
    type: Literal["staff-hired", "staff-left", "manager-changed", "check"]
    event_id: str
    occurred_at: AwareDatetime
    institution_id: str | None = None
    person: PersonRef
    role: StaffRole | None = None
    manager: PersonRef | None = None
    channel: str = "kafka"


class RegistryCommand(BaseModel):
    institution: InstitutionRegistered | None = None
    staff: StaffCommand | None = None
    device: DeviceRegistered | None = None

    @property
    def event_id(self) -> str:
        event = self.institution or self.staff or self.device
        assert event is not None
        return event.event_id


class StaffCheckResult(BaseModel):
    eligible: bool
    person_masked: str
    bans: list[str] = Field(default=[], description="ids of active bans on this person")
    recorded: bool = Field(default=False, description="employment recorded")
    message: str


def registry_key(command: RegistryCommand) -> str:
    """The Kafka key of a registry event (the institution), and its ordering workflow's key."""
    event = command.institution or command.device or command.staff
    assert event is not None
    return event.institution_id or command.event_id


class RegistryStream(BaseModel):
    """Input of one institution's registry workflow; carried over on continue-as-new."""

    key: str
    seen: list[str] = Field(default=[], description="the latest event ids applied")
    pending: list[RegistryCommand] = Field(default=[], description="received, not yet applied")
    events_per_run: int = Field(default=500, description="then continue as new")
