"""Sensors that start and end in the triggerer, a retry that resumes its job, and waits that
cancel their job when a user ends the task but not on a failover (dags/lead_api.py).

One scenario serves every test here (a module fixture): the three DAGs run together; once every
wait is deferred (and the resumable task is waiting in its worker), a third triggerer starts,
``kill -9`` ends the first two (every trigger moves to the third) and the resumable task's
worker process; then a user marks ``cancel_me`` failed and the Glue runs are let finish."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.deployment.conftest import task_summary
from tests.deployment.dags.lead_api import JOB_NAME, SENSOR_TIMEOUT

NEVER = 10**9
FAILURE_CAUSE = "the ETL step broke"
#: Seconds the timeout sensor waits before the failover: its deadline, restarted by a
#: re-created trigger, would then pass long after the kept one.
BEFORE_FAILOVER = 15


@dataclass
class Scenario:
    runs: dict[str, str]
    states: dict[str, dict[tuple[str, int], str | None]] = field(default_factory=dict)
    tis: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    glue: dict[str, str] = field(default_factory=dict)  # task -> its run's state at the end
    stopped_after_kill: dict[str, str] = field(default_factory=dict)
    timeout_started: float = 0.0
    timeout_ended: float = 0.0
    owned_at: float = 0.0
    starts: int = 0
    logs: dict[str, str] = field(default_factory=dict)


def _execution(aws: Any, name: str, failure: tuple[str, str] | None) -> str:
    state: dict[str, Any] = (
        {"Type": "Pass", "End": True}
        if failure is None
        else {"Type": "Fail", "Error": failure[0], "Cause": failure[1]}
    )
    machine = aws(
        "stepfunctions",
        "create_state_machine",
        name=name,
        roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": "S", "States": {"S": state}}),
    )
    run = aws("stepfunctions", "start_execution", stateMachineArn=machine["stateMachineArn"])
    return str(run["executionArn"])


def _ti(deployment: Any, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    for ti in deployment.task_instances(dag_id, run_id):
        if ti["task_id"] == task_id:
            return ti
    raise AssertionError(f"no task {task_id} in {dag_id}")


def _glue_state(aws: Any, run_id: str) -> str:
    return str(aws("glue", "get_job_run", JobName=JOB_NAME, RunId=run_id)["JobRun"]["JobRunState"])


def _recorded_job(deployment: Any, dag_id: str, run_id: str, task_id: str) -> str | None:
    """The job id ``submit_or_resume`` recorded in Airflow's task state store."""
    rows = deployment.sql(
        "select value from task_state_store where dag_id = %s and run_id = %s and task_id = %s",
        (dag_id, run_id, task_id),
    )
    if not rows:
        return None
    try:
        value = json.loads(rows[0][0])
    except ValueError:
        value = rows[0][0]
    return str(value)


def _holders(deployment: Any, runs: dict[str, str]) -> dict[int | None, list[int]]:
    """Triggerer PID -> the triggers of these runs it holds (``None``: not assigned)."""
    rows = deployment.sql(
        "select trigger_id from task_instance where trigger_id is not null"
        " and (dag_id, run_id) in (select unnest(%s::text[]), unnest(%s::text[]))",
        (list(runs), list(runs.values())),
    )
    ours = {trigger for (trigger,) in rows}
    held = {
        p: [t for t in ids if t in ours] for p, ids in deployment.triggers_by_triggerer().items()
    }
    return {pid: ids for pid, ids in held.items() if ids}


