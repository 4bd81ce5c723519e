"""case lifecycle

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:28:01.827547
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_links",
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("linked_case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("linked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["linked_case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("case_id", "linked_case_id"),
    )
    op.create_table(
        "case_rounds",
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("dispatched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("accept_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resolve_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("case_id", "round"),
    )
    with op.batch_alter_table("case_rounds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_rounds_dispatched_at"), ["dispatched_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_rounds_unit"), ["unit"], unique=False)

    op.create_table(
        "institutions",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("town", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("registrar", sa.String(length=16), nullable=False),
        sa.Column("registered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["town"],
            ["units.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_institutions_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_institutions_town"), ["town"], unique=False)

    op.create_table(
        "unit_records",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("occurred_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit"],
            ["units.code"],
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("unit_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_records_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_unit_records_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_unit_records_unit"), ["unit"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handler", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("level", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("accept_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("resolve_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("outcome", sa.String(length=24), nullable=True))
        batch_op.add_column(
            sa.Column("findings", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=True)
        )
        batch_op.add_column(
            sa.Column("result_unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("satisfied", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column("followed_up_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("reopened", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("merged_into", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "institution_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True
            )
        )
        batch_op.create_index(batch_op.f("ix_cases_handler"), ["handler"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cases_institution_key"), ["institution_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cases_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_received_at"))
        batch_op.drop_index(batch_op.f("ix_cases_institution_key"))
        batch_op.drop_index(batch_op.f("ix_cases_handler"))
        batch_op.drop_column("institution_key")
        batch_op.drop_column("institution_id")
        batch_op.drop_column("merged_into")
        batch_op.drop_column("reopened")
        batch_op.drop_column("followed_up_at")
        batch_op.drop_column("satisfied")
        batch_op.drop_column("result_unit")
        batch_op.drop_column("findings")
        batch_op.drop_column("outcome")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("resolve_by")
        batch_op.drop_column("accept_by")
        batch_op.drop_column("round")
        batch_op.drop_column("level")
        batch_op.drop_column("handler")

    with op.batch_alter_table("unit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_records_unit"))
        batch_op.drop_index(batch_op.f("ix_unit_records_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_unit_records_case_id"))

    op.drop_table("unit_records")
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institutions_town"))
        batch_op.drop_index(batch_op.f("ix_institutions_name"))

    op.drop_table("institutions")
    with op.batch_alter_table("case_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_rounds_unit"))
        batch_op.drop_index(batch_op.f("ix_case_rounds_dispatched_at"))

    op.drop_table("case_rounds")
    op.drop_table("case_links")
