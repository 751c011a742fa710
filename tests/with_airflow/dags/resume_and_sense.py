"""DAGs for the resume and sensor tests, against the job server named by ``JOBS_URL``.

``resume_job``: one task submits a job (``POST /jobs``) and waits on it, with one retry; its
first try dies right after submitting when ``CRASH_FIRST_TRY=1``. ``OUTCOME`` is how the jobs
end. ``sense_job``: a ``WaitForJobSensor`` on the job given as the run's ``job`` parameter.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG, BaseOperator

from async_hooks.airflow import JobWait, WaitForJobMixin, WaitForJobSensor

URL = os.environ.get("JOBS_URL", "http://127.0.0.1:1")
QUICK = {"poll_interval": 0.05, "jitter": 0.0, "timeout": 30}


class SubmitAndWait(WaitForJobMixin, BaseOperator):
    def execute(self, context):
        from async_hooks.http import AsyncHttpHook

        def submit() -> str:
            hook = AsyncHttpHook(URL)
            try:
                spec = {"polls": 1, "outcome": os.environ.get("OUTCOME", "SUCCEEDED")}
                answer = hook.sync.request("POST", "/jobs", json={**spec, "reason": "disk full"})
                return str(answer.json()["id"])
            finally:
                hook.sync.close()

        wait = self.submit_or_resume(
            context,
            submit,
            lambda job: JobWait("http", {"base_url": URL}, [f"/jobs/{job}"], QUICK),
        )
        if os.environ.get("CRASH_FIRST_TRY") == "1" and context["ti"].try_number == 1:
            raise RuntimeError("the worker was lost")
        return self.wait_or_defer(context, wait)


with DAG("resume_job", schedule=None, catchup=False) as resume_dag:
    SubmitAndWait(task_id="job", retries=1, retry_delay=dt.timedelta(0))

with DAG("sense_job", schedule=None, catchup=False, params={"job": "none"}) as sense_dag:
    WaitForJobSensor(
        task_id="sense",
        provider="http",
        job_id="/jobs/{{ params.job }}",
        hook_kwargs={"base_url": URL},
        wait_kwargs=QUICK,
    )
