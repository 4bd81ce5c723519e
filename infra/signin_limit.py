"""The sign-in attempt limit: after `signin_max_failures` wrong passwords for one user name
within `signin_failure_window_minutes`, that name is refused (without checking the password)
until the oldest of those failures is older than the window. Counted in the database, so a
restart or a second API process does not reset it. Per name, not per address: the pages sit
behind the city's proxies, and a guesser is after one account.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, delete, select

from models.users import SignInFailure


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def locked_until(
    session: Session, name: str, now: datetime, limit: int, window: timedelta
) -> datetime | None:
    """When `name` may try again, or None if it may now."""
    failures = session.exec(
        select(SignInFailure.failed_at)
        .where(SignInFailure.name == name)
        .where(col(SignInFailure.failed_at) > now - window)
        .order_by(col(SignInFailure.failed_at).desc())
        .limit(limit)
    ).all()
    if len(failures) < limit:
        return None
    return _aware(failures[-1]) + window


def record_failure(session: Session, name: str, now: datetime, window: timedelta) -> None:
    """In the caller's transaction (with its audit record); the caller commits."""
    session.add(SignInFailure(name=name, failed_at=now))
    # Old failures of anyone go with each new one: the table holds one window at most.
    session.exec(delete(SignInFailure).where(col(SignInFailure.failed_at) <= now - window))


def clear(session: Session, name: str) -> None:
    session.exec(delete(SignInFailure).where(col(SignInFailure.name) == name))
    session.commit()
