"""A DAG for the end-to-end tests: start nothing, wait for a Glue run the test started.

The test passes the run through the environment (``GLUE_JOB``, ``GLUE_RUN``, ``DEFERRABLE``).
"""

from __future__ import annotations

import os

from airflow.sdk import DAG, BaseOperator

from async_hooks.airflow import JobWait, WaitForJobMixin


class WaitForGlueRun(WaitForJobMixin, BaseOperator):
    def __init__(self, *, job_name: str, run_id: str, deferrable: bool, **kwargs):
        super().__init__(**kwargs)
        self.job_name, self.run_id, self.deferrable = job_name, run_id, deferrable

    def execute(self, context):
        wait = JobWait(
            "aws",
            hook_kwargs={"conn_id": "moto", "region_name": "us-east-1"},
            wait_args=["glue", self.run_id],
            wait_kwargs={"job_name": self.job_name, "poll_interval": 0.05, "timeout": 60},
        )
        return self.wait_or_defer(context, wait)


with DAG("wait_for_glue", schedule=None, catchup=False) as dag:
    WaitForGlueRun(
        task_id="wait",
        job_name=os.environ.get("GLUE_JOB", "etl"),
        run_id=os.environ.get("GLUE_RUN", "jr_0"),
        deferrable=os.environ.get("DEFERRABLE", "1") == "1",
    )
