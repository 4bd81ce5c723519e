"""audit: (institution, seq) and (case_id, seq) indexes for newest-first pages

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index("ix_audit_records_institution_seq", ["institution", "seq"])
        batch_op.create_index("ix_audit_records_case_id_seq", ["case_id", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_case_id_seq")
        batch_op.drop_index("ix_audit_records_institution_seq")
