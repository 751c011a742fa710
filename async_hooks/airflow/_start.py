"""When a wait began, for a trigger the scheduler started without a worker.

Such a trigger's kwargs were fixed when the DAG was parsed, so they cannot hold its start. But
Airflow keeps it: the scheduler's ``defer_task`` sets the task's ``trigger_timeout`` to the
deferral's time plus ``StartTriggerArgs.timeout`` (the task's ``execution_timeout`` where that
is shorter); the row survives a failover, and the runner hands it to every trigger it creates as
``timeout_after``. ``WaitForJobSensor`` passes the span it asked for (``deferral_span``), so
the start is their difference, with no round trip to Airflow. A row written before the sensor
passed its span keeps the start in an XCom of the task's try instead (``_comms.kept_start``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from async_hooks.airflow._comms import kept_start_bounded
from async_hooks.airflow._events import WaitOutcome

__all__ = ["derived_start", "wait_with_kept_start"]


def derived_start(timeout_after: object, span: float | None) -> float | None:
    """Epoch seconds when the wait began: ``timeout_after`` (Airflow's UTC datetime) less
    ``span`` seconds; ``None`` where either is missing."""
    if span is None or not isinstance(timeout_after, dt.datetime):
        return None
    if timeout_after.tzinfo is None:  # Airflow's UTC, without its zone
        timeout_after = timeout_after.replace(tzinfo=dt.timezone.utc)
    return timeout_after.timestamp() - float(span)


async def wait_with_kept_start(trigger: Any, outcome: WaitOutcome) -> dict[str, Any]:
    """Wait at once, from now, while the start this try kept is looked up (and, for the
    first trigger of the try, written): a thousand triggers started together must not wait
    for a thousand round trips to Airflow before their first poll. A start found earlier
    moves the deadline back, and the wait ends there."""
    waiting: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(trigger._wait(outcome))
    looking = kept_start_bounded(trigger.task_instance, trigger.started_at)  # never cancelled
    try:
        either: set[asyncio.Future[Any]] = {waiting, looking}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if waiting.done():
            return waiting.result()
        kept = looking.result()
        if kept is None or kept >= trigger.started_at:
            return await waiting
        trigger.started_at = outcome.started_at = kept
        if trigger.deadline is None:
            return await waiting
        done, _ = await asyncio.wait({waiting}, timeout=max(0.0, trigger.deadline - time.time()))
        if done:
            return waiting.result()
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await trigger._cancel_at_deadline()
        return outcome.deadline(time.time(), trigger.timeout)
    finally:
        waiting.cancel()
