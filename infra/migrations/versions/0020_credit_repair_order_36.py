"""credit repair under NDRC Order No. 36: the tier of each credit entry, when the
institution made its credit commitment, when every department lifted its measures

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 12:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: entries published under the two-tier rules have no tier and keep their
    # recorded periods.
    with op.batch_alter_table("credit_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column("commitment_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lifted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("credit_entries", schema=None) as batch_op:
        batch_op.drop_column("lifted_at")
        batch_op.drop_column("commitment_at")
        batch_op.drop_column("tier")
