"""Airflow's own connection look-up (secrets backends, ``AIRFLOW_CONN_*``, metastore), read
into an ``async_hooks`` ``Connection``. Only called once the process has loaded Airflow."""

from __future__ import annotations

import logging
from typing import Any

from async_hooks.connections import Connection, _extra_from

__all__ = ["airflow_connection", "airflow_connection_async"]

logger = logging.getLogger("async_hooks")


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
