"""One typed way for a workflow to run a local activity. Deterministic: temporalio and stdlib.

Local activities: a database write takes milliseconds, and running it inside the workflow
task spares the server an activity task per step. `local(Activities.method, arg)` returns
what the method returns, so mypy sees each activity's result type (a bare
`execute_local_activity_method(method: Any, ...)` wrapper hid every one of them).

The activities are methods of classes built with a session factory: `fn` is the unbound
method (its first parameter is the instance the worker holds), sync or async.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy

A = TypeVar("A")
R = TypeVar("R")

TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


@overload
async def local(
    fn: Callable[[Any, A], Awaitable[R]],
    arg: A,
    *,
    start_to_close_timeout: timedelta = TIMEOUT,
    retry_policy: RetryPolicy = RETRY,
) -> R: ...


@overload
async def local(
    fn: Callable[[Any, A], R],
    arg: A,
    *,
    start_to_close_timeout: timedelta = TIMEOUT,
    retry_policy: RetryPolicy = RETRY,
) -> R: ...


async def local(
    fn: Callable[[Any, A], Any],
    arg: A,
    *,
    start_to_close_timeout: timedelta = TIMEOUT,
    retry_policy: RetryPolicy = RETRY,
) -> Any:
    """Run `fn(arg)` as a local activity (named after the method, as Temporal records it)."""
    return await workflow.execute_local_activity_method(
        fn, arg, start_to_close_timeout=start_to_close_timeout, retry_policy=retry_policy
    )
