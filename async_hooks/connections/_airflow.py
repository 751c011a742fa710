"""Airflow's own connection look-up (secrets backends, ``AIRFLOW_CONN_*``, metastore), read
into an ``async_hooks`` ``Connection``. Only called once the process has loaded Airflow."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from async_hooks.connections._model import Connection, _extra_from

__all__ = ["airflow_connection", "airflow_connection_async", "airflow_connection_shared"]

logger = logging.getLogger("async_hooks")

#: Per loop and ``conn_id``: the look-up in flight, or a connection found and until when it
#: serves (loop time).
_Lookups = dict[str, "asyncio.Task[Connection | None] | tuple[Connection, float]"]
_in_flight: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lookups] = (
    weakref.WeakKeyDictionary()
)


def airflow_connection(conn_id: str) -> Connection | None:
    """Airflow's connection ``conn_id``; ``None`` when Airflow has none by that name or cannot
    look connections up in this process (the caller then reads the environment)."""
    from airflow.sdk.definitions.connection import Connection as AirflowConnection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        found = AirflowConnection.get(conn_id)
    except AirflowNotFoundException:
        return None
    except Exception as error:  # no supervisor, no database...: Airflow cannot look it up here
        logger.debug("Airflow could not look up %r (%s)", conn_id, type(error).__name__)
        return None
    return _converted(conn_id, found)


async def airflow_connection_async(conn_id: str) -> Connection | None:
    """``airflow_connection`` through Airflow's async API, for code on the triggerer's loop."""
    from airflow.sdk.definitions.connection import Connection as AirflowConnection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        found = await AirflowConnection.async_get(conn_id)
    except AirflowNotFoundException:
        return None
    except Exception as error:
        logger.debug("Airflow could not look up %r (%s)", conn_id, type(error).__name__)
        return None
    return _converted(conn_id, found)


#: Seconds a connection found in Airflow serves later look-ups on the same loop.
KEEP_FOUND = 60.0


async def airflow_connection_shared(conn_id: str) -> Connection | None:
    """``airflow_connection_async``, one look-up per ``conn_id`` on this loop at a time, and a
    found connection kept for ``KEEP_FOUND`` seconds: a triggerer that starts thousands of
    triggers on one connection, in waves as its runner creates them, asks Airflow once a
    minute, not once a wave (each look-up is a connection and three secret-masking round trips
    through the supervisor that also persists every event). A connection not found is asked
    again by the next trigger."""
    loop = asyncio.get_running_loop()
    lookups = _in_flight.setdefault(loop, {})
    entry = lookups.get(conn_id)
    if isinstance(entry, tuple):  # found earlier: the connection and until when it serves
        if loop.time() < entry[1]:
            return entry[0]
        entry = None
    task = entry
    if task is None:
        task = lookups[conn_id] = loop.create_task(airflow_connection_async(conn_id))

        def answered(done: asyncio.Task[Connection | None]) -> None:
            if lookups.get(conn_id) is not done:
                return
            found = None if done.cancelled() or done.exception() else done.result()
            if found is None:
                del lookups[conn_id]
            else:  # the answer only, not the task: nothing here holds the loop
                lookups[conn_id] = (found, loop.time() + KEEP_FOUND)

        task.add_done_callback(answered)
    return await asyncio.shield(task)  # one caller's cancellation fails nobody else


def _converted(conn_id: str, found: Any) -> Connection | None:
    if found is None:
        return None
    extra = found.extra
    if isinstance(extra, str):
        extra = _extra_from(extra.strip())
    return Connection(
        conn_type=found.conn_type,
        host=found.host,
        login=found.login,
        password=found.password,
        schema=found.schema,
        port=found.port,
        extra=extra or {},
        conn_id=conn_id,
    )
