"""The transactional outbox: messages a step wrote in its own transaction, waiting for the
relay (infra/outbox.py) to publish them to Kafka."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, text
from sqlmodel import Field, SQLModel


class OutboxMessage(SQLModel, table=True):
    """One message; `sent_at` is set once the broker acknowledged it, the row pruned later."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay's only query: unsent rows in id order. Partial, so it stays as small as
        # the backlog however many sent rows the retention keeps.
        Index(
            "ix_outbox_unsent",
            "id",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=128)
    key: str = Field(max_length=200)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime
    sent_at: datetime | None = Field(default=None, index=True)
