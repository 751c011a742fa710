"""DAGs for the triggerer-side features: sensors that start and end in the triggerer, a task
that resumes its job on a retry, and waits that cancel their job when a user ends the task.
The test passes the jobs it made through the run's ``conf``."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, BaseOperator

from async_hooks.airflow import JobWait, WaitForJobMixin, WaitForJobSensor
from async_hooks.aws import AsyncAwsHook

JOB_NAME = "lead-etl"
#: The timeout sensor's own deadline, seconds.
SENSOR_TIMEOUT = 60
HOOK = {"conn_id": "moto"}


def start_glue_run() -> str:
    hook = AsyncAwsHook(conn_id="moto")
    try:
        run_id: str = hook.sync.call("glue", "start_job_run", JobName=JOB_NAME)["JobRunId"]
    finally:
        hook.sync.close()
    return run_id


class StartGlueAndWait(WaitForJobMixin, BaseOperator):
    """Submit a Glue run (once per task, whatever the tries) and wait for it."""

    def __init__(self, *, deferrable: bool, cancel_on_kill: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.deferrable, self.cancel_on_kill = deferrable, cancel_on_kill

    def execute(self, context):
        wait = self.submit_or_resume(
            context,
            submit=start_glue_run,
            wait=lambda run_id: JobWait(
                "aws",
                HOOK,
                ["glue", run_id],
                {"job_name": JOB_NAME, "poll_interval": 1, "timeout": 900},
                cancel_on_kill=self.cancel_on_kill,
            ),
        )
        return self.wait_or_defer(context, wait)


with DAG("sensors", schedule=None, catchup=False):
    WaitForJobSensor(
        task_id="sense_ok",
        provider="aws",
        kind="stepfunctions",
        job_id="{{ dag_run.conf['ok'] }}",
        hook_kwargs=HOOK,
        wait_kwargs={"poll_interval": 1, "timeout": 600},
    )
    WaitForJobSensor(
        task_id="sense_failed",
        provider="aws",
        kind="stepfunctions",
        job_id="{{ dag_run.conf['failed'] }}",
        hook_kwargs=HOOK,
        wait_kwargs={"poll_interval": 1, "timeout": 600},
    )
    WaitForJobSensor(
        task_id="sense_timeout",
        provider="aws",
        kind="glue",
        job_id="{{ dag_run.conf['never'] }}",
        hook_kwargs=HOOK,
        wait_kwargs={"job_name": JOB_NAME, "poll_interval": 1, "timeout": SENSOR_TIMEOUT},
    )

with DAG("cancel", schedule=None, catchup=False):
    StartGlueAndWait(task_id="cancel_me", deferrable=True, cancel_on_kill=True)
    StartGlueAndWait(task_id="failover_me", deferrable=True, cancel_on_kill=True)

with DAG("resume", schedule=None, catchup=False):
    StartGlueAndWait(
        task_id="submit_and_wait",
        deferrable=False,
        retries=1,
        retry_delay=dt.timedelta(seconds=1),
    )
