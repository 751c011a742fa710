"""AsyncGcpHook: Cloud Storage against gcp-storage-emulator; operations, BigQuery jobs and
tokens against a scripted local Google API."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import traceback

import aiohttp
import pytest

from async_hooks import (
    AsyncGcpHook,
    HookConfigError,
    HookError,
    HttpError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    RetryPolicy,
)
from async_hooks.gcp._errors import map_token_error
from async_hooks.testing.gcp import make_service_account
from async_hooks.testing.jobserver import until

QUICK = {"poll_interval": 0.01, "jitter": 0.0}
FAST_RETRY = RetryPolicy(initial_backoff=0.001, max_backoff=0.002)
#: A timeout that ends a wait on a job that never finishes: long enough for its first polls to be
#: answered on a busy machine (a wait polls every 0.01 s, a poll takes milliseconds).
NEVER_DONE_TIMEOUT = 2.0


def _logged(caplog, status: str) -> int:
    """How many waits logged a change to ``status`` (each wait logs it when its poll is read)."""
    return sum(r.getMessage().endswith(f" -> {status}") for r in caplog.records)


async def test_storage_round_trip(gcs_emulator):
    gcs_emulator.create_bucket("data")
    async with AsyncGcpHook(project="test-project") as hook:
        resource = await hook.upload(
            "data", "in/a.json", b'{"a": 1}', content_type="application/json", metadata={"k": "v"}
        )
        assert resource["name"] == "in/a.json"
        await hook.upload("data", "in/b.txt", "text")
        await hook.upload("data", "other/c.txt", b"c")
        assert await hook.exists("data", "in/a.json")
        assert await hook.download("data", "in/a.json") == b'{"a": 1}'
        assert sorted(await hook.list_objects("data", prefix="in/")) == ["in/a.json", "in/b.txt"]
        assert len(await hook.list_objects("data")) == 3
        await hook.delete("data", "in/a.json")
        assert not await hook.exists("data", "in/a.json")
        assert hook.stats()["clients_created"] == 1


async def test_missing_objects_are_not_found(gcs_emulator):
    gcs_emulator.create_bucket("data")
    async with AsyncGcpHook() as hook:
        with pytest.raises(NotFoundError) as caught:
            await hook.download("data", "missing")
        assert isinstance(caught.value, HttpError)
        assert caught.value.provider == "gcp" and caught.value.status == 404
        with pytest.raises(NotFoundError):
            await hook.delete("data", "missing")
        assert not await hook.exists("data", "missing")


async def test_wait_for_object(gcs_emulator, caplog):
    caplog.set_level(logging.INFO, logger="async_hooks")
    gcs_emulator.create_bucket("data")
    async with AsyncGcpHook() as hook:

        async def write_later() -> None:
            await until(lambda: _logged(caplog, "ABSENT") == 1)  # a poll found nothing yet
            await hook.upload("data", "_SUCCESS", b"done")

        writer = asyncio.create_task(write_later())
        result = await hook.wait_for_object("data", "_SUCCESS", poll_interval=0.02, timeout=30)
        await writer
        assert result.succeeded and result.polls >= 2
        with pytest.raises(JobTimeoutError):
            await hook.wait_for_object("data", "never", poll_interval=0.02, timeout=0.2)


@pytest.mark.parametrize("size", [1 << 20, 10 << 20])
async def test_large_objects(gcs_emulator, size):
    gcs_emulator.create_bucket("data")
    payload = os.urandom(size)
    async with AsyncGcpHook(timeout=120) as hook:
        await hook.upload("data", "big.bin", payload)
        assert await hook.download("data", "big.bin") == payload


@pytest.mark.slow
async def test_500_concurrent_downloads_on_one_session(gcs_emulator):
    gcs_emulator.create_bucket("data")
    async with AsyncGcpHook() as hook:
        for n in range(10):
            await hook.upload("data", f"o{n}", f"object {n}".encode())
        bodies = await asyncio.gather(*(hook.download("data", f"o{n % 10}") for n in range(500)))
        stats = hook.stats()
    assert bodies == [f"object {n % 10}".encode() for n in range(500)]
    assert stats["clients_created"] == 1
    print(f"500 downloads from the one-request-at-a-time emulator: retries {stats['retries']}")


def test_the_sync_facade(gcs_emulator):
    gcs_emulator.create_bucket("data")
    hook = AsyncGcpHook()
    hook.sync.upload("data", "x", b"1")
    assert hook.sync.download("data", "x") == b"1"
    assert hook.sync.wait_for_object("data", "x", poll_interval=0.01).succeeded
    hook.sync.close()


def _operation(done: bool, **fields) -> dict:
    return {"name": "projects/p/locations/l/operations/op-1", "done": done, **fields}


async def test_operation_success_by_name_and_by_url(fake_google_api):
    url, api = fake_google_api
    name = "projects/p/locations/l/operations/op-1"
    api.operations[name] = [
        _operation(False),
        _operation(False),
        _operation(True, response={"cluster": "c"}),
    ]
    account = make_service_account(f"{url}/token")
    async with AsyncGcpHook(service_file=account) as hook:
        result = await hook.wait_for_operation(name, api_root=f"{url}/v1", **QUICK)
        assert result.status == "DONE" and result.polls == 3
        assert result.response["response"] == {"cluster": "c"}
        again = await hook.wait_for_operation(f"{url}/v1/{name}", **QUICK)
        assert again.succeeded
    assert api.refreshes == 1


async def test_operation_error_carries_the_message(fake_google_api):
    url, api = fake_google_api
    name = "projects/p/operations/op-2"
    api.operations[name] = [
        _operation(False),
        _operation(True, error={"code": 9, "message": "quota exceeded in region"}),
    ]
    async with AsyncGcpHook(service_file=make_service_account(f"{url}/token")) as hook:
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_operation(name, api_root=f"{url}/v1", **QUICK)
    assert caught.value.reason == "quota exceeded in region (code 9)"


async def test_operation_timeout_and_cancellation(fake_google_api, caplog):
    caplog.set_level(logging.INFO, logger="async_hooks")
    url, api = fake_google_api
    name = "projects/p/operations/slow"
    api.operations[name] = [_operation(False)]  # never done: every poll answers RUNNING
    async with AsyncGcpHook(service_file=make_service_account(f"{url}/token")) as hook:
        with pytest.raises(JobTimeoutError) as caught:
            await hook.wait_for_operation(
                name, api_root=f"{url}/v1", timeout=NEVER_DONE_TIMEOUT, **QUICK
            )
        assert caught.value.last_status == "RUNNING"
        assert caught.value.result is not None
        assert caught.value.result.elapsed >= NEVER_DONE_TIMEOUT
        task = asyncio.create_task(
            hook.wait_for_operation(name, api_root=f"{url}/v1", poll_interval=3600)
        )
        # Its first poll answered: the wait now sleeps for an hour, and is cancelled there.
        await until(lambda: _logged(caplog, "RUNNING") == 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)  # at once, not at the next poll an hour away


async def test_operation_name_without_api_root_is_a_config_error():
    hook = AsyncGcpHook(project="p")
    with pytest.raises(HookConfigError, match="api_root"):
        await hook.wait_for_operation("projects/p/operations/x")


def _job(state: str, **status) -> dict:
    return {"jobReference": {"jobId": "job-1"}, "status": {"state": state, **status}}


async def test_bigquery_job_done(fake_google_api):
    url, api = fake_google_api
    api.jobs["job-1"] = [_job("PENDING"), _job("RUNNING"), _job("DONE")]
    account = make_service_account(f"{url}/token")
    async with AsyncGcpHook(service_file=account, api_root=url) as hook:
        result = await hook.wait_for_job("bigquery", "job-1", location="EU", **QUICK)
    assert result.status == "DONE" and result.polls == 3
    assert api.requests["/bigquery/v2/projects/test-project/jobs/job-1"] == 3


async def test_bigquery_done_with_error_result_fails(fake_google_api):
    url, api = fake_google_api
    api.jobs["job-1"] = [
        _job("RUNNING"),
        _job("DONE", errorResult={"reason": "invalidQuery", "message": "Syntax error at [1:8]"}),
    ]
    async with AsyncGcpHook(
        service_file=make_service_account(f"{url}/token"), api_root=url
    ) as hook:
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("bigquery", "job-1", **QUICK)
    assert caught.value.reason == "Syntax error at [1:8]"


async def test_bigquery_503_blips_are_retried(fake_google_api):
    url, api = fake_google_api
    api.jobs["job-1"] = [_job("RUNNING"), _job("DONE")]
    api.failures = [503, 503]
    async with AsyncGcpHook(
        service_file=make_service_account(f"{url}/token"), api_root=url, retry=FAST_RETRY
    ) as hook:
        result = await hook.wait_for_job("bigquery", "job-1", **QUICK)
        assert hook.stats()["retries"] == 2
    assert result.succeeded


async def test_bigquery_arguments_are_checked():
    hook = AsyncGcpHook()
    with pytest.raises(HookConfigError, match="bigquery"):
        await hook.wait_for_job("no-such-kind", "x")
    with pytest.raises(HookConfigError, match="project"):
        await hook.wait_for_job("bigquery", "x")


async def test_one_token_refresh_for_50_callers_and_a_cancelled_one_fails_nobody(fake_google_api):
    url, api = fake_google_api
    api.jobs["job-1"] = [_job("DONE")]
    api.hold_tokens()  # the grant waits for the test: the refresh is in flight until released
    async with AsyncGcpHook(
        service_file=make_service_account(f"{url}/token"), api_root=url
    ) as hook:
        tasks = [
            asyncio.create_task(hook.wait_for_job("bigquery", "job-1", **QUICK)) for _ in range(50)
        ]
        await until(lambda: api.token_requests == 1)  # the refresh reached the server
        tasks[0].cancel()
        await asyncio.wait([tasks[0]])  # gone while the refresh is still held
        assert api.refreshes == 0 and api.token_requests == 1
        api.release_tokens()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert all(r.succeeded for r in results[1:])
    assert api.refreshes == 1 and api.token_requests == 1


async def test_planted_key_and_token_appear_nowhere(fake_google_api, caplog, monkeypatch):
    url, api = fake_google_api
    account = make_service_account(f"{url}/token")
    key_line = account["private_key"].splitlines()[5]
    monkeypatch.setenv(
        "AIRFLOW_CONN_GCP_PLANTED",
        json.dumps(
            {
                "conn_type": "google_cloud_platform",
                "extra": {"keyfile_dict": json.dumps(account), "project": "planted-project"},
            }
        ),
    )
    caplog.set_level(logging.DEBUG)
    api.jobs["bad"] = [_job("DONE", errorResult={"message": "boom"})]
    api.failures = [500]
    hook = AsyncGcpHook(conn_id="gcp_planted", api_root=url, retry=FAST_RETRY)
    assert hook.project == "planted-project"
    async with hook:
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("bigquery", "bad", **QUICK)
        with pytest.raises(NotFoundError) as missing:
            await hook.wait_for_job("bigquery", "nope", **QUICK)
    issued = sorted(api.tokens)
    texts = [repr(hook), caplog.text]
    for error in (caught.value, missing.value):
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    for text in texts:
        assert key_line not in text
        assert account["private_key_id"] not in text
        for token in issued:
            assert token not in text


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"service_file": "/no/such/file.json"}, "cannot be read"),
        ({"service_file": "{not json"}, "not valid JSON"),
        ({"service_file": '{"no": "type"}'}, "type"),
        ({"api_root": "ftp://x"}, "api_root"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_bad_settings_are_config_errors(kwargs, problem):
    with pytest.raises(HookConfigError, match=problem):
        AsyncGcpHook(**kwargs)


def _aiohttp_error_types() -> list[type[BaseException]]:
    """Every error gcloud-aio can let through: aiohttp's (its ``raise_for_status`` answers
    included) and the time-outs asyncio raises."""
    found: list[type[BaseException]] = [TimeoutError, asyncio.TimeoutError]
    for name in aiohttp.__all__:
        value = getattr(aiohttp, name)
        if inspect.isclass(value) and issubclass(value, aiohttp.ClientError):
            found.append(value)
    return found


@pytest.mark.parametrize("exc_type", _aiohttp_error_types(), ids=lambda t: t.__name__)
@pytest.mark.parametrize("service", ["storage", "bigquery", "operations"])
def test_no_upstream_error_goes_unmapped(exc_type, service):
    """``_map_error`` and the token's mapping turn every upstream error into a HookError of
    the gcp provider: a new aiohttp error class fails here until it is mapped."""
    error = exc_type.__new__(exc_type)  # mapping is by type; constructors differ
    hook = AsyncGcpHook()
    for mapped in (
        hook._map_error(error, service, "get"),
        map_token_error(error, redact=hook._redact),
    ):
        assert mapped is not error
        assert isinstance(mapped, HookError)
        assert getattr(mapped, "provider", "gcp") == "gcp"
