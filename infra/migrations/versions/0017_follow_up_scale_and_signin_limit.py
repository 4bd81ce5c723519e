"""follow-up scale and 问题是否解决 on cases; failed sign-ins for the attempt limit

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_rating", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("problem_solved", sa.Boolean(), nullable=True))
    op.create_table(
        "signin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signin_failures_name", "signin_failures", ["name"], unique=False)
    op.create_index("ix_signin_failures_failed_at", "signin_failures", ["failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signin_failures_failed_at", table_name="signin_failures")
    op.drop_index("ix_signin_failures_name", table_name="signin_failures")
    op.drop_table("signin_failures")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("problem_solved")
        batch_op.drop_column("follow_up_rating")
