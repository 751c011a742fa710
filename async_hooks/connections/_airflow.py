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

_Lookups = dict[str, "asyncio.Task[Connection | None]"]
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


async def airflow_connection_shared(conn_id: str) -> Connection | None:
    """``airflow_connection_async``, one look-up per ``conn_id`` in flight on this loop: a
    triggerer that (re)starts a thousand triggers on one connection asks Airflow once, not a
    thousand times on the loop they share. Nothing is kept once the look-up is answered."""
    loop = asyncio.get_running_loop()
    lookups = _in_flight.setdefault(loop, {})
    task = lookups.get(conn_id)
    if task is None:
        task = lookups[conn_id] = loop.create_task(airflow_connection_async(conn_id))

        def forget(done: asyncio.Task[Connection | None]) -> None:
            if lookups.get(conn_id) is done:
                del lookups[conn_id]

        task.add_done_callback(forget)
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
