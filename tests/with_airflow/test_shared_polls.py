"""Waits that start at different times share their polls, in Airflow's own triggerer code.

A triggerer runs every trigger of its share on one event loop, and deferred tasks reach it one
runner-loop iteration at a time: 20 Glue waits on one job never start together. The promise
(shared/DESIGN.md section 3): concurrent waits of one kind on one connection share their polls,
one batch-describe call per tick, whenever each wait began.

This drives Airflow's real ``TriggerRunner`` in-process: each trigger is stored as Airflow
stores it (``Trigger.from_object``: serde, encrypted kwargs) and handed to the runner as the
supervisor hands it (a ``RunTrigger`` workload); the runner's ``create_triggers`` decrypts,
rebuilds and starts it (``run_trigger``, a task per trigger), its events land in
``runner.events`` and ``cleanup_finished_triggers`` collects the finished ones. The test plays
the supervisor and the runner's loop: one new trigger per iteration, iterations paced on the
loop's clock (Airflow's own loop sleeps a second between them; here a fraction of a poll
interval, so that 20 arrivals spread over three intervals). Nothing is asserted on time: the
count is of calls the server received per poll the waits made, which holds whatever the pace.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from async_hooks.airflow import WaitForJobTrigger

TRIGGERS = 20
POLL_INTERVAL = 0.5
#: Between two arrivals: 20 arrivals over three poll intervals.
ARRIVAL_GAP = 3 * POLL_INTERVAL / TRIGGERS
#: Glue describe calls the server answers after the last arrival before the runs end: with one
#: call per tick, this many intervals of all 20 waits polling together.
TICKS_AFTER_LAST_ARRIVAL = 12
#: moto's manual progression: a run advances after this many reads, i.e. never in this test.
NEVER = 10**9
GLUE_DESCRIBES = ("op:GetJobRuns", "op:GetJobRun")


def _describe_calls(proxy) -> int:
    return sum(proxy.counts[op] for op in GLUE_DESCRIBES)


@pytest.mark.slow
async def test_waits_started_at_different_times_share_the_polls_of_one_schedule(
    aws_conn, glue_runs, moto_server, fault_proxy, monkeypatch
):
    from airflow.executors.workloads import RunTrigger
    from airflow.jobs.triggerer_job_runner import TriggerRunner
    from airflow.models.trigger import Trigger

    from async_hooks.testing.jobserver import until

    name, runs = await glue_runs(TRIGGERS, transitions=NEVER)  # STARTING until told otherwise
    proxy_url, proxy = fault_proxy(moto_server.url)  # no faults: it counts what moto receives
    monkeypatch.setenv(
        "AIRFLOW_CONN_MOTO",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing-secret-key",
                "extra": {"endpoint_url": proxy_url, "region_name": "us-east-1"},
            }
        ),
    )
    workloads = []
    for number, run in enumerate(runs, start=1):
        trigger = WaitForJobTrigger(
            "aws",
            hook_kwargs={"conn_id": aws_conn},
            wait_args=["glue", run],
            wait_kwargs={"job_name": name, "poll_interval": POLL_INTERVAL},
        )
        row = Trigger.from_object(trigger)
        workloads.append(
            RunTrigger(  # ti: no default before Airflow 3.3
                id=number, classpath=row.classpath, encrypted_kwargs=row.encrypted_kwargs, ti=None
            )
        )

    runner = TriggerRunner()
    finished: list[int] = []
    for workload in workloads:  # one runner-loop iteration per arrival
        finished += await runner.cleanup_finished_triggers()
        runner.to_create.append(workload)
        await runner.create_triggers()
        await asyncio.sleep(ARRIVAL_GAP)
    assert not finished, "a wait ended before the runs were told to end"
    assert not runner.failed_triggers, runner.failed_triggers

    # Every wait is polling: let the server answer a dozen more ticks, then end the runs.
    seen = _describe_calls(proxy)
    await until(lambda: _describe_calls(proxy) >= seen + TICKS_AFTER_LAST_ARRIVAL, timeout=60)
    await asyncio.to_thread(
        moto_server.set_transition, "glue::job_run", {"progression": "immediate"}
    )
    await asyncio.wait_for(
        asyncio.gather(*(details["task"] for details in runner.triggers.values())), timeout=60
    )
    finished += await runner.cleanup_finished_triggers()
    assert sorted(finished) == [workload.id for workload in workloads]
    assert not runner.failed_triggers, runner.failed_triggers

    # Before Airflow 3.3 the runner's events are (trigger_id, event) pairs.
    pairs = [(e.trigger_id, e.event) if hasattr(e, "trigger_id") else e for e in runner.events]
    payloads = {trigger_id: event.payload for trigger_id, event in pairs}
    assert len(payloads) == TRIGGERS
    failed = [payload for payload in payloads.values() if payload["status"] != "success"]
    assert not failed, failed[0]
    polls = sum(payload["result"]["polls"] for payload in payloads.values())
    calls = _describe_calls(proxy)
    per_poll = calls / polls
    print(
        f"{TRIGGERS} staggered Glue waits: {polls} polls, {calls} describe calls at the server "
        f"({proxy.counts['op:GetJobRuns']} GetJobRuns, {proxy.counts['op:GetJobRun']} GetJobRun)"
        f" = {per_poll:.3f} per poll"
    )
    # One tick per interval for all 20 waits would be about 1/20 of a call per poll.
    assert per_poll <= 0.15, f"{calls} describe calls for {polls} polls ({per_poll:.2f} per poll)"
