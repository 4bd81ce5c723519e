"""Turning a camera-system alarm into the complaint that opens its case: the device's
institution looked up, the category and urgency chosen, a lost keepalive recorded as a
video-system finding."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from infra import audit, outbox
from infra.claim_check import ClaimCheckStore
from infra.db import SessionFactory
from models import topics
from models.audit import AuditEntry
from models.camera import CameraAlarmKind, DeviceAlarm
from models.cases import case_id_for
from models.complaints import Category, Channel, ComplaintReceived
from models.inspections import (
    FindingCode,
    FindingStatus,
    InspectionFinding,
    InspectionKind,
    Severity,
)
from models.institutions import Institution
from models.notifications import DeadLetter, DeadLetterSource
from models.timeutil import SHANGHAI
from workflows.registry.queries import institution_of

ACTOR = "system:camera"
KIND_NAMES = {
    CameraAlarmKind.INTRUSION: "入侵报警",
    CameraAlarmKind.VIDEO_ALARM: "视频分析报警",
    CameraAlarmKind.DEVICE_ALARM: "设备报警（视频丢失、防拆等）",
    CameraAlarmKind.DEVICE_FAULT: "设备故障",
    CameraAlarmKind.DEVICE_OFFLINE: "设备心跳中断，视频监控系统不能正常工作",
    CameraAlarmKind.OTHER: "其他报警",
}
VIDEO_SYSTEM = (
    CameraAlarmKind.DEVICE_ALARM,
    CameraAlarmKind.DEVICE_FAULT,
    CameraAlarmKind.DEVICE_OFFLINE,
)


def alarm_complaint(alarm: DeviceAlarm, institution: Institution) -> ComplaintReceived:
    """Intrusion and other video alarms are security concerns for Public Security; a failing
    video system is the institution's fault. A first-priority alarm is handled as critical."""
    when = alarm.occurred_at.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M:%S")
    text = (
        f"{institution.name}的摄像设备 {alarm.device_id} 于 {when}（北京时间）"
        f"{KIND_NAMES.get(alarm.kind, '报警')}"
    )
    if alarm.alarm_priority is not None:
        text += f"，报警级别 {alarm.alarm_priority}"
    if alarm.description:
        text += f"：{alarm.description}"
    return ComplaintReceived(
        event_id=alarm.event_id,
        occurred_at=alarm.occurred_at,
        channel=Channel.CAMERA,
        category=Category.VIDEO_SYSTEM if alarm.kind in VIDEO_SYSTEM else Category.VIDEO_ALARM,
        town=institution.town,
        institution_id=institution.id,
        institution_name=institution.name,
        description=text + "。",
        anonymous=True,
        urgent=alarm.alarm_priority == 1,
    )


def unknown_device_letter(alarm: DeviceAlarm) -> DeadLetter:
    """The same letter however often it is made: its id comes from the alarm's bytes."""
    return DeadLetter.of(
        alarm.model_dump_json().encode(),
        f"unregistered device: {alarm.device_id} (设备未登记到任何托育机构)",
        DeadLetterSource(channel="temporal:AlarmWorkflow"),
    )


class AlarmActivities:
    def __init__(
        self,
        session_factory: SessionFactory,
        claims: ClaimCheckStore | None = None,
    ) -> None:
        self._sessions = session_factory
        self._claims = claims

    def all(self) -> list[Any]:
        return [self.resolve_alarm]

    @activity.defn
    def resolve_alarm(self, alarm: DeviceAlarm) -> ComplaintReceived | None:
        """None for a device no institution is registered for (recorded in the trail)."""
        with self._sessions() as session:
            institution = institution_of(session, alarm.device_id, alarm.institution_id)
            if institution is None:
                if not audit.exists(session, f"alarm:{alarm.event_id}:unknown-device"):
                    # Dead-lettered through the outbox, with the audit record that marks it
                    # done, in one transaction.
                    letter = unknown_device_letter(alarm)
                    value = (
                        self._claims.seal(letter)
                        if self._claims is not None
                        else letter.model_dump_json().encode()
                    )
                    outbox.enqueue(session, topics.DEAD_LETTER, alarm.device_id, value)
                    audit.append(
                        session,
                        AuditEntry(
                            actor=ACTOR,
                            action="camera.unknown-device",
                            channel="camera",
                            occurred_at=alarm.occurred_at,
                            idempotency_key=f"alarm:{alarm.event_id}:unknown-device",
                            reason="设备未登记到任何托育机构",
                            details={
                                "device_id": alarm.device_id,
                                "kind": alarm.kind,
                                "dead_letter": letter.event_id,
                            },
                        ),
                    )
                    session.commit()
                activity.logger.warning("alarm from unregistered device %s", alarm.device_id)
                return None
            complaint = alarm_complaint(alarm, institution)
            if alarm.kind is CameraAlarmKind.DEVICE_OFFLINE:
                finding_id = f"{alarm.event_id}:0"
                if session.get(InspectionFinding, finding_id) is None:
                    session.add(
                        InspectionFinding(
                            id=finding_id,
                            event_id=alarm.event_id,
                            kind=InspectionKind.MONITORING,
                            institution_id=institution.id,
                            institution_name=institution.name,
                            town=institution.town,
                            inspector_unit=ACTOR,
                            code=FindingCode.VIDEO_PSB,
                            severity=Severity.SERIOUS,
                            note=complaint.description,
                            status=FindingStatus.CASE,
                            case_id=case_id_for(complaint.event_id, complaint.occurred_at),
                            found_at=alarm.occurred_at,
                        )
                    )
                    session.commit()
        return complaint