@pytest.fixture(scope="module")
def scenario(deployment: Any, aws: Any) -> Scenario:
    moto = deployment.moto
    moto.set_transition("glue::job_run", {"progression": "manual", "times": NEVER})
    moto.set_config({"stepfunctions": {"execute_state_machine": True}})
    aws(
        "glue",
        "create_job",
        Name=JOB_NAME,
        Role="etl",
        Command={"Name": "glueetl"},
        ExecutionProperty={"MaxConcurrentRuns": 10},
    )
    never = aws("glue", "start_job_run", JobName=JOB_NAME)["JobRunId"]
    conf = {
        "ok": _execution(aws, "sense-ok", None),
        "failed": _execution(aws, "sense-failed", ("ETLError", FAILURE_CAUSE)),
        "never": never,
    }
    moto.reset_counts()
    runs = {
        "sensors": deployment.trigger_dag("sensors", conf),
        "cancel": deployment.trigger_dag("cancel"),
        "resume": deployment.trigger_dag("resume"),
    }
    seen = Scenario(runs)

    def state(dag_id: str, task_id: str) -> str | None:
        return deployment.task_states(dag_id, runs[dag_id]).get((task_id, -1))

    deployment.wait_until(
        lambda: state("sensors", "sense_timeout") == "deferred",
        timeout=300,
        what="the timeout sensor to defer",
    )
    seen.timeout_started = time.monotonic()
    deployment.wait_until(
        lambda: (
            state("cancel", "cancel_me") == state("cancel", "failover_me") == "deferred"
            and _recorded_job(deployment, "resume", runs["resume"], "submit_and_wait") is not None
            and state("resume", "submit_and_wait") == "running"
        ),
        timeout=300,
        what="the cancellable waits to defer and the resumable task to wait in its worker",
    )
    deployment.wait_until(
        lambda: time.monotonic() > seen.timeout_started + BEFORE_FAILOVER,
        timeout=BEFORE_FAILOVER + 5,
        what="the sensor to wait a while",
    )
    # The resumable task's worker dies after it submitted: its retry must wait on that job.
    worker = _ti(deployment, "resume", runs["resume"], "submit_and_wait")["pid"]
    os.kill(worker, signal.SIGKILL)
    # Failover: a new triggerer, then kill -9 of the two that hold the triggers.
    old = deployment.triggerer_pids
    new = deployment.start_triggerer()
    for pid in old:
        deployment.kill_triggerer(pid, signal.SIGKILL)
    deployment.wait_until(
        lambda: set(_holders(deployment, runs)) == {new},
        timeout=180,
        what=f"triggerer {new} to hold every trigger",
    )
    seen.owned_at = time.monotonic()
    cancel_ti = {
        t: _ti(deployment, "cancel", runs["cancel"], t) for t in ("cancel_me", "failover_me")
    }
    glue_runs = {t: _recorded_job(deployment, "cancel", runs["cancel"], t) or "" for t in cancel_ti}
    seen.stopped_after_kill = {t: _glue_state(aws, r) for t, r in glue_runs.items()}
    # A user's "mark failed": the trigger stops the Glue run before it ends.
    deployment.set_task_state("cancel", runs["cancel"], "cancel_me", "failed")
    deployment.wait_until(
        lambda: _glue_state(aws, glue_runs["cancel_me"]) in {"STOPPING", "STOPPED"},
        timeout=120,
        what="cancel_me's Glue run to stop",
    )
    deployment.wait_until(
        lambda: state("sensors", "sense_timeout") != "deferred",
        timeout=300,
        what="the timeout sensor's deadline",
    )
    seen.timeout_ended = time.monotonic()
    moto.set_transition("glue::job_run", {"progression": "immediate"})
    for dag_id, run_id in runs.items():
        deployment.wait_for_run(dag_id, run_id, timeout=600)
        seen.states[dag_id] = deployment.task_states(dag_id, run_id)
        seen.tis[dag_id] = {ti["task_id"]: ti for ti in deployment.task_instances(dag_id, run_id)}
    seen.glue = {t: _glue_state(aws, r) for t, r in glue_runs.items()}
    seen.starts = moto.counts().get("StartJobRun", 0)
    seen.logs = {
        "sense_failed": deployment.task_log("sensors", runs["sensors"], "sense_failed"),
        "sense_timeout": deployment.task_log("sensors", runs["sensors"], "sense_timeout"),
    }
    deployment.start_triggerer()  # two again
    print(
        f"\nsensors {seen.states['sensors']}; the timeout sensor waited"
        f" {seen.timeout_ended - seen.timeout_started:.1f} s (timeout {SENSOR_TIMEOUT} s; its"
        f" trigger re-created {seen.owned_at - seen.timeout_started:.1f} s in); cancel"
        f" {seen.states['cancel']}, Glue runs {seen.glue} (after the kill:"
        f" {seen.stopped_after_kill}); resumed on try"
        f" {seen.tis['resume']['submit_and_wait']['try_number']};"
        f" StartJobRun {seen.starts}"
    )
    return seen


@pytest.mark.timeout(900)
def test_sensors_finish_in_the_triggerer_with_the_providers_reason(scenario: Scenario) -> None:
    states = scenario.states["sensors"]
    assert states[("sense_ok", -1)] == "success", task_summary(states)
    assert states[("sense_failed", -1)] == "failed", task_summary(states)
    assert states[("sense_timeout", -1)] == "failed", task_summary(states)
    ok = scenario.tis["sensors"]["sense_ok"]
    assert ok["queued_when"] is None and not ok["pid"], ok  # never queued for, or run on, a worker
    assert FAILURE_CAUSE in scenario.logs["sense_failed"]


@pytest.mark.timeout(900)
def test_the_timeout_sensor_keeps_its_deadline_across_the_failover(scenario: Scenario) -> None:
    waited = scenario.timeout_ended - scenario.timeout_started
    restarted = scenario.owned_at - scenario.timeout_started + SENSOR_TIMEOUT
    assert "timed out" in scenario.logs["sense_timeout"]
    # The kept deadline passes SENSOR_TIMEOUT after the sensor began; a restarted one would
    # pass that long after the re-creation (at least BEFORE_FAILOVER + 10 s later).
    assert waited < restarted - 5, (waited, restarted)


@pytest.mark.timeout(900)
def test_a_retry_after_the_worker_died_waits_on_the_same_job(scenario: Scenario) -> None:
    assert scenario.states["resume"] == {("submit_and_wait", -1): "success"}
    assert scenario.tis["resume"]["submit_and_wait"]["try_number"] == 2
    # Counted from the DAGs' start: one run per cancellable task, one for the resumed task.
    assert scenario.starts == 3, scenario.starts


@pytest.mark.timeout(900)
def test_mark_failed_stops_the_job_and_a_failover_does_not(scenario: Scenario) -> None:
    states = scenario.states["cancel"]
    assert states == {("cancel_me", -1): "failed", ("failover_me", -1): "success"}, states
    stopped = {"STOPPING", "STOPPED"}
    assert not stopped & set(scenario.stopped_after_kill.values()), scenario.stopped_after_kill
    assert scenario.glue["cancel_me"] in {"STOPPING", "STOPPED"}
    assert scenario.glue["failover_me"] == "SUCCEEDED"
