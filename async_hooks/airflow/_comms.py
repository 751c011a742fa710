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
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = [
    "DEFERRED",
    "UNKNOWN",
    "kept_start",
    "kept_start_bounded",
    "run_to_its_end",
    "task_state",
]

logger = logging.getLogger("async_hooks")

T = TypeVar("T")

#: ``task_state``'s answer when Airflow could not be asked.
UNKNOWN = "unknown"
#: The one state in which a task still waits on its trigger (a trigger cancelled while its task
#: is in it merely moved to another triggerer).
DEFERRED = "deferred"
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
    or ``UNKNOWN`` when it cannot be asked. Every trigger asking within ``ASK_WINDOW`` (a user
    marking a thousand deferred tasks failed cancels a thousand triggers in one runner cycle)
    shares one ``GetTaskStates`` round trip per DAG."""
    comms = _channel()
    if comms is None or ti is None:
        return UNKNOWN
    loop = asyncio.get_running_loop()
    asks = _asks.get(loop)
    if asks is None:
        asks = _asks[loop] = _StateAsks(comms)
    # Shielded: a trigger whose ``on_kill`` times out must not cancel a request others share,
    # nor leave Airflow a reply to a frame nobody waits for.
    return await asyncio.shield(asks.ask(ti))


#: How long the first state asked waits for others to share its round trip.
ASK_WINDOW = 0.2
_Key = tuple[str, int]


class _StateAsks:
    """One loop's pending state questions, sent together per (DAG, map index)."""

    __slots__ = ("_comms", "_flush", "_pending")

    def __init__(self, comms: Any) -> None:
        self._comms = comms
        self._pending: dict[_Key, dict[tuple[str, str], asyncio.Future[str | None]]] = {}
        self._flush: asyncio.TimerHandle | None = None

    def ask(self, ti: Any) -> asyncio.Future[str | None]:
        loop = asyncio.get_running_loop()
        map_index = getattr(ti, "map_index", -1)
        group = self._pending.setdefault((ti.dag_id, -1 if map_index is None else map_index), {})
        future = group.get((ti.run_id, ti.task_id))
        if future is None:
            future = group[(ti.run_id, ti.task_id)] = loop.create_future()
        if self._flush is None:
            self._flush = loop.call_later(ASK_WINDOW, self._send_all)
        return future

    def _send_all(self) -> None:
        self._flush = None
        pending, self._pending = self._pending, {}
        for (dag_id, map_index), asked in pending.items():
            run_to_its_end(self._send(dag_id, map_index, asked))

    async def _send(
        self, dag_id: str, map_index: int, asked: dict[tuple[str, str], asyncio.Future[str | None]]
    ) -> None:
        try:
            from airflow.sdk.execution_time.comms import GetTaskStates

            answer = await self._comms.asend(
                GetTaskStates(
                    dag_id=dag_id,
                    task_ids=sorted({task_id for _, task_id in asked}),
                    run_ids=sorted({run_id for run_id, _ in asked}),
                    map_index=map_index,
                )
            )
            states = answer.task_states
        except Exception as error:  # no answer is "don't know", never "ended"
            logger.warning("could not read the tasks' states (%s)", type(error).__name__)
            states = None
        for (run_id, task_id), future in asked.items():
            if not future.done():
                future.set_result(_state_in(states, run_id, task_id, map_index))


def _state_in(states: Any, run_id: str, task_id: str, map_index: int) -> str | None:
    if states is None:
        return UNKNOWN
    key = task_id if map_index < 0 else f"{task_id}_{map_index}"
    found = states.get(run_id, {})
    if key not in found:
        return None  # the task instance is gone (cleared, its run deleted)
    state = found[key]
    return None if state is None else str(getattr(state, "value", state))


_asks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _StateAsks] = (
    weakref.WeakKeyDictionary()
)
#: Work under way that no cancel stops: held here until it ends (``run_to_its_end``).
_running: set[asyncio.Task[Any]] = set()


def run_to_its_end(work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """``work`` in a task held until it ends and never cancelled by us: a request sent to the
    supervisor (Airflow logs an answer to a frame nobody waits for synchronously, on the loop
    every trigger shares), or ``on_kill``'s stop (Airflow cancels it again each cycle). A caller
    that must not wait longer awaits it through ``asyncio.shield``."""
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def kept_start(ti: Any, now: float) -> float | None:
    """When this try of ``ti`` began waiting: the XCom written by its first trigger, or ``now``
    (written now) for the first; ``None`` when Airflow cannot be asked (the caller uses now).

    Only for a trigger whose start cannot be derived from Airflow's own ``timeout_after`` (a
    row written before the sensor passed its deferral span): each call is one or two round
    trips through the triggerer's supervisor."""
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


def kept_start_bounded(ti: Any, now: float) -> asyncio.Future[float | None]:
    """``kept_start``, at most ``LOOKUPS_IN_FLIGHT`` at a time on this loop, as a future that
    the caller may stop waiting for: the look-up itself always runs to its end, so Airflow
    never answers a frame nobody waits for."""
    return run_to_its_end(_bounded(ti, now))


async def _bounded(ti: Any, now: float) -> float | None:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(LOOKUPS_IN_FLIGHT)
    async with slots:
        return await kept_start(ti, now)
