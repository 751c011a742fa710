"""The Airflow page's operator example, taken from docs/airflow.md and run against moto, both
ways: not deferrable (waits in the worker) and deferrable (TaskDeferred, trigger, resume)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from ._support import only_event, rebuilt

PAGE = Path(__file__).parents[2] / "docs" / "airflow.md"


def example_operator():
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    (source,) = [block for block in blocks if "class RunGlueJob" in block]
    namespace: dict = {}
    exec(compile(source, str(PAGE), "exec"), namespace)
    return namespace["RunGlueJob"]


@pytest.fixture
def nightly(moto_server):
    """The example's Glue job on moto; its runs succeed at the first look."""
    from async_hooks import run_sync
    from async_hooks.aws import AsyncAwsHook

    async def create():
        async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
            await hook.call("glue", "create_job", Name="nightly", Role="etl", Command={"Name": "x"})

    run_sync(create())


def test_the_example_waits_in_the_worker(aws_conn, nightly):
    operator = example_operator()(task_id="t", job_name="nightly", aws_conn_id=aws_conn)
    assert operator.deferrable is False  # Airflow's default_deferrable
    result = operator.execute({})
    assert (result["kind"], result["status"]) == ("glue", "SUCCEEDED")


def test_the_example_defers_and_resumes(aws_conn, nightly):
    from airflow.sdk.exceptions import TaskDeferred

    operator = example_operator()(
        task_id="t", job_name="nightly", aws_conn_id=aws_conn, deferrable=True
    )
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})
    payload = asyncio.run(only_event(rebuilt(deferred.value.trigger)))
    result = operator.execute_complete({}, event=payload)
    assert result["status"] == "SUCCEEDED"
