"""The Airflow page's operator example, taken from docs/airflow.md and run against moto, both
ways: not deferrable (waits in the worker) and deferrable (TaskDeferred, trigger, resume)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from ._support import only_event, rebuilt

PAGE = Path(__file__).parents[2] / "docs" / "airflow.md"


def example_operator(name: str = "RunGlueJob"):
    """The page's operator ``name`` (a later example may build on an earlier one)."""
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    namespace: dict = {}
    for block in blocks:
        if "(WaitForJobMixin, BaseOperator)" in block or "(RunGlueJob)" in block:
            exec(compile(block, str(PAGE), "exec"), namespace)
    return namespace[name]


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


class TaskStateStore(dict):
    """What ``context["task_state_store"]`` offers an operator (get, set, delete), kept in this
    process: ``tests/with_airflow/test_resume.py`` runs the real one through ``dag.test()``."""

    def set(self, key, value, **_):
        self[key] = value

    def delete(self, key):
        self.pop(key, None)


def test_the_resuming_example_submits_once_across_tries(aws_conn, nightly, moto_server):
    from async_hooks import run_sync
    from async_hooks.aws import AsyncAwsHook

    operator = example_operator("ResumableGlueJob")(
        task_id="t", job_name="nightly", aws_conn_id=aws_conn
    )
    context = {"task_state_store": TaskStateStore()}
    first = operator.execute(context)
    again = operator.execute(context)  # a retry of the same task instance
    assert first["job_id"] == again["job_id"]

    async def runs():
        async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
            return (await hook.call("glue", "get_job_runs", JobName="nightly"))["JobRuns"]

    assert len(run_sync(runs())) == 1
