"""work orders: confidential complaints, related cases, direct answers, pending reviews,
extensions, supervision orders, caller phone hashes, attachments

Revision ID: 0015
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confidential", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("related_to", AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column("knowledge_id", AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("pending", AutoString(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("extended", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("supervisions", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("supervised_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("complainant_contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_hash", AutoString(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_complainant_contacts_phone_hash"), ["phone_hash"], unique=False
        )
    op.create_table(
        "attachments",
        sa.Column("case_id", AutoString(length=32), nullable=False),
        sa.Column("sha256", AutoString(length=64), nullable=False),
        sa.Column("filename", AutoString(length=200), nullable=False),
        sa.Column("content_type", AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by", AutoString(length=160), nullable=False),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id", "sha256"),
    )


def downgrade() -> None:
    op.drop_table("attachments")
    with op.batch_alter_table("complainant_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complainant_contacts_phone_hash"))
        batch_op.drop_column("phone_hash")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for column in (
            "supervised_until",
            "supervisions",
            "extended",
            "pending",
            "knowledge_id",
            "related_to",
            "confidential",
        ):
            batch_op.drop_column(column)
