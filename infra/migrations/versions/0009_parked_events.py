"""parked events

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "parked_events",
        sa.Column("id", text(length=200), nullable=False),
        sa.Column("workflow_id", text(length=200), nullable=False),
        sa.Column("workflow_type", text(length=64), nullable=False),
        sa.Column("kind", text(length=32), nullable=False),
        sa.Column("event_id", text(length=200), nullable=True),
        sa.Column("case_id", text(length=32), nullable=True),
        sa.Column("key", text(length=200), nullable=True),
        sa.Column("error_type", text(length=64), nullable=False),
        sa.Column("reason", text(), nullable=False),
        sa.Column("payload", text(), nullable=False),
        sa.Column("dead_letter_id", text(length=200), nullable=False),
        sa.Column("parked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resolved_by", text(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("kind", "event_id", "case_id", "parked_at"):
        op.create_index(f"ix_parked_events_{column}", "parked_events", [column], unique=False)


def downgrade() -> None:
    for column in ("kind", "event_id", "case_id", "parked_at"):
        op.drop_index(f"ix_parked_events_{column}", table_name="parked_events")
    op.drop_table("parked_events")
