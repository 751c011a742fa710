"""``wait_for_*(..., on_status=callback)``: one call per status change, with the JobResult so far,
alone and in the shared schedule, sync or async, and a failing callback never ends the wait."""

from __future__ import annotations

import asyncio
import logging

import pytest

from async_hooks import AsyncAwsHook, AsyncGcpHook, AsyncHttpHook, JobFailedError, JobResult
from async_hooks.errors import HookConfigError
from async_hooks.testing.aws_jobs import launch

QUICK = {"poll_interval": 0.01, "timeout": 60.0}


def _aws(moto_server) -> AsyncAwsHook:
    return AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1")


def _changes(seen: list[JobResult]) -> list[str]:
    return [result.status for result in seen]


def _each_once(statuses: list[str]) -> bool:
    return len(statuses) == len(set(statuses))


async def test_a_lone_wait_reports_each_status_change_once_and_the_end_last(job_server):
    server = job_server()
    job_id = server.create(polls=3)
    seen: list[JobResult] = []
    async with AsyncHttpHook(server.url) as hook:
        result = await hook.wait_for_job(f"/jobs/{job_id}", on_status=seen.append, **QUICK)
    assert _changes(seen) == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert [r.succeeded for r in seen] == [False, False, True]
    assert seen[-1].polls == result.polls and seen[-1].response == result.response
    assert [r.polls for r in seen] == sorted(r.polls for r in seen)
    assert all(r.kind == "http" and r.job_id == f"/jobs/{job_id}" for r in seen)
    assert server.board.jobs[job_id].polls > len(seen)  # RUNNING lasted polls: told once


async def test_a_failed_job_reports_its_failure_before_the_error(job_server):
    server = job_server()
    job_id = server.create(polls=1, outcome="FAILED", reason="disk full")
    seen: list[JobResult] = []
    async with AsyncHttpHook(server.url) as hook:
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job(f"/jobs/{job_id}", on_status=seen.append, **QUICK)
    assert _changes(seen)[-1] == "FAILED" and not seen[-1].succeeded
    failed = caught.value.result
    assert failed is not None and failed.polls == seen[-1].polls
    assert failed.response == seen[-1].response


async def test_an_async_callback_is_awaited_before_the_wait_polls_again(job_server):
    server = job_server()
    job_id = server.create(polls=2)
    seen: list[tuple[str, int]] = []

    async def record(result: JobResult) -> None:
        await asyncio.sleep(0)  # a real suspension: the wait must await the callback
        seen.append((result.status, server.board.jobs[job_id].polls))

    async with AsyncHttpHook(server.url) as hook:
        await hook.wait_for_job(f"/jobs/{job_id}", on_status=record, **QUICK)
    # Each status was recorded before the next poll: the server had seen exactly that poll.
    assert seen == [("PENDING", 1), ("RUNNING", 2), ("SUCCEEDED", 4)]


async def test_a_callback_that_raises_is_logged_and_the_wait_goes_on(job_server, caplog):
    server = job_server()
    job_id = server.create(polls=2)
    calls: list[str] = []

    def broken(result: JobResult) -> None:
        calls.append(result.status)
        raise ValueError("display gone")

    async with AsyncHttpHook(server.url) as hook:
        result = await hook.wait_for_job(f"/jobs/{job_id}", on_status=broken, **QUICK)
    assert result.succeeded
    assert calls == ["PENDING", "RUNNING", "SUCCEEDED"]  # still told after failing
    failures = [r for r in caplog.records if "on_status callback failed" in r.getMessage()]
    assert len(failures) == 3 and failures[0].levelno == logging.ERROR
    assert failures[0].exc_info is not None and "display gone" in str(failures[0].exc_info[1])


async def test_an_async_callback_that_raises_is_logged_too(job_server, caplog):
    server = job_server()
    job_id = server.create(polls=1)

    async def broken(result: JobResult) -> None:
        raise RuntimeError("no terminal")

    async with AsyncHttpHook(server.url) as hook:
        result = await hook.wait_for_job(f"/jobs/{job_id}", on_status=broken, **QUICK)
    assert result.succeeded
    assert any("on_status callback failed" in r.getMessage() for r in caplog.records)


