"""Ban activities: issue the bans of a substantiated abuse, correct one by authority."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select
from temporalio import activity

from infra.db import SessionFactory
from models.bans import Ban, BanRole, BanStatus
from models.cases import Case
from models.credit import EnforcementPolicy
from models.enforcement import BanIssued, CorrectBan, IssueBans
from models.integrity import IntegrityKind
from models.people import PersonRef
from models.staff import Employment
from workflows.enforcement import texts
from workflows.enforcement.common import audit_step, file_line


class BanActivities:
    def __init__(self, session_factory: SessionFactory, policy: EnforcementPolicy) -> None:
        self._sessions = session_factory
        self._policy = policy

    def all(self) -> list[Callable[..., Any]]:
        return [self.issue_bans, self.correct_ban]

    @activity.defn
    def issue_bans(self, params: IssueBans) -> list[BanIssued]:
        """Ban each person named and their direct manager at the time of the abuse."""
        issued: list[BanIssued] = []
        with self._sessions() as session:
            case = session.get(Case, params.case_id)
            assert case is not None
            for person in params.persons:
                issued.append(self._ban(session, case, person, BanRole.PERPETRATOR, params))
                for manager in self._managers_at(session, case, person, params.abuse_at):
                    issued.append(self._ban(session, case, manager, BanRole.DIRECT_MANAGER, params))
            session.commit()
        return list({b.ban_id: b for b in issued}.values())

    @staticmethod
    def _managers_at(
        session: Session, case: Case, person: PersonRef, at: datetime
    ) -> list[PersonRef]:
        query = (
            select(Employment)
            .where(Employment.person_hash == person.id_hash)
            .where(col(Employment.valid_from) <= at)
            .where(or_(col(Employment.valid_to).is_(None), col(Employment.valid_to) > at))
        )
        if case.institution_id:
            query = query.where(Employment.institution_id == case.institution_id)
        managers: list[PersonRef] = []
        for line in session.exec(query).all():
            if line.manager_hash is None:
                continue
            known = session.exec(
                select(Employment)
                .where(Employment.person_hash == line.manager_hash)
                .order_by(col(Employment.valid_from).desc())
            ).first()
            if known is not None:
                managers.append(
                    PersonRef(
                        id_hash=known.person_hash, id_masked=known.person_masked, name=known.name
                    )
                )
        return managers

    def _ban(
        self, session: Session, case: Case, person: PersonRef, role: BanRole, params: IssueBans
    ) -> BanIssued:
        ban_id = f"{case.id}:{role}:{person.id_hash[:16]}"
        if session.get(Ban, ban_id) is None:
            session.add(
                Ban(
                    id=ban_id,
                    person_hash=person.id_hash,
                    person_masked=person.id_masked,
                    name=person.name,
                    role=role,
                    case_id=case.id,
                    institution_id=case.institution_id,
                    legal_basis=self._policy.ban_legal_basis,
                    reason=params.reason,
                    banned_at=params.decided_at,
                )
            )
            what = texts.PERPETRATOR if role is BanRole.PERPETRATOR else texts.DIRECT_MANAGER
            audit_step(
                session,
                "ban.issued",
                f"ban:{ban_id}",
                case,
                params.decided_at,
                reason=params.reason,
                person_hash=person.id_hash,
                ban_id=ban_id,
                person=person.id_masked,
                role=role,
            )
            file_line(
                session,
                case,
                f"ban:{ban_id}",
                IntegrityKind.BAN,
                texts.BAN_SUMMARY.format(what=what, name=person.name, masked=person.id_masked),
                params.decided_at,
                ban_id=ban_id,
                role=role,
            )
        return BanIssued(
            ban_id=ban_id,
            person_hash=person.id_hash,
            person_masked=person.id_masked,
            name=person.name,
            role=role,
        )

    @activity.defn
    def correct_ban(self, params: CorrectBan) -> bool:
        """Lift a ban by an authorised correction; the row and its history stay."""
        assert params.at is not None
        with self._sessions() as session:
            ban = session.get(Ban, params.ban_id)
            if ban is None:
                return False
            if ban.status == BanStatus.CORRECTED:
                return True
            ban.status, ban.corrected_at = BanStatus.CORRECTED, params.at
            ban.corrected_by, ban.correction_reason = params.actor.label, params.reason
            session.add(ban)
            case = session.get(Case, ban.case_id)
            assert case is not None
            audit_step(
                session,
                "ban.corrected",
                f"ban-correction:{ban.id}",
                case,
                params.at,
                by=params.actor,
                reason=params.reason,
                person_hash=ban.person_hash,
                ban_id=ban.id,
                person=ban.person_masked,
            )
            file_line(
                session,
                case,
                f"ban-correction:{ban.id}",
                IntegrityKind.BAN,
                texts.BAN_CORRECTED.format(
                    name=ban.name, masked=ban.person_masked, reason=params.reason
                ),
                params.at,
                ban_id=ban.id,
            )
            session.commit()
        return True
