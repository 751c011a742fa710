"""What a trigger asks Airflow about its own task, from the triggerer's loop.

Two questions need the task, not the trigger: whether the task really ended (a trigger is also
cancelled when it merely moves to another triggerer, and its remote job must live on then), and
when the wait began for a trigger that the scheduler started without a worker (its kwargs were
fixed when the DAG was parsed, so the start is kept in an XCom of the task's own try).

Both go through the triggerer's channel to its supervisor (``SUPERVISOR_COMMS.asend``), which is
asynchronous, so the loop every trigger shares is never blocked. Outside a triggerer (a worker,
``dag.test()``) there is no such channel: the answers are "unknown", and callers stay safe.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

__all__ = ["ENDED", "UNKNOWN", "kept_start", "kept_start_bounded", "task_state"]

logger = logging.getLogger("async_hooks")

#: ``task_state``'s answer when Airflow could not be asked.
UNKNOWN = "unknown"
#: States in which a deferred task no longer waits: its remote job is no longer wanted.
ENDED = frozenset({"failed", "success", "skipped", "upstream_failed", "removed", "up_for_retry"})
#: The XCom (of the task's own try) that keeps a triggerer-started wait's start.
START_KEY = "async_hooks_wait_started"
#: Start look-ups in flight per loop: each is a round trip through the triggerer's supervisor,
#: which also carries every trigger's events; thousands at once would hold those up.
LOOKUPS_IN_FLIGHT = 8
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _channel() -> Any:
    """The triggerer's channel to its supervisor, or ``None`` outside a triggerer."""
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:  # pragma: no cover - Airflow 2 has no Task SDK
        return None
    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    return comms if hasattr(comms, "asend") else None


async def task_state(ti: Any) -> str | None:
    """The state of task instance ``ti`` in Airflow's database now (``None`` once cleared),
    or ``UNKNOWN`` when it cannot be asked."""
    comms = _channel()
    if comms is None or ti is None:
        return UNKNOWN
    try:
        from airflow.sdk.execution_time.comms import GetTaskStates

        map_index = getattr(ti, "map_index", -1)
        map_index = -1 if map_index is None else map_index
        answer = await comms.asend(
            GetTaskStates(
                dag_id=ti.dag_id, task_ids=[ti.task_id], run_ids=[ti.run_id], map_index=map_index
            )
        )
        states = answer.task_states.get(ti.run_id, {})
        key = ti.task_id if map_index < 0 else f"{ti.task_id}_{map_index}"
        if key not in states:
            return None  # the task instance is gone (cleared, its run deleted)
        state = states[key]
        return None if state is None else str(getattr(state, "value", state))
    except Exception as error:  # no answer is "don't know", never "ended"
        logger.warning("could not read the task's state (%s)", type(error).__name__)
        return UNKNOWN


async def kept_start(ti: Any, now: float) -> float | None:
    """When this try of ``ti`` began waiting: the XCom written by its first trigger, or ``now``
    (written now) for the first; ``None`` when Airflow cannot be asked (the caller uses now)."""
    if _channel() is None or ti is None:
        return None
    try:
        from airflow.sdk.execution_time.xcom import XCom

        where = {
            "dag_id": ti.dag_id,
            "task_id": ti.task_id,
            "run_id": ti.run_id,
            "map_index": -1 if ti.map_index is None else ti.map_index,
        }
        kept = await XCom.aget_one(key=START_KEY, **where)
        try_number = int(ti.try_number)
        if isinstance(kept, dict) and kept.get("try_number") == try_number:
            started = kept.get("started_at")
            if isinstance(started, (int, float)) and not isinstance(started, bool):
                return float(started)
        await XCom.aset(START_KEY, {"try_number": try_number, "started_at": now}, **where)
    except Exception as error:
        logger.warning("could not keep the wait's start in an XCom (%s)", type(error).__name__)
        return None
    return now


async def kept_start_bounded(ti: Any, now: float) -> float | None:
    """``kept_start``, at most ``LOOKUPS_IN_FLIGHT`` at a time on this loop."""
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(LOOKUPS_IN_FLIGHT)
    async with slots:
        return await kept_start(ti, now)
