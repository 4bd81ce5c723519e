"""What the registry activities (and the alarms') read: an alarm's institution, a person's
active bans, a person's current employment at an institution."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.bans import Ban, BanStatus
from models.camera import Device
from models.institutions import Institution
from models.staff import Employment


def institution_of(
    session: Session, device_id: str, institution_id: str | None
) -> Institution | None:
    """The institution an alarm concerns: as stated, else the one its device serves."""
    if institution_id is None:
        device = session.get(Device, device_id)
        institution_id = device.institution_id if device is not None else None
    return session.get(Institution, institution_id) if institution_id else None


def active_bans(session: Session, person_hash: str) -> list[Ban]:
    return list(
        session.exec(
            select(Ban).where(Ban.person_hash == person_hash).where(Ban.status == BanStatus.ACTIVE)
        ).all()
    )


def current_employment(session: Session, person_hash: str, institution_id: str) -> list[Employment]:
    return list(
        session.exec(
            select(Employment)
            .where(Employment.person_hash == person_hash)
            .where(Employment.institution_id == institution_id)
            .where(col(Employment.valid_to).is_(None))
        ).all()
    )
