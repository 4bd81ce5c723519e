"""Who may register and who is registered.

`Directory` reads the device registry (the `devices` table, filled from `device-registered`
events): the institution, the digest HA1s, the keepalive interval and the rooms of its
channels. `Registrations` holds the current registrations in memory, written through to
`sip_registrations` so that a restarted gateway still accepts the keepalives and alarms of
devices that registered before (they re-register only when their registration expires).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import select

from infra.db import SessionFactory
from infra.metrics import SIP_REGISTERED
from models.camera import Device, DeviceChannel, SipRegistration


@dataclass(frozen=True)
class DeviceEntry:
    device_id: str
    institution_id: str
    ha1: dict[str, str]  # algorithm -> HA1 hex
    keepalive_interval: int | None
    rooms: dict[str, str]


@dataclass
class Registration:
    device_id: str
    institution_id: str
    host: str
    port: int
    transport: str
    registered_at: float
    expires_at: float
    gb_version: str | None = None
    offline_after: float = 180.0
    rooms: dict[str, str] = field(default_factory=dict)
    subscription_expires_at: float | None = None
    subscription: dict[str, str] | None = None  # call-id, tags, cseq of the alarm dialog

    @property
    def is_2022(self) -> bool:
        try:
            return float(self.gb_version or "0") >= 3.0
        except ValueError:
            return False


@dataclass(frozen=True)
class Channel:
    channel_id: str
    name: str | None
    status: str | None


class Directory:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def device(self, device_id: str) -> DeviceEntry | None:
        with self._sessions() as session:
            row = session.get(Device, device_id)
            if row is None:
                return None
            ha1 = {"MD5": row.sip_ha1, "SHA-256": row.sip_ha1_sha256}
            return DeviceEntry(
                device_id=row.id,
                institution_id=row.institution_id,
                ha1={k: v for k, v in ha1.items() if v},
                keepalive_interval=row.keepalive_interval,
                rooms=dict(row.rooms or {}),
            )

    def store_channels(self, registration: Registration, channels: list[Channel]) -> None:
        now = datetime.now(UTC)
        with self._sessions() as session:
            for channel in channels:
                session.merge(
                    DeviceChannel(
                        device_id=registration.device_id,
                        channel_id=channel.channel_id,
                        name=channel.name,
                        room=registration.rooms.get(channel.channel_id) or channel.name,
                        status=channel.status,
                        updated_at=now,
                    )
                )
            session.commit()

    def room_of(self, device_id: str, channel_id: str) -> str | None:
        with self._sessions() as session:
            row = session.get(DeviceChannel, (device_id, channel_id))
            return row.room if row is not None else None


def _ts(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class Registrations:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._current: dict[str, Registration] = {}

    def load(
        self, directory: Directory, now: float, default_offline_after: float, missed: int
    ) -> int:
        """The registrations that had not expired when the gateway stopped."""
        with self._sessions() as session:
            rows = session.exec(select(SipRegistration)).all()
        for row in rows:
            entry = directory.device(row.device_id)
            if entry is None or _ts(row.expires_at) <= now:
                continue
            self._current[row.device_id] = Registration(
                device_id=row.device_id,
                institution_id=entry.institution_id,
                host=row.host,
                port=row.port,
                transport=row.transport,
                registered_at=_ts(row.registered_at),
                expires_at=_ts(row.expires_at),
                gb_version=row.gb_version,
                offline_after=(
                    float(entry.keepalive_interval * missed)
                    if entry.keepalive_interval
                    else default_offline_after
                ),
                rooms=entry.rooms,
                subscription_expires_at=(
                    _ts(row.subscription_expires_at) if row.subscription_expires_at else None
                ),
            )
        SIP_REGISTERED.set(len(self._current))
        return len(self._current)

    def get(self, device_id: str, now: float) -> Registration | None:
        found = self._current.get(device_id)
        return found if found is not None and found.expires_at > now else None

    def put(self, registration: Registration) -> None:
        self._current[registration.device_id] = registration
        SIP_REGISTERED.set(len(self._current))
        self._save(registration)

    def _save(self, registration: Registration) -> None:
        with self._sessions() as session:
            session.merge(
                SipRegistration(
                    device_id=registration.device_id,
                    host=registration.host,
                    port=registration.port,
                    transport=registration.transport,
                    gb_version=registration.gb_version,
                    registered_at=_dt(registration.registered_at),
                    expires_at=_dt(registration.expires_at),
                    subscription_expires_at=(
                        _dt(registration.subscription_expires_at)
                        if registration.subscription_expires_at
                        else None
                    ),
                )
            )
            session.commit()

    def subscribed(self, registration: Registration, expires: int, now: float) -> None:
        registration.subscription_expires_at = now + expires
        self._save(registration)

    def remove(self, device_id: str) -> Registration | None:
        gone = self._current.pop(device_id, None)
        SIP_REGISTERED.set(len(self._current))
        with self._sessions() as session:
            row = session.get(SipRegistration, device_id)
            if row is not None:
                session.delete(row)
                session.commit()
        return gone

    def expired(self, now: float) -> list[Registration]:
        return [r for r in self._current.values() if r.expires_at <= now]

    def refresh_due(self, now: float) -> list[Registration]:
        """2022 devices whose alarm subscription is within its last third (or missing)."""
        due = []
        for r in self._current.values():
            if not r.is_2022 or r.expires_at <= now or r.subscription is None:
                continue
            left = (r.subscription_expires_at or 0) - now
            total = float(r.subscription.get("expires", "3600"))
            if left <= total / 3:
                due.append(r)
        return due
