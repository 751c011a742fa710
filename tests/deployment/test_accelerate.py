"""``accelerate()`` in a deployment's ``airflow_local_settings.py`` (issue 21): ``TASKS`` of the
Amazon provider's own ``GlueJobOperator(deferrable=True)``, DAG code unchanged, in a deployment of
their own (one triggerer) whose every component imports the documented one line at start.

Each task starts its Glue run on moto and defers to the provider's ``GlueJobCompleteTrigger``;
the runs are held in STARTING (moto's manual progression) while the triggerer polls them
``TICKS`` times, twice over, then released. The provider's trigger asks ``GetJobRun`` once per
trigger per poll; accelerated, one ``GetJobRuns`` per tick answers all of them, so moto must see
no ``GetJobRun`` at all and at most one ``GetJobRuns`` per poll interval while they wait. Every
task succeeds through the operator's own ``execute_complete``: its return value (the task's
``return_value`` XCom) is the run id of the trigger's success event."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from async_hooks.testing.deployment import AirflowDeployment, DeploymentError

TASKS = 4
DAG_ID = "accelerated_glue"
JOB_NAME = "accelerated-etl"
#: The operators' ``waiter_delay``: the accelerated triggers' poll interval.
DELAY = 1
#: Shared polls seen while the runs are held, before they may end.
TICKS = 3
NEVER = 10**9
GLUE_TRIGGER = "airflow.providers.amazon.aws.triggers.glue.GlueJobCompleteTrigger"

#: The deployment's ``airflow_local_settings.py``: the documented one line.
LOCAL_SETTINGS = """from async_hooks.airflow import accelerate

accelerate()  # the Amazon provider's deferrable triggers run on async_hooks
"""

#: Plain provider DAG code: nothing of async_hooks in it.
DAG = f'''"""{TASKS} Glue runs started and awaited by the Amazon provider's deferrable operator."""
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.sdk import DAG

with DAG("{DAG_ID}", schedule=None, catchup=False):
    for index in range({TASKS}):
        GlueJobOperator(
            task_id=f"glue{{index}}",
            job_name="{JOB_NAME}",
            aws_conn_id="moto",
            deferrable=True,
            waiter_delay={DELAY},
            waiter_max_attempts=600,
        )
