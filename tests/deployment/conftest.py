"""Tests on a real Airflow deployment (``nox -s airflow_deployment``): PostgreSQL, api-server,
scheduler, dag-processor, two triggerers and moto, started once for the session by the
``airflow_deployment`` fixture. Collected only where that session sets ASYNC_HOOKS_DEPLOYMENT=1:
the ``tests`` and ``airflow`` sessions have no PostgreSQL drivers and must not start one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

if not os.environ.get("ASYNC_HOOKS_DEPLOYMENT"):
    collect_ignore_glob = ["*"]

DAGS = Path(__file__).parent / "dags"
#: The Airflow connection every DAG here uses; it lives in the metadata database.
CONN_ID = "moto"


@pytest.fixture(scope="session")
def deployment(airflow_deployment: Callable[..., Any]) -> Any:
    """The session's deployment, with the ``moto`` connection stored in its database."""
    airflow = airflow_deployment(DAGS)
    if CONN_ID not in {row[0] for row in airflow.sql("select conn_id from connection")}:
        airflow.add_connection(CONN_ID, airflow.moto_connection())
    return airflow


@pytest.fixture(scope="session")
def aws(deployment: Any) -> Callable[..., Any]:
    """``aws(service, operation, **params)``: one call to the deployment's moto server."""
    from async_hooks.aws import AsyncAwsHook

    def call(service: str, operation: str, **params: Any) -> Any:
        hook = AsyncAwsHook(
            endpoint_url=deployment.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing-secret-key",
        )
        try:
            return hook.sync.call(service, operation, **params)
        finally:
            hook.sync.close()

    return call


def task_summary(states: dict[tuple[str, int], str | None]) -> dict[str | None, int]:
    """How many task instances are in each state (for assertion messages)."""
    summary: dict[str | None, int] = {}
    for state in states.values():
        summary[state] = summary.get(state, 0) + 1
    return summary