async def test_a_callback_that_is_not_callable_is_refused_before_any_poll(job_server):
    server = job_server()
    job_id = server.create()
    async with AsyncHttpHook(server.url) as hook:
        with pytest.raises(HookConfigError, match="on_status must be a callable"):
            await hook.wait_for_job(f"/jobs/{job_id}", on_status="print", **QUICK)  # type: ignore[arg-type]
    assert server.board.requests == 0


def test_the_sync_facade_passes_the_callback_through(job_server):
    server = job_server()
    job_id = server.create(polls=1)
    seen: list[JobResult] = []
    hook = AsyncHttpHook(server.url)
    try:
        result = hook.sync.wait_for_job(f"/jobs/{job_id}", on_status=seen.append, **QUICK)
    finally:
        hook.sync.close()
    assert result.succeeded and _changes(seen) == ["PENDING", "RUNNING", "SUCCEEDED"]


async def test_coalesced_waits_each_report_their_own_job(moto_server):
    moto_server.set_transition("ecs::task", {"progression": "manual", "times": 1})
    async with _aws(moto_server) as hook:
        tasks = await launch(hook, "ecs", 3, "t")
        seen: dict[str, list[JobResult]] = {task: [] for task in tasks.ids}
        results = await asyncio.gather(
            *(
                hook.wait_for_job(
                    "ecs", task, on_status=seen[task].append, **tasks.identifiers, **QUICK
                )
                for task in tasks.ids
            )
        )
        calls = hook.stats()["operations"]
    # One shared schedule: batch describes, fewer than one per wait and poll.
    assert calls["aws:ecs:describe_tasks"]["calls"] < sum(result.polls for result in results)
    for task, result in zip(tasks.ids, results, strict=True):
        statuses = _changes(seen[task])
        assert all(r.job_id == task for r in seen[task])
        assert _each_once(statuses) and len(statuses) >= 2
        assert statuses[-1] == "STOPPED" and seen[task][-1].succeeded
        assert seen[task][-1].polls == result.polls


async def test_glue_runs_report_each_state_once_in_the_shared_schedule(moto_server):
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 2})
    async with _aws(moto_server) as hook:
        await hook.call("glue", "create_job", Name="etl", Role="r", Command={"Name": "glueetl"})
        run = (await hook.call("glue", "start_job_run", JobName="etl"))["JobRunId"]
        seen: list[JobResult] = []

        async def record(result: JobResult) -> None:
            seen.append(result)

        result = await hook.wait_for_job("glue", run, job_name="etl", on_status=record, **QUICK)
    statuses = _changes(seen)
    assert _each_once(statuses) and statuses[-1] == "SUCCEEDED" == result.status
    assert len(statuses) >= 2  # moto's runs pass through STARTING/RUNNING first


async def test_batch_wait_alone_reports_through_the_same_hook(moto_server):
    moto_server.set_config({"batch": {"use_docker": False}})
    async with _aws(moto_server) as hook:
        (job_id,) = (await launch(hook, "batch", 1, "t")).ids
        seen: list[JobResult] = []
        result = await hook.wait_for_job(
            "batch", job_id, coalesce=False, on_status=seen.append, **QUICK
        )
    assert _each_once(_changes(seen)) and seen[-1].status == "SUCCEEDED" == result.status
    assert seen[-1].response["jobId"] == job_id


async def test_wait_for_s3_key_reports_absent_then_present(moto_server):
    seen: list[str] = []
    async with _aws(moto_server) as hook:
        await hook.call("s3", "create_bucket", Bucket="bucket")

        async def arrive(result: JobResult) -> None:
            seen.append(result.status)
            if result.status == "ABSENT":  # the key arrives once the wait has seen it absent
                await hook.call("s3", "put_object", Bucket="bucket", Key="k", Body=b"x")

        result = await hook.wait_for_s3_key("bucket", "k", on_status=arrive, **QUICK)
    assert seen == ["ABSENT", "PRESENT"] and result.succeeded


async def test_wait_for_object_reports_absent_then_present(gcs_emulator):
    gcs_emulator.create_bucket("data")
    seen: list[str] = []
    async with AsyncGcpHook(project="test-project") as hook:

        async def arrive(result: JobResult) -> None:
            seen.append(result.status)
            if result.status == "ABSENT":
                await hook.upload("data", "in/ready", b"x")

        result = await hook.wait_for_object("data", "in/ready", on_status=arrive, **QUICK)
    assert seen == ["ABSENT", "PRESENT"] and result.succeeded
