"""The operator helpers: one ``JobWait`` for the deferrable and the blocking path, through the
lightest real path (execute, TaskDeferred, the rebuilt trigger, execute_complete) and through
Airflow itself (``dag.test()``, which runs the trigger in line and resumes the task)."""

from __future__ import annotations

import asyncio
import os
import pickle

import pytest

from async_hooks import run_sync
from async_hooks.airflow import JobWait, JobWaitError, WaitForJobMixin, WaitForJobTrigger, result_of

from ._support import only_event, rebuilt

QUICK = {"poll_interval": 0.05, "jitter": 0.0}


def make_operator(wait: JobWait, *, deferrable: bool):
    from airflow.sdk import BaseOperator

    class WaitOperator(WaitForJobMixin, BaseOperator):
        def execute(self, context):
            return self.wait_or_defer(context, wait)

    operator = WaitOperator(task_id="wait")
    operator.deferrable = deferrable
    return operator


def defer_and_resume(operator) -> dict:
    """Airflow's part, by hand: catch TaskDeferred, rebuild the trigger from what it serialised,
    run it on a fresh loop (as dag.test() does), resume the named method with the event."""
    from airflow.sdk.exceptions import TaskDeferred

    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})
    trigger = rebuilt(deferred.value.trigger)
    assert isinstance(trigger, WaitForJobTrigger)
    assert deferred.value.timeout is not None  # Airflow's backstop, after the wait's own
    payload = asyncio.run(only_event(trigger))
    return getattr(operator, deferred.value.method_name)({}, event=payload)


def test_deferrable_success_returns_the_result(job_server):
    server = job_server()
    job = server.create(polls=3)
    wait = JobWait("http", {"base_url": server.url}, [f"/jobs/{job}"], QUICK)
    result = defer_and_resume(make_operator(wait, deferrable=True))
    assert (result["status"], result["succeeded"], result["polls"]) == ("SUCCEEDED", True, 5)


def test_deferrable_failure_fails_the_task_with_the_provider_reason(job_server):
    server = job_server()
    job = server.create(polls=1, outcome="FAILED", reason="quota exceeded")
    wait = JobWait("http", {"base_url": server.url}, [f"/jobs/{job}"], QUICK)
    with pytest.raises(JobWaitError, match="quota exceeded") as failed:
        defer_and_resume(make_operator(wait, deferrable=True))
    assert failed.value.status == "failed"
    from airflow.sdk.exceptions import AirflowException

    assert isinstance(failed.value, AirflowException)
    again = pickle.loads(pickle.dumps(failed.value))  # exceptions may cross processes
    assert (str(again), again.status, again.reason) == (
        str(failed.value),
        "failed",
        "quota exceeded",
    )


def test_deferrable_timeout_fails_the_task(job_server):
    server = job_server()
    job = server.create(polls=10_000)
    wait = JobWait("http", {"base_url": server.url}, [f"/jobs/{job}"], {**QUICK, "timeout": 0.2})
    with pytest.raises(JobWaitError, match="timed out") as failed:
        defer_and_resume(make_operator(wait, deferrable=True))
    assert failed.value.status == "timeout"


def test_blocking_path_waits_in_the_worker_with_the_same_settings(job_server):
    server = job_server()
    ok = server.create(polls=2)
    bad = server.create(polls=2, outcome="FAILED", reason="bad input")
    result = make_operator(
        JobWait("http", {"base_url": server.url}, [f"/jobs/{ok}"], QUICK), deferrable=False
    ).execute({})
    assert (result["status"], result["job_id"]) == ("SUCCEEDED", f"/jobs/{ok}")
    with pytest.raises(JobWaitError, match="bad input"):
        make_operator(
            JobWait("http", {"base_url": server.url}, [f"/jobs/{bad}"], QUICK), deferrable=False
        ).execute({})


def test_both_paths_end_with_the_same_event(job_server):
    server = job_server()
    jobs = [server.create(polls=2, outcome="FAILED", reason="no") for _ in range(2)]
    blocking = JobWait("http", {"base_url": server.url}, [f"/jobs/{jobs[0]}"], QUICK)
    deferred = JobWait("http", {"base_url": server.url}, [f"/jobs/{jobs[1]}"], QUICK)
    one, other = blocking.wait_blocking(), asyncio.run(only_event(deferred.trigger()))
    for event in (one, other):
        event["result"].pop("job_id"), event["result"].pop("elapsed")
        assert event["result"]["response"] is None  # not asked for
    assert one == other


@pytest.mark.parametrize("event", [None, {}, {"status": "done", "result": {}}, "success"])
def test_a_resume_without_our_event_is_a_clear_error(event):
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(AirflowException, match="without a WaitForJobTrigger event"):
        result_of(event)


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "blocking"])
def test_dag_test_runs_the_operator_end_to_end(
    deferrable, airflow_db, aws_conn, glue_runs, monkeypatch
):
    name, (run,) = run_sync(glue_runs(1, transitions=1))
    monkeypatch.setenv("GLUE_JOB", name)
    monkeypatch.setenv("GLUE_RUN", run)
    monkeypatch.setenv("DEFERRABLE", "1" if deferrable else "0")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert not bag.import_errors
    dag_run = bag.get_dag("wait_for_glue").test()
    assert dag_run.state == "success"
    (ti,) = dag_run.get_task_instances()
    assert ti.state == "success"
    assert ti.try_number == 1


def test_the_blocking_path_hands_the_context_to_the_resume_method(job_server):
    from airflow.sdk import BaseOperator

    server = job_server()
    job = server.create(polls=1)
    seen = []

    class Recording(WaitForJobMixin, BaseOperator):
        def execute(self, context):
            wait = JobWait("http", {"base_url": server.url}, [f"/jobs/{job}"], QUICK)
            return self.wait_or_defer(context, wait, method_name="done")

        def done(self, context, event=None):
            seen.append(context)
            return result_of(event)["status"]

    context = {"ti": "the task instance"}
    assert Recording(task_id="r").execute(context) == "SUCCEEDED"
    assert seen == [context]
