"""Where a ``conn_id`` is looked up: one function every hook calls from its ``__init__``.

Order: a connection preset for this context (the Airflow trigger looks connections up with
Airflow's async API before it builds its hook, so a hook's synchronous ``__init__`` never blocks
the triggerer's loop), then ``ASYNC_HOOKS_CONN_<ID>``, then Airflow's own look-up (its secrets
backends, ``AIRFLOW_CONN_<ID>`` and metastore) when the process has loaded Airflow, then
``AIRFLOW_CONN_<ID>`` from the environment. Airflow is never imported here: a process that has
not loaded it pays nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from async_hooks.connections._model import ENV_PREFIXES, Connection
from async_hooks.errors import HookConfigError

__all__ = ["airflow_loaded", "airflow_looks_up", "preset_connections", "resolve_connection"]

_presets: ContextVar[Mapping[str, Connection] | None] = ContextVar("presets", default=None)


def airflow_loaded() -> bool:
    """True inside an Airflow worker, triggerer or ``dag.test()``: the Task SDK is imported."""
    return "airflow.sdk" in sys.modules


def airflow_looks_up(conn_id: str) -> bool:
    """Whether Airflow's look-up decides ``conn_id``: inside Airflow, unless
    ``ASYNC_HOOKS_CONN_<ID>`` names it explicitly."""
    return airflow_loaded() and not os.environ.get(ENV_PREFIXES[0] + conn_id.upper())


@contextmanager
def preset_connections(connections: Mapping[str, Connection]) -> Iterator[None]:
    """Hooks built inside this block resolve these ``conn_id`` s without any look-up."""
    token = _presets.set({**(_presets.get() or {}), **connections})
    try:
        yield
    finally:
        _presets.reset(token)


def resolve_connection(conn_id: str | None) -> Connection | None:
    """The connection ``conn_id`` names, or ``None`` without one; see the module docstring."""
    if conn_id is None:
        return None
    preset = (_presets.get() or {}).get(conn_id)
    if preset is not None:
        return preset
    if not airflow_looks_up(conn_id):
        return Connection.from_env(conn_id)
    from async_hooks.connections._airflow import airflow_connection

    found = airflow_connection(conn_id)
    if found is not None:
        return found
    try:  # Airflow could not look it up in this process: read the environment ourselves
        return Connection.from_env(conn_id)
    except HookConfigError:
        pass
    raise HookConfigError(
        f"unknown conn_id {conn_id!r}: Airflow's connection look-up (its secrets backends and "
        f"{ENV_PREFIXES[1]}{conn_id.upper()}) has none, nor has {ENV_PREFIXES[0]}{conn_id.upper()}"
    )
