"""Retries that resume: ``WaitForJobMixin.submit_or_resume`` records the job a try submitted in
Airflow's task state store, and the next try (after a crash, or a user's clear) waits on that
job instead of submitting another. Run through Airflow itself (``dag.test()``, retries
included) against a real job server."""

from __future__ import annotations

import os

import pytest

from async_hooks.errors import HookConfigError


def run_resume_dag(server, monkeypatch, *, crash_first_try: bool, outcome: str = "SUCCEEDED"):
    """Run ``dags/resume_and_sense.py``'s ``resume_job`` against ``server`` with ``dag.test()``:
    one task that submits a job, then waits, with one retry."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("JOBS_URL", server.url)
    monkeypatch.setenv("CRASH_FIRST_TRY", "1" if crash_first_try else "0")
    monkeypatch.setenv("OUTCOME", outcome)
    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert not bag.import_errors
    run = bag.get_dag("resume_job").test()
    (ti,) = run.get_task_instances()
    return run, ti


def test_a_retry_waits_on_the_job_its_first_try_submitted(airflow_db, job_server, monkeypatch):
    server = job_server()
    run, ti = run_resume_dag(server, monkeypatch, crash_first_try=True)
    assert (run.state, ti.state, ti.try_number) == ("success", "success", 2)
    assert len(server.board.jobs) == 1  # the retry resumed the job; it did not submit another


def test_a_retry_after_the_job_failed_submits_a_new_one(airflow_db, job_server, monkeypatch):
    server = job_server()
    run, ti = run_resume_dag(server, monkeypatch, crash_first_try=False, outcome="FAILED")
    assert (run.state, ti.state, ti.try_number) == ("failed", "failed", 2)
    # The first try's job failed, and its record went with it: the retry started afresh.
    assert len(server.board.jobs) == 2


def test_a_submit_that_returns_no_id_is_a_clear_error():
    from async_hooks.airflow._resume import submit_or_resume_id

    class Record:
        value = None

        def get(self):
            return self.value

        def set(self, job_id):
            self.value = job_id

        def delete(self):
            self.value = None

    with pytest.raises(HookConfigError, match="non-empty string, not NoneType"):
        submit_or_resume_id(Record(), lambda: None)


def test_resuming_outside_a_task_names_what_is_missing():
    from async_hooks.airflow._resume import job_record

    with pytest.raises(HookConfigError, match=r"context\['ti'\]"):
        job_record({})


class Store(dict):
    """``context["task_state_store"]``'s get/set/delete, in this process."""

    def set(self, key, value, **_):
        self[key] = value

    def delete(self, key):
        self.pop(key, None)


@pytest.mark.parametrize(
    ("answer", "kept"),
    [(403, True), (200, False)],
    ids=["an-error-that-only-ended-the-wait", "a-job-that-failed"],
)
def test_only_a_job_that_can_no_longer_succeed_drops_its_record(threaded_server, answer, kept):
    import asyncio

    from aiohttp import web
    from airflow.sdk import BaseOperator

    from async_hooks.airflow import JobWait, JobWaitError, WaitForJobMixin, WaitForJobTrigger

    from ._support import only_event

    async def describe(request):
        if answer == 403:
            return web.json_response({"message": "forbidden"}, status=403)
        return web.json_response({"status": "FAILED", "reason": "disk full"})

    app = web.Application()
    app.router.add_get("/jobs/{job}", describe)
    server = threaded_server(app)
    wait = JobWait("http", {"base_url": server.url}, ["/jobs/1"], {"poll_interval": 0.05})
    payload = asyncio.run(only_event(WaitForJobTrigger(**wait.trigger().serialize()[1])))
    assert payload["status"] == "failed"

    class Operator(WaitForJobMixin, BaseOperator):
        pass

    store = Store({"async_hooks_job_id": "1"})
    with pytest.raises(JobWaitError):
        Operator(task_id="t").execute_complete(
            {"task_state_store": store}, event=payload, resume_key="async_hooks_job_id"
        )
    assert ("async_hooks_job_id" in store) is kept
