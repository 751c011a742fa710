"""``AsyncAwsHook.wait_for_job`` returns its wait itself, not a coroutine of its own: a sleeping
wait holds no frame of the call (its eleven arguments), and the coalesced waits of a kind share
one plan. It must still be everything a coroutine function's call is to its callers: awaited,
a task, ``asyncio.run``'s argument, made outside any loop, submitted to ``AsyncExecutor``."""

from __future__ import annotations

import asyncio
import gc
import inspect
import sys
import warnings

import pytest

from async_hooks import AsyncAwsHook, AsyncExecutor, HookClosedError, HookConfigError
from async_hooks.testing.aws_jobs import launch

QUICK = {"poll_interval": 0.01, "jitter": 0.0, "timeout": 60}


def _hook(moto_server) -> AsyncAwsHook:
    return AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1")


async def _batch_jobs(moto_server, count: int, tag: str) -> list[str]:
    moto_server.set_config({"batch": {"use_docker": False}})
    async with _hook(moto_server) as hook:
        return list((await launch(hook, "batch", count, tag)).ids)


async def test_coalesced_waits_share_one_plan_and_hold_no_frame(moto_server):
    ids = await _batch_jobs(moto_server, 3, "share")
    async with _hook(moto_server) as hook:
        waits = [hook.wait_for_job("batch", job_id, **QUICK) for job_id in ids]
        assert not any(inspect.iscoroutine(wait) for wait in waits)  # no frame of the call
        assert all(asyncio.iscoroutine(wait) for wait in waits)  # a task may run it
        plans = {id(wait.plan) for wait in waits}  # type: ignore[attr-defined]
        assert len(plans) == 1
        assert [wait.job_id for wait in waits] == ids  # type: ignore[attr-defined]
        alone = hook.wait_for_job("batch", ids[0], coalesce=False, **QUICK)
        results = await asyncio.gather(*waits, asyncio.create_task(alone))
    assert [result.job_id for result in results] == [*ids, ids[0]]
    assert all(result.succeeded for result in results)
    assert [result.response["jobId"] for result in results] == [*ids, ids[0]]


def test_a_wait_made_outside_any_loop_is_awaited_in_one(moto_server):
    (job_id,) = asyncio.run(_batch_jobs(moto_server, 1, "outside"))
    hook = _hook(moto_server)
    wait = hook.wait_for_job("batch", job_id, **QUICK)  # no running loop here

    async def main() -> str:
        async with hook:
            return (await wait).status

    assert asyncio.run(main()) == "SUCCEEDED"


def test_bad_arguments_raise_when_it_is_called():
    hook = AsyncAwsHook(region_name="us-east-1")
    with pytest.raises(HookConfigError, match="no-such-kind"):
        hook.wait_for_job("no-such-kind", "j-1")
    with pytest.raises(HookConfigError, match="poll_interval"):
        hook.wait_for_job("batch", "j-1", poll_interval=-1)
    with pytest.raises(HookConfigError, match="job_name"):
        hook.wait_for_job("glue", "jr-1")  # Glue runs need their job's name


async def test_a_closed_hook_refuses_the_wait_when_it_is_awaited(moto_server):
    (job_id,) = await _batch_jobs(moto_server, 1, "closed")
    hook = _hook(moto_server)
    await hook.close()
    wait = hook.wait_for_job("batch", job_id, **QUICK)
    with pytest.raises(HookClosedError):
        await wait


def test_the_executor_runs_it_on_the_shared_loop(moto_server):
    (job_id,) = asyncio.run(_batch_jobs(moto_server, 1, "executor"))
    hook = _hook(moto_server)
    executor = AsyncExecutor(max_workers=2)
    try:
        result = executor.submit(hook.wait_for_job, "batch", job_id, **QUICK).result(timeout=120)
    finally:
        executor.shutdown()
        hook.sync.close()
    assert result.succeeded and result.job_id == job_id
    if sys.version_info >= (3, 12):  # inspect.markcoroutinefunction
        assert inspect.iscoroutinefunction(hook.wait_for_job)
        assert inspect.iscoroutinefunction(AsyncAwsHook.wait_for_job)


def test_a_wait_never_awaited_says_so_as_a_coroutine_does():
    """``hook.wait_for_job(...)`` without ``await`` watches nothing: Python warns of a coroutine
    never awaited, and so does the wait; one closed, or thrown into, before it started does not."""
    hook = AsyncAwsHook(region_name="us-east-1")
    forgotten = [hook.wait_for_job("batch", "job-forgotten", **QUICK)]
    with pytest.warns(RuntimeWarning, match="batch job 'job-forgotten' was never awaited"):
        _drop(forgotten)
    closed = hook.wait_for_job("batch", "job-closed", **QUICK)
    closed.close()
    thrown = hook.wait_for_job("batch", "job-thrown", **QUICK)
    with pytest.raises(KeyError):
        thrown.throw(KeyError("stop"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _drop([closed, thrown])


def _drop(waits: list[object]) -> None:
    waits.clear()
    gc.collect()
