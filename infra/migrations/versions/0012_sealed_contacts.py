"""sealed complainant contacts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:30:00.000000

The caller's contact is stored sealed by the vault (infra/vault.py); rows written before keep
their clear name and phone until `tuoyu vault seal-contacts` seals them (it needs the vault
key, which a migration does not have).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complainant_contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complainant_contacts", schema=None) as batch_op:
        batch_op.drop_column("sealed")
