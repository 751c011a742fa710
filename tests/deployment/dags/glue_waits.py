"""Mapped deferrable tasks: each starts a Glue run on moto, then defers to a WaitForJobTrigger
(``WaitForJobMixin`` + ``JobWait``) with a ``conn_id`` held in Airflow's metadata database."""

from __future__ import annotations

from airflow.sdk import DAG, BaseOperator

from async_hooks.airflow import JobWait, WaitForJobMixin
from async_hooks.aws import AsyncAwsHook

#: How many mapped tasks; tests/deployment/test_glue_waits.py creates the job with as many slots.
WAITS = 30
JOB_NAME = "deployment-etl"


class StartGlueRunAndWait(WaitForJobMixin, BaseOperator):
    """Start one run of ``JOB_NAME`` and defer until it ends."""

    deferrable = True

    def __init__(self, *, index: int, **kwargs):
        super().__init__(**kwargs)
        self.index = index

    def execute(self, context):
        hook = AsyncAwsHook(conn_id="moto")
        try:
            run_id = hook.sync.call("glue", "start_job_run", JobName=JOB_NAME)["JobRunId"]
        finally:
            hook.sync.close()
        wait = JobWait(
            "aws",
            hook_kwargs={"conn_id": "moto"},
            wait_args=["glue", run_id],
            wait_kwargs={"job_name": JOB_NAME, "poll_interval": 1, "timeout": 900},
        )
        return self.wait_or_defer(context, wait)


with DAG("glue_waits", schedule=None, catchup=False):
    StartGlueRunAndWait.partial(task_id="wait").expand(index=list(range(WAITS)))
