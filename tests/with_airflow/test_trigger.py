"""``WaitForJobTrigger`` on real servers: moto for AWS, the job server for a REST job API."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import pytest

from async_hooks import HookConfigError, RetryPolicy
from async_hooks._core.loopstate import current_state
from async_hooks.airflow import WaitForJobTrigger
from async_hooks.testing.aws_jobs import launch_ecs, prepare

from ._support import only_event, rebuilt

QUICK = {"poll_interval": 0.05, "jitter": 0.0}


def polls_of(server, job: str) -> int:
    return int(server.board.jobs[job].polls)


EVERY_AWS_SETTING = {
    "conn_id": "moto",
    "region_name": "eu-central-1",
    "endpoint_url": "http://127.0.0.1:4566",
    "profile_name": "etl",
    "role_arn": "arn:aws:iam::123456789012:role/etl",
    "config_kwargs": {"connect_timeout": 3, "read_timeout": 7, "max_pool_connections": 64},
    "retry": RetryPolicy(max_attempts=7, initial_backoff=0.5, max_backoff=9.0, budget=None),
    "max_concurrency": 40,
    "rate_limit": 12.5,
}


@pytest.mark.parametrize(
    ("provider", "hook_kwargs", "wait_args", "wait_kwargs"),
    [
        (
            "aws",
            EVERY_AWS_SETTING,
            ["glue", "jr_1"],
            {"job_name": "etl", "poll_interval": 15, "timeout": 3600, "backoff": 1.5},
        ),
        (
            "gcp",
            {"project": "p", "api_root": "http://127.0.0.1:1", "timeout": 20.0, "scopes": ["a"]},
            ["bigquery", "job_1"],
            {"location": "EU", "poll_interval": 2.0, "timeout": None},
        ),
        (
            "http",
            {"base_url": "http://127.0.0.1:1/a", "headers": {"X-Team": "etl"}, "auth": ("u", "p")},
            ["/jobs/1"],
            {"status_key": "state.name", "success": ["DONE"], "failure": ["ERR"], "timeout": 60},
        ),
    ],
)
def test_round_trip_through_airflow_keeps_every_setting(
    provider, hook_kwargs, wait_args, wait_kwargs
):
    trigger = WaitForJobTrigger(
        provider, hook_kwargs=hook_kwargs, wait_args=wait_args, wait_kwargs=wait_kwargs, polls=3
    )
    again = rebuilt(trigger)
    assert type(again) is WaitForJobTrigger
    assert again.serialize() == trigger.serialize()
    assert trigger.serialize()[0] == "async_hooks.airflow.WaitForJobTrigger"
    assert again.deadline == trigger.deadline
    assert again.polls == 3
    assert set(again.hook_kwargs) == set(hook_kwargs)  # nothing dropped on the way
    assert again.wait_args == list(wait_args)
    assert again.wait_kwargs == wait_kwargs


def test_the_rebuilt_hook_has_every_aws_setting(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MOTO", '{"conn_type": "aws"}')
    again = rebuilt(
        WaitForJobTrigger(
            "aws",
            hook_kwargs=EVERY_AWS_SETTING,
            wait_args=["glue", "jr_1"],
            wait_kwargs={"job_name": "etl"},
        )
    )
    from async_hooks.airflow._settings import decode_hook_kwargs

    hook = again.hook_class(**decode_hook_kwargs(again.hook_kwargs))
    assert (hook.region_name, hook.endpoint_url) == ("eu-central-1", "http://127.0.0.1:4566")
    assert hook.retry_policy == EVERY_AWS_SETTING["retry"]
    assert (hook.max_concurrency, hook.rate_limit) == (40, 12.5)
    assert hook.config_kwargs["read_timeout"] == 7
    assert hook.role_arn == EVERY_AWS_SETTING["role_arn"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"provider": "azure"}, "unknown provider 'azure'"),
        ({"hook_kwargs": {"regoin_name": "x"}}, "no setting 'regoin_name'"),
        ({"hook_kwargs": {"config_kwargs": {"x": object()}}}, r"config_kwargs'\]\['x'\] is a"),
        ({"hook_kwargs": {"rate_limit": float("nan")}}, "JSON cannot carry"),
        ({"hook_kwargs": {"retry": {"max_attempts": 0}}}, "max_attempts"),
        ({"wait_kwargs": {"when": time}}, r"wait_kwargs\['when'\]"),
        ({"wait_args": "glue"}, "wait_args must be a list"),
        ({"polls": -1}, "polls"),
        ({"wait_args": ["glue"]}, "missing a required argument: 'job_id'"),
        ({"provider": "http", "wait_args": ["/j"], "wait_kwargs": {"statuskey": "s"}}, "statuskey"),
        ({"provider": "gcp", "wait_args": ["bigquery", "q", "EU"]}, "too many positional"),
    ],
)
def test_what_cannot_travel_is_refused_in_the_worker_with_its_name(kwargs, message):
    arguments = {"provider": "aws", "wait_args": ["glue", "jr"], **kwargs}
    with pytest.raises(HookConfigError, match=message):
        WaitForJobTrigger(arguments.pop("provider"), **arguments)


def test_repr_shows_the_wait_and_never_a_secret():
    trigger = WaitForJobTrigger(
        "aws",
        hook_kwargs={"aws_access_key_id": "AKID", "aws_secret_access_key": "s3cr3t-k3y"},
        wait_args=["glue", "jr_9"],
        wait_kwargs={"job_name": "etl"},
    )
    shown = repr(trigger)
    assert "glue jr_9" in shown
    assert "s3cr3t-k3y" not in shown


async def test_success_on_moto_through_an_airflow_connection(aws_conn, glue_runs):
    name, (run,) = await glue_runs(1, transitions=2)
    trigger = rebuilt(
        WaitForJobTrigger(
            "aws",
            hook_kwargs={"conn_id": aws_conn},
            wait_args=["glue", run],
            wait_kwargs={"job_name": name, **QUICK},
            include_response=True,
        )
    )
    payload = await only_event(trigger)
    assert payload["status"] == "success"
    assert payload["reason"] is None
    result = payload["result"]
    assert (result["kind"], result["job_id"], result["status"]) == ("glue", run, "SUCCEEDED")
    assert result["succeeded"] is True
    assert result["polls"] >= 3  # STARTING, RUNNING (moto: two describes each), SUCCEEDED
    assert result["response"]["Id"] == run
    assert isinstance(result["response"]["StartedOn"], str)  # a datetime, made JSON
    clients = current_state().clients
    assert len(clients) == clients.lingering  # the hook let go: its client only lingers


async def test_a_failed_job_gives_the_provider_reason(job_server):
    server = job_server()
    job = server.create(polls=2, outcome="FAILED", reason="disk full on node 7")
    trigger = rebuilt(
        WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": server.url},
            wait_args=[f"/jobs/{job}"],
            wait_kwargs=QUICK,
        )
    )
    payload = await only_event(trigger)
    assert payload["status"] == "failed"
    assert payload["reason"] == "disk full on node 7"
    assert payload["result"]["status"] == "FAILED"
    assert payload["result"]["succeeded"] is False


async def test_a_failure_that_echoes_the_token_shows_it_nowhere_in_the_event(threaded_server):
    """Airflow stores the event and logs it: the reason and the last answer are masked."""
    from aiohttp import web

    token = "pl4nted-bearer-T0KEN-in-the-event"

    async def job(request: web.Request) -> web.Response:
        echoed = request.headers["Authorization"]
        return web.json_response(
            {"status": "FAILED", "reason": f"denied for {echoed}", "detail": {"seen": echoed}}
        )

    app = web.Application()
    app.router.add_get("/jobs/1", job)
    server = threaded_server(app)
    trigger = rebuilt(
        WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": server.url, "auth": token},
            wait_args=["/jobs/1"],
            wait_kwargs=QUICK,
            include_response=True,
        )
    )
    payload = await only_event(trigger)
    assert payload["status"] == "failed"
    assert payload["reason"] == "denied for Bearer ***"
    assert payload["result"]["response"]["detail"] == {"seen": "Bearer ***"}
    assert token not in json.dumps(payload)


async def test_a_missing_job_ends_the_wait_as_failed_with_the_error(aws_conn, glue_runs):
    name, _ = await glue_runs(1)
    trigger = WaitForJobTrigger(
        "aws",
        hook_kwargs={"conn_id": aws_conn},
        wait_args=["glue", "jr_missing"],
        wait_kwargs={"job_name": name, **QUICK},
    )
    payload = await only_event(trigger)
    assert payload["status"] == "failed"
    assert payload["reason"].startswith("AwsNotFoundError: ")
    assert "EntityNotFoundException: Job run jr_missing not found" in payload["reason"]
    assert payload["result"]["polls"] == 0
    assert "testing-secret-key" not in str(payload)


async def test_timeout_yields_a_timeout_event(job_server):
    server = job_server()
    job = server.create(polls=10_000)
    trigger = WaitForJobTrigger(
        "http",
        hook_kwargs={"base_url": server.url},
        wait_args=[f"/jobs/{job}"],
        # long enough for the first polls to be answered on a busy machine (every 0.05 s)
        wait_kwargs={**QUICK, "timeout": 2.0},
    )
    payload = await only_event(trigger)
    assert payload["status"] == "timeout"
    assert "RUNNING" in payload["reason"]
    assert "timeout 2s" in payload["reason"]
    assert payload["result"]["polls"] >= 2


async def test_cancelling_the_trigger_stops_the_wait_at_once(job_server):
    server = job_server()
    job = server.create(polls=10_000)
    trigger = WaitForJobTrigger(
        "http", hook_kwargs={"base_url": server.url}, wait_args=[f"/jobs/{job}"], wait_kwargs=QUICK
    )
    task = asyncio.create_task(only_event(trigger))
    while polls_of(server, job) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    polls = polls_of(server, job)
    await asyncio.sleep(0.3)  # six poll intervals: a wait still running would poll again
    assert polls_of(server, job) == polls
    assert len(current_state().clients) == 0


async def test_a_recreated_trigger_keeps_the_deadline(job_server):
    server = job_server()
    job = server.create(polls=10_000)
    settings = {"base_url": server.url}
    first = WaitForJobTrigger(
        "http",
        hook_kwargs=settings,
        wait_args=[f"/jobs/{job}"],
        wait_kwargs={**QUICK, "timeout": 3600},
        started_at=time.time() - 3599.7,  # the first triggerer waited almost an hour, then died
    )
    again = rebuilt(first)
    assert again.deadline == first.deadline
    payload = await only_event(again)
    assert payload["status"] == "timeout"
    assert payload["result"]["elapsed"] >= 3599.7
    assert polls_of(server, job) < 30  # ~0.3 s of polls at 0.05 s, not another hour


async def test_a_deadline_that_passed_while_no_triggerer_ran_ends_without_polling(job_server):
    server = job_server()
    job = server.create(polls=10_000)
    trigger = rebuilt(
        WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": server.url},
            wait_args=[f"/jobs/{job}"],
            wait_kwargs={**QUICK, "timeout": 60},
            started_at=time.time() - 61,
            polls=12,
        )
    )
    payload = await only_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["result"]["polls"] == 12
    assert polls_of(server, job) == 0


def test_a_resumed_wait_continues_its_back_off():
    from async_hooks.airflow._pace import resumed_interval

    timing = {"poll_interval": 2.0, "backoff": 2.0, "max_poll_interval": 60.0}
    assert resumed_interval(timing, 4, 0.0) == 32  # the polls it was deferred with
    assert resumed_interval(timing, 10, 0.0) == 60
    # A re-created trigger that knows no polls resumes from the time since the wait began:
    # polls at 2, 4, 8, 16 s of interval have taken 30 s, so the fifth is 32 s away.
    assert resumed_interval(timing, 0, 31.0) == 32
    assert resumed_interval(timing, 0, 1.0) is None  # not resumed: its first poll is due
    assert resumed_interval({"poll_interval": 5.0}, 0, 500.0) is None  # no back-off


async def test_500_triggers_on_one_loop_share_one_client_and_coalesce(
    aws_conn, moto_server, fault_proxy, monkeypatch
):
    prepare(moto_server, "ecs")
    proxy_url, proxy = fault_proxy(moto_server.url)  # counts the calls moto receives
    monkeypatch.setenv(
        "AIRFLOW_CONN_MOTO",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": proxy_url}}),
    )
    from async_hooks.aws import AsyncAwsHook

    async with AsyncAwsHook(conn_id=aws_conn) as setup:
        sets = await launch_ecs(setup, 500, "t", per_cluster=100)
    triggers = [
        rebuilt(
            WaitForJobTrigger(
                "aws",
                hook_kwargs={"conn_id": aws_conn},
                wait_args=["ecs", task],
                # 0.5 s: a tick's window (a tenth) holds 500 waits in step on a busy machine
                wait_kwargs={**jobs.identifiers, "poll_interval": 0.5},
            )
        )
        for jobs in sets
        for task in jobs.ids
    ]
    assert len(triggers) == 500
    state = current_state()
    seen_clients, seen_throttles = set(), set()
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            # client keys start with the provider; the cache also memoises task definitions
            seen_clients.update(key for key in state.clients._entries if key[:2] == ("aws", "ecs"))
            seen_throttles.update(key for key in state.throttles if key[1].startswith("ecs/"))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    payloads = await asyncio.gather(*(only_event(trigger) for trigger in triggers))
    done.set()
    await watcher
    failed = [p for p in payloads if p["status"] != "success"]
    assert not failed, failed[0]
    polls = sum(p["result"]["polls"] for p in payloads)
    describe_calls = proxy.counts["op:DescribeTasks"]
    assert len(seen_clients) == 1, seen_clients  # one ECS client for all 500 triggers
    assert len(seen_throttles) == 1, seen_throttles  # and one ECS throttle
    assert polls >= 1000
    assert describe_calls <= polls / 20  # per tick: one call per cluster of 100 tasks
    print(f"500 triggers: {polls} polls, {describe_calls} DescribeTasks calls, 1 client")


@pytest.mark.parametrize(
    "started_at",
    [
        1_800_000_000,
        "2027-01-15T08:00:00+00:00",
        "2027-01-15T10:00:00+02:00",
        "2027-01-15T08:00:00",  # no offset: UTC, as Airflow's times are
        dt.datetime(2027, 1, 15, 8, tzinfo=dt.timezone.utc),
    ],
)
def test_started_at_is_epoch_seconds_whatever_form_it_came_in(started_at):
    trigger = WaitForJobTrigger(
        "http",
        hook_kwargs={"base_url": "http://127.0.0.1:1"},
        wait_args=["/jobs/1"],
        wait_kwargs={"timeout": 60},
        started_at=started_at,
    )
    assert trigger.serialize()[1]["started_at"] == 1_800_000_000.0  # 2027-01-15 08:00 UTC
    assert trigger.deadline == 1_800_000_060.0


@pytest.mark.parametrize("started_at", ["yesterday", float("nan"), True, [1]])
def test_a_bad_started_at_is_refused(started_at):
    with pytest.raises(HookConfigError, match="started_at"):
        WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": "http://127.0.0.1:1"},
            wait_args=["/jobs/1"],
            started_at=started_at,
        )


async def test_a_bigquery_job_through_a_gcp_connection_in_the_secrets_backend(
    fake_google_api, secrets_backend
):
    """The gcp provider end to end: Airflow's google_cloud_platform connection (a key in the
    secrets backend), a token from the fake token endpoint, BigQuery's own error message."""
    from async_hooks.testing.gcp import make_service_account

    url, api = fake_google_api
    account = make_service_account(f"{url}/token")
    secrets_backend(
        {"gcp_etl": {"conn_type": "google_cloud_platform", "extra": {"keyfile_dict": account}}}
    )
    running = {"jobReference": {"jobId": "q1"}, "status": {"state": "RUNNING"}}
    failed = {
        "jobReference": {"jobId": "q1"},
        "status": {"state": "DONE", "errorResult": {"message": "Syntax error at [1:8]"}},
    }
    api.jobs["q1"] = [running, failed]
    trigger = rebuilt(
        WaitForJobTrigger(
            "gcp",
            hook_kwargs={"conn_id": "gcp_etl", "api_root": url},
            wait_args=["bigquery", "q1"],
            wait_kwargs={"location": "EU", **QUICK},
        )
    )
    payload = await only_event(trigger)
    assert payload["status"] == "failed"
    assert payload["reason"] == "Syntax error at [1:8]"
    assert payload["result"]["polls"] == 2
    assert account["private_key"] not in repr(trigger) + str(payload)
