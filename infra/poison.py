"""Deterministic failures of activities are non-retryable.

A value the database refuses (`DataError`: a NUL in text on PostgreSQL, a number out of its
range), a constraint it enforces (`IntegrityError`, beyond the idempotency conflicts the
activities handle themselves), an `OverflowError` (a date near year 9999 moved to UTC) or a
`ValueError` from our own models fails the same way on every attempt: retried, it would keep
its workflow (and whatever waits on it) stuck for ever. Raised as a non-retryable
`ApplicationError`, it reaches the workflow at once, which parks the event and goes on.

What may heal is left retryable, with the workflow's bounded backoff: `OperationalError`
(database locked, connection lost), Kafka timeouts, and anything unknown (a bug heals with a
fix and a restart of the worker). An `IntegrityError` may also be a race between two
writers (measured: two activities creating the audit chain's head row on an empty
PostgreSQL database at once, a unique violation); the second attempt finds the row. So it
is given up only from its `INTEGRITY_ATTEMPTS`-th attempt on.
"""

from __future__ import annotations

from typing import Any

from kafka.errors import MessageSizeTooLargeError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

INTEGRITY_ATTEMPTS = 3
DETERMINISTIC: tuple[type[BaseException], ...] = (
    DataError,
    IntegrityError,
    OverflowError,
    ValueError,  # pydantic's ValidationError and UnicodeError among them
    MessageSizeTooLargeError,
)


def deterministic(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return False
    if isinstance(exc, DETERMINISTIC):
        return True
    # SQLAlchemy wraps what a type's bind processor raised (an overflow converting a date).
    if isinstance(exc, StatementError) and exc.orig is not None:
        return isinstance(exc.orig, DETERMINISTIC)
    return False


def error_type(exc: BaseException) -> str:
    if isinstance(exc, StatementError) and exc.orig is not None:
        return f"{type(exc).__name__}.{type(exc.orig).__name__}"
    return type(exc).__name__


def as_non_retryable(exc: BaseException) -> ApplicationError:
    # The message is kept short and free of the offending value (it may hold a NUL or
    # personal data): the type says what failed, the parked event holds the value.
    message = str(exc).split("\n", 1)[0][:300].replace("\x00", "\\x00")
    return ApplicationError(message, type=error_type(exc), non_retryable=True)


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except ApplicationError:
            raise
        except Exception as exc:
            if isinstance(exc, IntegrityError) and activity.info().attempt < INTEGRITY_ATTEMPTS:
                raise  # perhaps a concurrent writer: try again
            if deterministic(exc):
                raise as_non_retryable(exc) from exc
            raise


class DeterministicErrors(Interceptor):
    """Worker interceptor: classifies every activity's (and local activity's) failure."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(super().intercept_activity(next))
