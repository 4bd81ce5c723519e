"""Time conventions: the database holds aware UTC datetimes; people read Asia/Shanghai."""

from datetime import UTC, datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def as_utc(value: datetime) -> datetime:
    """A naive value is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
