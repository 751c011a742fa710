"""A complete DAG: run a Glue job and wait for it in the triggerer, then wait on a run started
by another task with ``WaitForJobSensor``. No task holds a worker slot while a job runs.

docs/airflow.md ("A complete DAG, run locally") runs it against a local moto server:
the Airflow connection ``aws_etl`` names the AWS account (here moto), and the Glue job
``nightly`` must exist there.
"""

from __future__ import annotations

from airflow.sdk import DAG, BaseOperator, task

from async_hooks.airflow import JobWait, WaitForJobMixin, WaitForJobSensor
from async_hooks.aws import AsyncAwsHook

CONN_ID = "aws_etl"
TIMING = {"poll_interval": 5, "timeout": 3600}


class RunGlueJob(WaitForJobMixin, BaseOperator):
    """Start a run of a Glue job, then wait for it (deferred: in the triggerer)."""

    template_fields = ("job_name",)

    def __init__(self, *, job_name: str, aws_conn_id: str = CONN_ID, **kwargs):
        super().__init__(**kwargs)
        self.job_name, self.aws_conn_id = job_name, aws_conn_id
        self.deferrable = True

    def execute(self, context):
        hook = AsyncAwsHook(conn_id=self.aws_conn_id)

        def submit() -> str:
            return hook.sync.call("glue", "start_job_run", JobName=self.job_name)["JobRunId"]

        wait = self.submit_or_resume(  # a retry waits on the run its first try started
            context,
            submit,
            lambda run_id: JobWait(
                "aws",
                hook_kwargs={"conn_id": self.aws_conn_id},
                wait_args=["glue", run_id],
                wait_kwargs={"job_name": self.job_name, **TIMING},
            ),
        )
        hook.sync.close()
        return self.wait_or_defer(context, wait)


@task
def start_run(job_name: str) -> str:
    """Start a Glue run and return its id (an XCom the sensor reads)."""
    hook = AsyncAwsHook(conn_id=CONN_ID)
    try:
        return str(hook.sync.call("glue", "start_job_run", JobName=job_name)["JobRunId"])
    finally:
        hook.sync.close()


with DAG(
    "glue_wait",
    schedule=None,
    catchup=False,
    params={"job_name": "nightly"},
    tags=["async_hooks"],
) as dag:
    run_nightly = RunGlueJob(task_id="run_nightly", job_name="{{ params.job_name }}")
    started = start_run("{{ params.job_name }}")
    wait_for_run = WaitForJobSensor(
        task_id="wait_for_run",
        provider="aws",
        kind="glue",
        job_id="{{ ti.xcom_pull(task_ids='start_run') }}",
        hook_kwargs={"conn_id": CONN_ID},
        wait_kwargs={"job_name": "{{ params.job_name }}", **TIMING},
    )
    run_nightly >> started >> wait_for_run
