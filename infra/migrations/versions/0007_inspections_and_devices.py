"""inspections and devices

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 11:44:19.893097
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("registered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_devices_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "inspection_findings",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("institution_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("town", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("inspector_unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("found_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inspection_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_findings_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inspection_findings_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspection_findings_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_findings_town"), ["town"], unique=False)

    with op.batch_alter_table("complainant_contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("taken_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("complainant_contacts", schema=None) as batch_op:
        batch_op.drop_column("taken_by")

    with op.batch_alter_table("inspection_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_findings_town"))
        batch_op.drop_index(batch_op.f("ix_inspection_findings_status"))
        batch_op.drop_index(batch_op.f("ix_inspection_findings_institution_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_findings_event_id"))

    op.drop_table("inspection_findings")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_institution_id"))

    op.drop_table("devices")
