"""open311 requests: place, media references, and requests held for dispatch by hand

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open311_requests",
        sa.Column(
            "service_request_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False
        ),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("address_string", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("media_urls", sa.Text(), nullable=True),
        sa.Column("town", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("located_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("held", sa.Text(), nullable=True),
        sa.Column("dispatched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("dispatched_by", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True),
        sa.PrimaryKeyConstraint("service_request_id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(
        "ix_open311_requests_received_at", "open311_requests", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_open311_requests_received_at", table_name="open311_requests")
    op.drop_table("open311_requests")
