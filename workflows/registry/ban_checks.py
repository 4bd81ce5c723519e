"""The registry's checks against the ban registry, as a mixin of `RegistryActivities`: a hire
(or an HTTP check) against active bans, the yearly and per-ban re-check of everyone employed,
and a face seen by a camera. A banned person is reported at once (`alerts`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select
from temporalio import activity

from infra import audit, notify
from infra.db import SessionFactory
from models.audit import AuditEntry
from models.bans import Ban, BanStatus
from models.camera import FaceMatch
from models.complaints import Category, Channel, ComplaintReceived
from models.institutions import Institution
from models.notifications import Notification
from models.registry import StaffCheckResult, StaffCommand
from models.staff import CheckResult, Employment, StaffCheck, StaffRole
from models.workflow_io import RecheckEmployment
from workflows.registry.alerts import ban_alerts
from workflows.registry.queries import active_bans, institution_of

ACTOR = "system:registry"


def audit_staff(session: Session, staff: StaffCommand, action: str, **details: Any) -> None:
    audit.append(
        session,
        AuditEntry(
            actor=ACTOR,
            action=action,
            channel=staff.channel,
            occurred_at=staff.occurred_at,
            idempotency_key=staff.event_id,
            person_hash=staff.person.id_hash,
            details={
                "institution_id": staff.institution_id,
                "person": staff.person.id_masked,
                "manager": staff.manager.id_masked if staff.manager else None,
                **details,
            },
        ),
    )


class BanChecks:
    _sessions: SessionFactory

    def _check_and_hire(self, staff: StaffCommand) -> StaffCheckResult:
        person = staff.person
        alerts: list[Notification] = []
        with self._sessions() as session:
            bans = active_bans(session, person.id_hash)
            institution = session.get(Institution, staff.institution_id or "")
            if bans:
                alerts = ban_alerts(
                    key=staff.event_id,
                    person_masked=person.id_masked,
                    name=person.name,
                    institution_id=staff.institution_id,
                    institution_name=institution.name if institution else None,
                    town=institution.town if institution else None,
                    reason="hiring" if staff.type == "staff-hired" else "api",
                    at=staff.occurred_at,
                )
            recorded = False
            if session.get(StaffCheck, staff.event_id) is None:
                session.add(
                    StaffCheck(
                        id=staff.event_id,
                        person_hash=person.id_hash,
                        person_masked=person.id_masked,
                        institution_id=staff.institution_id,
                        reason="hiring" if staff.type == "staff-hired" else "api",
                        result=CheckResult.BANNED if bans else CheckResult.CLEAR,
                        checked_at=datetime.now(UTC),
                    )
                )
                if staff.type == "staff-hired" and not bans and institution is not None:
                    session.add(
                        Employment(
                            person_hash=person.id_hash,
                            person_masked=person.id_masked,
                            name=person.name,
                            institution_id=institution.id,
                            role=staff.role or StaffRole.OTHER,
                            manager_hash=staff.manager.id_hash if staff.manager else None,
                            valid_from=staff.occurred_at,
                            source_event_id=staff.event_id,
                        )
                    )
                    recorded = True
                action = (
                    "staff.rejected" if bans else ("staff.hired" if recorded else "staff.checked")
                )
                audit_staff(session, staff, action, bans=[b.id for b in bans])
                notify.record(session, alerts, institution.name if institution else None)
                session.commit()
        if bans:
            message = "该人员已被终身禁入，不得录用；已通知卫生健康、公安部门和属地镇（街道）。"
        elif staff.type == "staff-hired" and institution is None:
            message = "核查通过，但该机构尚未登记，未记录入职。"
        else:
            message = "核查通过，未发现禁入记录。"
        return StaffCheckResult(
            eligible=not bans,
            person_masked=person.id_masked,
            bans=[b.id for b in bans],
            recorded=recorded,
            message=message,
        )

    @activity.defn
    def recheck_employment(self, params: RecheckEmployment) -> int:
        """Check everyone currently employed (or only `person_hashes`) against active bans;
        alert for each match. Returns how many were found."""
        with self._sessions() as session:
            query = (
                select(Employment, Ban, Institution)
                .join(Ban, col(Ban.person_hash) == col(Employment.person_hash))
                .join(Institution, col(Institution.id) == col(Employment.institution_id))
                .where(col(Employment.valid_to).is_(None))
                .where(Ban.status == BanStatus.ACTIVE)
            )
            if params.person_hashes:
                query = query.where(col(Employment.person_hash).in_(params.person_hashes))
            matches = {e.id: (e, i) for e, _, i in session.exec(query).all()}
            total = session.exec(
                select(Employment.id).where(col(Employment.valid_to).is_(None))
            ).all()
            alerts = [
                alert
                for employment, institution in matches.values()
                for alert in ban_alerts(
                    key=f"{params.key}:{employment.id}",
                    person_masked=employment.person_masked,
                    name=employment.name,
                    institution_id=institution.id,
                    institution_name=institution.name,
                    town=institution.town,
                    reason=params.reason,
                    at=params.at,
                    case_id=params.case_id,
                )
            ]
            for employment, institution in matches.values():
                key = f"{params.key}:{employment.id}"
                if session.get(StaffCheck, key) is None:
                    session.add(
                        StaffCheck(
                            id=key,
                            person_hash=employment.person_hash,
                            person_masked=employment.person_masked,
                            institution_id=institution.id,
                            reason=params.reason,
                            result=CheckResult.BANNED,
                            checked_at=params.at,
                        )
                    )
            notify.record(session, alerts, None)
            audit.append(
                session,
                AuditEntry(
                    actor=ACTOR,
                    action="staff.rechecked",
                    occurred_at=params.at,
                    case_id=params.case_id,
                    idempotency_key=params.key,
                    details={
                        "reason": params.reason,
                        "checked": len(total) if not params.person_hashes else None,
                        "banned_found": len(matches),
                    },
                ),
            )
            session.commit()
        activity.logger.info("recheck %s: %d banned person(s) employed", params.key, len(matches))
        return len(matches)

    @activity.defn
    def check_face_match(self, match: FaceMatch) -> ComplaintReceived | None:
        """A face seen by a camera: a banned person is reported at once and becomes a
        critical case (returned as the complaint to open it with)."""
        with self._sessions() as session:
            bans = active_bans(session, match.person.id_hash)
            institution = institution_of(session, match.device_id, match.institution_id)
            if not bans or institution is None:
                return None
            person = match.person
            alerts = ban_alerts(
                key=f"camera:{match.event_id}",
                person_masked=person.id_masked,
                name=person.name,
                institution_id=institution.id,
                institution_name=institution.name,
                town=institution.town,
                reason="camera",
                at=match.occurred_at,
            )
            # A replayed alarm finds its check and adds nothing.
            if session.get(StaffCheck, f"camera:{match.event_id}") is None:
                session.add(
                    StaffCheck(
                        id=f"camera:{match.event_id}",
                        person_hash=person.id_hash,
                        person_masked=person.id_masked,
                        institution_id=institution.id,
                        reason="camera",
                        result=CheckResult.BANNED,
                        checked_at=match.occurred_at,
                    )
                )
                notify.record(session, alerts, institution.name)
                session.commit()
        return ComplaintReceived(
            event_id=f"camera:{match.event_id}",
            occurred_at=match.occurred_at,
            channel=Channel.CAMERA,
            category=Category.BANNED_PERSON,
            town=institution.town,
            institution_id=institution.id,
            institution_name=institution.name,
            description=(
                f"视频监控人脸识别（设备 {match.device_id}）发现终身禁入人员 "
                f"{person.name}（{person.id_masked}）出现在{institution.name}。"
            ),
            anonymous=True,
        )
