"""Connections: what a ``conn_id`` names, and where it is looked up.

- ``_model``: ``Connection`` (Airflow's URI and JSON forms, ``from_env``).
- ``_lookup``: the look-up order every hook's ``__init__`` calls (a preset, then
  ``ASYNC_HOOKS_CONN_<ID>``, then Airflow's own look-up when Airflow is loaded, then
  ``AIRFLOW_CONN_<ID>``).
- ``_airflow``: Airflow's reader (secrets backends, metastore), imported only inside Airflow.

Providers import this package; the core never does.
"""

from __future__ import annotations

from async_hooks.connections._model import ENV_PREFIXES, Connection

__all__ = ["ENV_PREFIXES", "Connection"]
