"""GB/T 28181 registration: device digest secrets (HA1), keepalive intervals and rooms;
channels from Catalog responses; current SIP registrations

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_text = sqlmodel.sql.sqltypes.AutoString
_time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sip_ha1", _text(length=32), nullable=True))
        batch_op.add_column(sa.Column("sip_ha1_sha256", _text(length=64), nullable=True))
        batch_op.add_column(sa.Column("keepalive_interval", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rooms", sa.JSON(), nullable=True))
    op.create_table(
        "device_channels",
        sa.Column("device_id", _text(length=64), nullable=False),
        sa.Column("channel_id", _text(length=64), nullable=False),
        sa.Column("name", _text(length=200), nullable=True),
        sa.Column("room", _text(length=200), nullable=True),
        sa.Column("status", _text(length=16), nullable=True),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "channel_id"),
    )
    op.create_index(
        "ix_device_channels_channel_id", "device_channels", ["channel_id"], unique=False
    )
    op.create_table(
        "sip_registrations",
        sa.Column("device_id", _text(length=64), nullable=False),
        sa.Column("host", _text(length=64), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("transport", _text(length=8), nullable=False),
        sa.Column("gb_version", _text(length=8), nullable=True),
        sa.Column("registered_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("subscription_expires_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_index(
        "ix_sip_registrations_expires_at", "sip_registrations", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sip_registrations_expires_at", table_name="sip_registrations")
    op.drop_table("sip_registrations")
    op.drop_index("ix_device_channels_channel_id", table_name="device_channels")
    op.drop_table("device_channels")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("rooms")
        batch_op.drop_column("keepalive_interval")
        batch_op.drop_column("sip_ha1_sha256")
        batch_op.drop_column("sip_ha1")
