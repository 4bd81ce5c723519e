"""users: disabled_at and token_issued_at (token expiry, disabling, rotation)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:30:00

Existing tokens count as issued at the upgrade: they work for one `TUOYU_TOKEN_TTL` more,
so nobody is locked out by the upgrade itself; users already disabled get the upgrade time
as their `disabled_at`.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disabled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("token_issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    users = sa.table(
        "users",
        sa.column("disabled", sa.Boolean()),
        sa.column("disabled_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("token_issued_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.execute(users.update().values(token_issued_at=now))
    op.execute(users.update().where(users.c.disabled == sa.true()).values(disabled_at=now))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_issued_at")
        batch_op.drop_column("disabled_at")
