"""enforcement

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:06:42.451966
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrity_records",
        sa.Column("institution_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("institution_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("occurred_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("integrity_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integrity_records_institution_key"), ["institution_key"], unique=False
        )

    op.create_table(
        "staff_checks",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("person_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("person_masked", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staff_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_checks_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_staff_checks_person_hash"), ["person_hash"], unique=False
        )

    op.create_table(
        "bans",
        sa.Column("person_masked", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("legal_basis", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("banned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("corrected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("corrected_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column(
            "correction_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
        ),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("person_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bans_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bans_person_hash"), ["person_hash"], unique=False)

    op.create_table(
        "credit_entries",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("institution_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("institution_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("legal_basis", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("noticed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("objection_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("publicity_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("removed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("removal_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_entries_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_entries_institution_key"), ["institution_key"], unique=False
        )

    op.create_table(
        "decisions",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("institution_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("legal_basis", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("deciding_unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("fine_yuan", sa.Numeric(), nullable=True),
        sa.Column("rectify_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("rectification", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_decisions_institution_key"), ["institution_key"], unique=False
        )

    op.create_table(
        "employment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("person_masked", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("manager_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("valid_from", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("valid_to", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("source_event_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_event_id"),
    )
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_employment_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_employment_manager_hash"), ["manager_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_employment_person_hash"), ["person_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_employment_valid_to"), ["valid_to"], unique=False)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.VARCHAR(length=16),
            type_=sa.String(length=24),
            existing_nullable=False,
        )
        batch_op.alter_column("case_id", existing_type=sa.VARCHAR(length=32), nullable=True)

    # A ban is corrected, never deleted: the database refuses a DELETE whoever asks.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bans_never_deleted() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'bans are never deleted; correct them instead'; END $$"
        )
        op.execute(
            "CREATE TRIGGER bans_no_delete BEFORE DELETE ON bans "
            "FOR EACH ROW EXECUTE FUNCTION bans_never_deleted()"
        )
    else:
        op.execute(
            "CREATE TRIGGER bans_no_delete BEFORE DELETE ON bans BEGIN "
            "SELECT RAISE(ABORT, 'bans are never deleted; correct them instead'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS bans_no_delete ON bans")
        op.execute("DROP FUNCTION IF EXISTS bans_never_deleted()")
    else:
        op.execute("DROP TRIGGER IF EXISTS bans_no_delete")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.VARCHAR(length=32), nullable=False)
        batch_op.alter_column(
            "kind",
            existing_type=sa.String(length=24),
            type_=sa.VARCHAR(length=16),
            existing_nullable=False,
        )

    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_employment_valid_to"))
        batch_op.drop_index(batch_op.f("ix_employment_person_hash"))
        batch_op.drop_index(batch_op.f("ix_employment_manager_hash"))
        batch_op.drop_index(batch_op.f("ix_employment_institution_id"))

    op.drop_table("employment")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_institution_key"))
        batch_op.drop_index(batch_op.f("ix_decisions_case_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("credit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_entries_institution_key"))
        batch_op.drop_index(batch_op.f("ix_credit_entries_case_id"))

    op.drop_table("credit_entries")
    with op.batch_alter_table("bans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bans_person_hash"))
        batch_op.drop_index(batch_op.f("ix_bans_case_id"))

    op.drop_table("bans")
    with op.batch_alter_table("staff_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_checks_person_hash"))
        batch_op.drop_index(batch_op.f("ix_staff_checks_institution_id"))

    op.drop_table("staff_checks")
    with op.batch_alter_table("integrity_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_records_institution_key"))

    op.drop_table("integrity_records")
