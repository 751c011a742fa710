"""A success on the status path keeps its job's bytes and builds ``JobResult.response`` (botocore's
parse) only when it is read: a trigger or a sensor that never reads it never pays for it. Read,
it is the client's own dict; the result behaves as the frozen value it always was."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from async_hooks import AsyncAwsHook, JobFailedError, JobResult
from async_hooks._result import Later
from async_hooks.aws import job_kinds, kinds

QUICK = {"poll_interval": 0.01, "timeout": 60.0}


def _kept(result: JobResult) -> object:
    return object.__getattribute__(result, "_response")


async def _glue_run(moto_server, outcome: str = "SUCCEEDED") -> tuple[JobResult, dict]:
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 1})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        await hook.call("glue", "create_job", Name="etl", Role="r", Command={"Name": "glueetl"})
        run = (await hook.call("glue", "start_job_run", JobName="etl"))["JobRunId"]
        result = await hook.wait_for_job("glue", run, job_name="etl", **QUICK)
        client = await hook.call("glue", "get_job_run", JobName="etl", RunId=run)
    return result, client["JobRun"]


async def test_a_success_is_built_only_when_its_response_is_read(moto_server):
    result, client = await _glue_run(moto_server)
    later = _kept(result)
    assert type(later) is Later  # judged from the brief: nothing built yet
    assert later.data.startswith(b"{") and b'"Id"' in later.data  # the job's own bytes
    assert result.response == client  # botocore's parse, datetimes included
    assert _kept(result) is result.response  # built once, then kept


async def test_a_lazy_result_is_the_value_a_built_one_is(moto_server):
    result, client = await _glue_run(moto_server)
    built = JobResult(
        result.kind,
        result.job_id,
        result.status,
        result.succeeded,
        client,
        result.polls,
        result.elapsed,
    )
    assert type(_kept(result)) is Later
    assert result == built and built == result
    assert repr(result) == repr(built) and "Later" not in repr(result)
    again = pickle.loads(pickle.dumps(result))
    assert again == built and type(_kept(again)) is dict
    assert result.to_dict() == built.to_dict()
    with pytest.raises(TypeError):  # the response is a dict: unhashable, as a dataclass was
        hash(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = "FAILED"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del result.polls  # type: ignore[misc]
    match result:
        case JobResult(kind, job_id, status, succeeded, response, polls, elapsed):
            assert (kind, job_id, status, succeeded) == ("glue", client["Id"], "SUCCEEDED", True)
            assert (response, polls, elapsed) == (client, result.polls, result.elapsed)
        case _:
            pytest.fail("JobResult no longer matches positionally")


def test_a_plain_result_is_kept_as_given():
    result = JobResult("http", "j-1", "DONE", True, {"a": 1}, polls=2, elapsed=0.5)
    assert _kept(result) == {"a": 1} and result.response == {"a": 1}
    assert hash(JobResult("http", "j-1", "DONE", True, None, 2, 0.5)) == hash(
        JobResult("http", "j-1", "DONE", True, None, 2, 0.5)
    )
    assert result != ("http", "j-1", "DONE", True, {"a": 1}, 2, 0.5)


async def test_a_failure_is_built_at_once_for_its_reason(moto_server, monkeypatch):
    # moto's runs succeed: a kind that calls SUCCEEDED a failure state reads one as a failure
    inverted = dataclasses.replace(
        job_kinds()["glue"], name="glue_inverted", success=frozenset(), failure={"SUCCEEDED"}
    )
    monkeypatch.setitem(kinds._REGISTRY, inverted.name, inverted)
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 1})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        await hook.call("glue", "create_job", Name="bad", Role="r", Command={"Name": "glueetl"})
        run = (await hook.call("glue", "start_job_run", JobName="bad"))["JobRunId"]
        with pytest.raises(JobFailedError) as failed:
            await hook.wait_for_job("glue_inverted", run, job_name="bad", **QUICK)
    assert failed.value.result is not None
    assert type(_kept(failed.value.result)) is dict


async def test_on_status_is_told_every_change_with_only_what_it_reads_built(moto_server):
    """An ``on_status`` that reads the status (a status line) builds no job: the first status,
    the ones between and the success reach it as unbuilt bytes, and the result stays so. One
    that reads ``response`` gets the client's own dict."""
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 2})
    told: list[tuple[str, type]] = []
    read: list[dict] = []

    def status_line(job: JobResult) -> None:
        told.append((job.status, type(_kept(job))))

    def reader(job: JobResult) -> None:
        read.append(job.response)

    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        await hook.call(
            "glue",
            "create_job",
            Name="etl",
            Role="r",
            Command={"Name": "glueetl"},
            ExecutionProperty={"MaxConcurrentRuns": 2},
        )
        first = (await hook.call("glue", "start_job_run", JobName="etl"))["JobRunId"]
        second = (await hook.call("glue", "start_job_run", JobName="etl"))["JobRunId"]
        result = await hook.wait_for_job(
            "glue", first, job_name="etl", on_status=status_line, **QUICK
        )
        await hook.wait_for_job("glue", second, job_name="etl", on_status=reader, **QUICK)
    assert [status for status, _ in told][-1] == "SUCCEEDED" and len(told) >= 2, told
    assert {kept for _, kept in told} == {Later}, told
    assert type(_kept(result)) is Later
    assert read and all(type(response) is dict for response in read)
    assert read[-1]["Id"] == second and read[-1]["JobRunState"] == "SUCCEEDED"
