"""`local()`: a local activity called from a workflow, its argument and result typed.

Every workflow here runs its database steps as local activities with the same timeout and
retry policy; this gives mypy the activity's result where an `Any` helper hid it. Accepts an
activity function or an (unbound) activity method, sync or async, as temporalio's own
`execute_local_activity_method` overloads do; `opts` override the defaults.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy

A = TypeVar("A")
R = TypeVar("R")
S = TypeVar("S")

TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


@overload
async def local(fn: Callable[[A], Awaitable[R]], arg: A, **opts: Any) -> R: ...


@overload
async def local(fn: Callable[[S, A], Awaitable[R]], arg: A, **opts: Any) -> R: ...


@overload
async def local(fn: Callable[[S, A], R], arg: A, **opts: Any) -> R: ...


async def local(fn: Callable[..., Any], arg: Any, **opts: Any) -> Any:
    options: dict[str, Any] = {"start_to_close_timeout": TIMEOUT, "retry_policy": RETRY, **opts}
    # `execute_local_activity_method` and `execute_local_activity` start the same command;
    # the method form also takes an unbound method.
    return await workflow.execute_local_activity_method(fn, arg, **options)
