"""Registry activities: institutions, devices and the staff registry's reporting lines, applied
once per event; the checks against bans are in `ban_checks`, what they read in `queries`."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from temporalio import activity

from infra import audit
from infra.db import SessionFactory
from models.audit import AuditEntry
from models.camera import Device
from models.institutions import Institution
from models.registry import (
    DeviceRegistered,
    InstitutionRegistered,
    RegistryCommand,
    StaffCheckResult,
)
from models.staff import Employment
from workflows.registry.ban_checks import ACTOR, BanChecks, audit_staff
from workflows.registry.queries import current_employment


class RegistryActivities(BanChecks):
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def all(self) -> list[Any]:
        return [self.apply_registry_event, self.recheck_employment, self.check_face_match]

    @activity.defn
    def apply_registry_event(self, command: RegistryCommand) -> StaffCheckResult | None:
        """Apply one registry event; safe to repeat (keyed by the event id)."""
        # Applied once per event id (its audit record's key): a replayed topic may bring an
        # event again to its institution's workflow, and the trail's unique key would refuse
        # the second record (an IntegrityError, which is not retried).
        if command.institution is not None:
            with self._sessions() as session:
                if not audit.exists(session, command.institution.event_id):
                    self._register(session, command.institution)
                    session.commit()
            return None
        if command.device is not None:
            with self._sessions() as session:
                if not audit.exists(session, command.device.event_id):
                    self._register_device(session, command.device)
                    session.commit()
            return None
        staff = command.staff
        assert staff is not None
        if staff.type in ("staff-hired", "check"):
            return self._check_and_hire(staff)
        with self._sessions() as session:
            if audit.exists(session, staff.event_id):
                return None
            rows = current_employment(session, staff.person.id_hash, staff.institution_id or "")
            for row in rows:
                row.valid_to, row.end_reason = staff.occurred_at, staff.type.replace("staff-", "")
                session.add(row)
                if staff.type == "manager-changed":
                    session.add(
                        Employment(
                            person_hash=row.person_hash,
                            person_masked=row.person_masked,
                            name=row.name,
                            institution_id=row.institution_id,
                            role=row.role,
                            manager_hash=staff.manager.id_hash if staff.manager else None,
                            valid_from=staff.occurred_at,
                            source_event_id=staff.event_id,
                        )
                    )
            audit_staff(session, staff, f"staff.{staff.type.replace('staff-', '')}")
            session.commit()
        return None

    def _register(self, session: Session, event: InstitutionRegistered) -> None:
        session.merge(
            Institution(
                id=event.institution_id,
                name=event.name,
                town=event.town,
                registrar=event.registrar,
                registered_at=event.occurred_at,
            )
        )
        audit.append(
            session,
            AuditEntry(
                actor=ACTOR,
                action="institution.registered",
                channel="kafka",
                institution=event.name,
                occurred_at=event.occurred_at,
                idempotency_key=event.event_id,
                details={
                    "institution_id": event.institution_id,
                    "town": event.town,
                    "registrar": event.registrar,
                },
            ),
        )

    def _register_device(self, session: Session, event: DeviceRegistered) -> None:
        session.merge(
            Device(
                id=event.device_id,
                institution_id=event.institution_id,
                name=event.name,
                registered_at=event.occurred_at,
                sip_ha1=event.sip_ha1,
                sip_ha1_sha256=event.sip_ha1_sha256,
                keepalive_interval=event.keepalive_interval,
                rooms=dict(event.rooms),
            )
        )
        institution = session.get(Institution, event.institution_id)
        audit.append(
            session,
            AuditEntry(
                actor=ACTOR,
                action="device.registered",
                channel="kafka",
                institution=institution.name if institution else event.institution_id,
                occurred_at=event.occurred_at,
                idempotency_key=event.event_id,
                details={"device_id": event.device_id, "institution_id": event.institution_id},
            ),
        )
