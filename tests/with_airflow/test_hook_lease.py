"""Triggers on one loop with the same settings share one hook, which closes with the last of them:
fewer objects for the runner's garbage collections to scan, and no trigger closes it under the
others' waits."""

from __future__ import annotations

import asyncio

import pytest

from async_hooks import HookConfigError
from async_hooks._core.loopstate import current_state
from async_hooks.airflow import WaitForJobTrigger
from async_hooks.airflow._hook_lease import _LEASES, hook_lease, settings_key
from async_hooks.http import AsyncHttpHook

from ._support import only_event, rebuilt

QUICK = {"poll_interval": 0.05, "jitter": 0.0}


def leases() -> dict:
    return current_state().memo(_LEASES, dict)


def trigger(url: str, job: str, **hook_kwargs: object) -> WaitForJobTrigger:
    return rebuilt(
        WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": url, **hook_kwargs},
            wait_args=[f"/jobs/{job}"],
            wait_kwargs=QUICK,
        )
    )


async def polled(server, *jobs: str, beyond: int = 0) -> None:
    """Until the server has answered more than ``beyond`` polls of each job."""
    while any(server.board.jobs[job].polls <= beyond for job in jobs):
        await asyncio.sleep(0.01)


async def test_one_hook_for_the_same_settings_closed_with_its_last_trigger(job_server):
    server = job_server()
    short, long_a, long_b, other = (server.create(polls=n) for n in (3, 10_000, 10_000, 10_000))
    shared = [trigger(server.url, job) for job in (short, long_a, long_b)]
    apart = trigger(server.url, other, headers={"X-Team": "etl"})
    tasks = [asyncio.create_task(only_event(t)) for t in (*shared, apart)]
    await polled(server, long_a, long_b, other)

    by_key = leases()
    assert len(by_key) == 2  # one hook for the three, one for the other settings
    lease = by_key[settings_key("http", shared[0].hook_kwargs)]
    assert "users=3" in repr(lease)

    assert (await tasks[0])["status"] == "success"  # ended beside the others
    tasks[1].cancel()  # and one cancelled, as a trigger moved to another triggerer
    await asyncio.gather(tasks[1], return_exceptions=True)
    assert "users=1" in repr(lease)
    await polled(server, long_b, beyond=server.board.jobs[long_b].polls)  # its wait goes on

    server.board.jobs[long_b].polls_left = 0
    server.board.jobs[other].polls_left = 0
    assert [(await t)["status"] for t in tasks[2:]] == ["success", "success"]
    assert leases() == {}
    assert len(current_state().clients) == 0  # both hooks closed, so were their sessions


async def test_a_trigger_starting_after_the_last_one_ended_gets_a_new_hook(job_server):
    server = job_server()
    first, second = server.create(polls=2), server.create(polls=2)
    assert (await only_event(trigger(server.url, first)))["status"] == "success"
    assert leases() == {}
    assert (await only_event(trigger(server.url, second)))["status"] == "success"
    assert leases() == {}


async def test_a_new_answer_for_the_connection_gets_a_new_hook_and_the_old_one_still_closes():
    built: list[AsyncHttpHook] = []

    def build() -> AsyncHttpHook:
        built.append(AsyncHttpHook(base_url="http://127.0.0.1:1"))
        return built[-1]

    key = settings_key("http", {"conn_id": "api"})
    before, after = object(), object()  # Airflow's answers a minute apart
    old = hook_lease(key, before, build)
    async with old as old_hook:
        assert hook_lease(key, before, build) is old
        new = hook_lease(key, after, build)
        assert new is not old and len(built) == 2
        async with new as new_hook:
            assert new_hook is not old_hook
        assert leases() == {}  # the new one closed with its trigger
    assert old_hook._closed_on  # and the old one with its own
    assert leases() == {}


async def test_a_hook_that_cannot_be_built_leaves_no_lease():
    def build() -> AsyncHttpHook:
        return AsyncHttpHook(base_url="not a url")

    key = settings_key("http", {"base_url": "not a url"})
    with pytest.raises(HookConfigError, match="base_url"):
        hook_lease(key, None, build)
    assert leases() == {}


def test_settings_that_make_no_key_are_not_shared():
    assert settings_key("http", {"base_url": "http://a"}) == settings_key(
        "http", {"base_url": "http://a"}
    )
    assert settings_key("http", {"a": 1, "b": 2}) == settings_key("http", {"b": 2, "a": 1})
    assert settings_key("aws", {"a": 1}) != settings_key("http", {"a": 1})
    assert settings_key("http", {"a": object()}) is None
