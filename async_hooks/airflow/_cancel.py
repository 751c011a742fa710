"""Stopping a wait's remote job when its task ended by a user's action or its deadline passed.

Opt-in per wait (``cancel_on_kill=True``). Airflow calls a trigger's ``on_kill`` when a user marks
the task failed, succeeded or clears it, but the same cancellation reaches a trigger that merely
moves to another triggerer: the task's state in Airflow's database tells the two apart, and only
a task that left ``deferred`` has its job stopped. A state that cannot be read stops nothing: a job
left running costs money, a job stopped under a live task loses work.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._providers import Provider
from async_hooks.airflow._comms import DEFERRED, UNKNOWN, task_state
from async_hooks.airflow._loading import wait_signature
from async_hooks.errors import HookConfigError, HookError

__all__ = ["CANCEL_TIMEOUT", "cancel_method", "cancel_remote", "task_ended"]

logger = logging.getLogger("async_hooks")

#: How long stopping the remote job may take (Airflow allows ``on_kill`` 30 s by default).
CANCEL_TIMEOUT = 20.0


def cancel_method(row: Provider, method: str) -> str:
    """The hook method that stops what ``method`` waits on; ``HookConfigError`` if none does."""
    other = row.wait_method(method)
    name = row.cancel if other is None else other.cancel
    if name is None:
        raise HookConfigError(
            f"cancel_on_kill: the {row.name} hook's {method} waits on nothing it can stop"
        )
    return name


async def task_ended(ti: Any) -> bool:
    """Whether the trigger's task left ``deferred`` (a user's action, not a move). Any other
    state says so: a cleared task may be ``scheduled`` or ``queued`` again by the time its old
    trigger's ``on_kill`` asks, and its old try's job is no longer wanted."""
    state = await task_state(ti)
    if state == UNKNOWN:
        logger.warning(
            "cancel_on_kill: the task's state is unknown; its remote job is left running"
        )
        return False
    if state != DEFERRED:
        return True
    logger.info("cancel_on_kill: the task is still deferred (the trigger moved); job left running")
    return False


async def cancel_remote(
    hook: AsyncBaseHook,
    row: Provider,
    method: str,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    why: str,
    timeout: float = CANCEL_TIMEOUT,
) -> bool:
    """Stop the remote job of wait ``method(*args, **kwargs)`` through ``hook``, within
    ``timeout`` seconds; True when the provider accepted. Failures are logged, never raised:
    the task has ended already, and its end must not wait on this."""
    name = cancel_method(row, method)
    cancel = getattr(hook, name)
    call_kwargs = _cancel_kwargs(type(hook), method, cancel, kwargs)
    kind, job_id = row.job_names(args, kwargs, method)
    try:
        await asyncio.wait_for(cancel(*args, **call_kwargs), timeout)
    except (TimeoutError, asyncio.TimeoutError):
        logger.warning("%s job %s: cancelling took over %gs (%s)", kind, job_id, timeout, why)
        return False
    except HookError as error:
        logger.warning(
            "%s job %s: cancelling failed (%s: %s)", kind, job_id, type(error).__name__, error
        )
        return False
    except Exception as error:  # never instead of the event: the job just goes on
        name = type(error).__name__
        logger.warning("%s job %s: cancelling failed (%s)", kind, job_id, name)
        return False
    logger.info("%s job %s: cancelled (%s)", kind, job_id, why)
    return True


def _cancel_kwargs(
    cls: type[AsyncBaseHook], method: str, cancel: Any, kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """The wait's keywords the cancel method takes: those it names, and, where it takes any
    (``**identifiers``), those the wait does not name itself (its timing is not for the cancel)."""
    accepted = inspect.signature(cancel).parameters.values()
    named = {p.name for p in accepted if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted)
    timing = {
        p.name
        for p in wait_signature(cls, method).parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    return {
        key: value
        for key, value in kwargs.items()
        if key in named or (takes_any and key not in timing)
    }