'''


@dataclass
class Seen:
    states: dict[str, str | None]
    returned: dict[str, Any]  # task id -> its return_value XCom
    started_runs: set[str]  # the run ids moto has for the job
    held_calls: dict[str, int]  # moto's calls while the runs were held, all triggers polling
    held_seconds: float
    counts: dict[str, int]  # moto's calls from the DAG run's start to its end


def _glue(airflow: AirflowDeployment, operation: str, **params: Any) -> Any:
    from async_hooks.aws import AsyncAwsHook

    hook = AsyncAwsHook(
        endpoint_url=airflow.moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret-key",
    )
    try:
        return hook.sync.call("glue", operation, **params)
    finally:
        hook.sync.close()


def _deferred(airflow: AirflowDeployment) -> int:
    rows = airflow.sql(
        "select count(*) from task_instance where dag_id = %s and state = 'deferred'", (DAG_ID,)
    )
    return int(rows[0][0])


def _polls(airflow: AirflowDeployment, more: int, what: str) -> None:
    """Until moto has answered ``more`` further ``GetJobRuns``."""
    seen = airflow.moto.counts().get("GetJobRuns", 0)
    airflow.wait_until(
        lambda: airflow.moto.counts().get("GetJobRuns", 0) >= seen + more, timeout=120, what=what
    )


def _taken_over() -> None:
    """The installed provider's Glue trigger is one ``accelerate()`` takes over (else this test
    would prove nothing: the drift guard leaves a changed trigger to the provider)."""
    from async_hooks.airflow import accelerate

    report = accelerate()
    try:
        if GLUE_TRIGGER not in report.taken:
            pytest.fail(f"accelerate() leaves {GLUE_TRIGGER}: {report.left.get(GLUE_TRIGGER)}")
    finally:
        accelerate(enable=False)


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seen]:
    _taken_over()
    base = tmp_path_factory.mktemp("accelerate")
    dags, settings = base / "dags", base / "settings"
    dags.mkdir()
    settings.mkdir()
    (settings / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
    path = [str(settings), *filter(None, [os.environ.get("PYTHONPATH")])]
    try:
        airflow = AirflowDeployment(
            dags,
            base_dir=base / "deployment",
            triggerers=1,
            env={"PYTHONPATH": os.pathsep.join(path)},
        ).start()
    except DeploymentError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield _play(airflow, dags)
    finally:
        airflow.stop()


def _play(airflow: AirflowDeployment, dags: Path) -> Seen:
    airflow.add_connection("moto", airflow.moto_connection())
    airflow.moto.set_transition("glue::job_run", {"progression": "manual", "times": NEVER})
    _glue(
        airflow,
        "create_job",
        Name=JOB_NAME,
        Role="etl",
        Command={"Name": "glueetl"},
        ExecutionProperty={"MaxConcurrentRuns": TASKS},
    )
    (dags / f"{DAG_ID}.py").write_text(DAG)
    airflow.wait_for_dag(DAG_ID)
    airflow.moto.reset_counts()
    run_id = airflow.trigger_dag(DAG_ID)
    airflow.wait_until(
        lambda: _deferred(airflow) == TASKS and airflow.moto.counts().get("GetJobRuns", 0) > 0,
        timeout=300,
        what=f"{TASKS} GlueJobOperators to defer and their triggers to poll",
    )
    _polls(airflow, TICKS, "every trigger to have joined the schedule")  # a trigger joining
    before, held_from = airflow.moto.counts(), time.monotonic()  # late may poll at once
    _polls(airflow, TICKS, f"{TICKS} more polls of the held runs")
    held_seconds = time.monotonic() - held_from
    after = airflow.moto.counts()
    held = {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}
    airflow.moto.set_transition("glue::job_run", {"progression": "immediate"})
    state = airflow.wait_for_run(DAG_ID, run_id, timeout=300)
    counts = airflow.moto.counts()
    states = {task: s for (task, _), s in airflow.task_states(DAG_ID, run_id).items()}
    returned = {task: airflow.xcom(DAG_ID, run_id, task) for task in states}
    runs = _glue(airflow, "get_job_runs", JobName=JOB_NAME)["JobRuns"]
    print(
        f"\n{TASKS} accelerated GlueJobOperators: run {state}, tasks {states}; moto while held"
        f" {held_seconds:.1f} s: {held}; moto in all: {counts}"
    )
    return Seen(states, returned, {run["Id"] for run in runs}, held, held_seconds, counts)


@pytest.mark.timeout(900)
def test_provider_operators_succeed_through_their_execute_complete(seen: Seen) -> None:
    assert seen.states == {f"glue{index}": "success" for index in range(TASKS)}, seen.states
    # GlueJobOperator.execute_complete returns the success event's run_id (its execute only
    # defers): each task's return value is the run it started.
    assert set(seen.returned.values()) == seen.started_runs, (seen.returned, seen.started_runs)
    assert len(seen.started_runs) == TASKS
    assert seen.counts.get("StartJobRun") == TASKS


@pytest.mark.timeout(900)
def test_their_triggers_poll_on_the_shared_schedule(seen: Seen) -> None:
    # The provider's trigger polls with GetJobRun, one call per trigger per poll; not one here.
    assert seen.counts.get("GetJobRun", 0) == 0, seen.counts
    assert seen.counts.get("GetJobRuns", 0) >= TICKS + 1, seen.counts
    # While all TASKS triggers waited, one GetJobRuns per tick served them all: at most one
    # call per poll interval (less 10 % jitter), where the provider's would make TASKS.
    assert set(seen.held_calls) == {"GetJobRuns"}, seen.held_calls
    assert seen.held_calls["GetJobRuns"] <= seen.held_seconds / (0.9 * DELAY) + 1, seen
