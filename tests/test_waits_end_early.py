"""Waits that cannot succeed end at once; waits that can, do: a batch operation the server lacks
gives way to single polls, one that fails with a named error never does, a host that does not
resolve is a configuration error, and a refused Google token grant is one request per attempt,
with nothing left running after close."""

from __future__ import annotations

import asyncio
import socket
import textwrap

import pytest
from conftest import run_dev_mode
from test_coalesce import AthenaBoard, _athena
from test_coalesce import _hook as _aws

from async_hooks import (
    AsyncGcpHook,
    AsyncHttpHook,
    HookConfigError,
    PermissionDeniedError,
    RetryPolicy,
    TransientError,
)
from async_hooks.testing.gcp import make_service_account

QUICK = {"poll_interval": 0.01, "jitter": 0.0, "timeout": 60}
NO_RETRY = RetryPolicy.none()


async def test_athena_waits_coalesce_on_moto_which_lacks_the_batch_operation(moto_server):
    """moto answers BatchGetQueryExecution with a bare HTML 500: the schedule describes each
    query alone from then on, and the waits succeed."""
    moto_server.set_transition("athena::execution", {"progression": "manual", "times": 1})
    async with _aws(
        moto_server.url, retry=RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
    ) as hook:
        queries = [
            await hook.call(
                "athena",
                "start_query_execution",
                QueryString="select 1",
                ResultConfiguration={"OutputLocation": "s3://results/"},
            )
            for _ in range(3)
        ]
        results = await asyncio.gather(
            *(hook.wait_for_job("athena", q["QueryExecutionId"], **QUICK) for q in queries)
        )
    assert all(r.status == "SUCCEEDED" for r in results)
    operations = hook.stats()["operations"]
    assert operations["aws:athena:batch_get_query_execution"]["errors"] == 1  # learnt once
    assert operations["aws:athena:get_query_execution"]["calls"] >= 3


async def test_a_batch_the_server_lacks_is_not_tried_again(aws_json_endpoint):
    """A 5xx without an AWS error code (moto's "not implemented" page) is not a blip: one wait,
    so every tick holds exactly one id and the count of each call is exact."""
    board = AthenaBoard(["q"], polls=4)  # RUNNING for 4 describes
    endpoint = _athena(aws_json_endpoint, board, {"BatchGetQueryExecution": [(500, {})]})
    async with _aws(endpoint.url, retry=NO_RETRY) as hook:
        result = await hook.wait_for_job("athena", "q", **QUICK)
    assert result.succeeded
    batch, single = "BatchGetQueryExecution", "GetQueryExecution"
    assert endpoint.calls == [batch] + [single] * 5
    assert result.polls == 5


async def test_a_batch_that_fails_now_and_then_keeps_coalescing(aws_json_endpoint):
    """Failures that are not in a row do not make the coalescer give up."""
    board = AthenaBoard(["q"], polls=6)
    blip = (500, {"__type": "InternalServerException", "message": "blip"})
    answers = {"BatchGetQueryExecution": [blip, blip]}
    endpoint = _athena(aws_json_endpoint, board, answers)
    async with _aws(endpoint.url, retry=NO_RETRY) as hook:
        first = await hook.wait_for_job("athena", "q", **QUICK)
        board.seen.clear()
        endpoint.answers["BatchGetQueryExecution"] = [blip, blip]
        second = await hook.wait_for_job("athena", "q", **QUICK)
    assert first.succeeded and second.succeeded
    assert endpoint.count("GetQueryExecution") == 0  # never gave the batch up
    assert endpoint.count("BatchGetQueryExecution") == 2 * (2 + 7)


async def test_an_unresolvable_http_host_is_a_config_error_at_once():
    async with AsyncHttpHook("http://jobs.does-not-exist.invalid") as hook:
        with pytest.raises(HookConfigError, match=r"jobs\.does-not-exist\.invalid"):
            await hook.wait_for_job("/jobs/1", poll_interval=0.01, timeout=600)
    assert hook.stats()["retries"] == 0


async def test_a_refused_connection_stays_transient():
    """Nothing listens on the port: refused, which another attempt may not see."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once the socket closes, and nobody listens
    async with AsyncHttpHook(f"http://127.0.0.1:{port}", retry=NO_RETRY) as hook:
        with pytest.raises(TransientError):
            await hook.request("GET", "/x")


async def test_a_refused_token_grant_is_one_request_per_attempt(fake_google_api):
    url, api = fake_google_api
    api.jobs["j"] = [{"status": {"state": "DONE"}}]
    api.token_failures = [400] * 10
    account = make_service_account(f"{url}/token")
    async with AsyncGcpHook(service_file=account, api_root=url, retry=NO_RETRY) as hook:
        with pytest.raises(PermissionDeniedError):
            await hook.wait_for_job("bigquery", "j", **QUICK)
    assert api.token_requests == 1  # gcloud-aio alone would have asked five times


async def test_a_failing_token_endpoint_is_retried_by_the_pipeline_only(fake_google_api):
    url, api = fake_google_api
    api.jobs["j"] = [{"status": {"state": "DONE"}}]
    api.token_failures = [503, 503]
    account = make_service_account(f"{url}/token")
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.01)
    async with AsyncGcpHook(service_file=account, api_root=url, retry=policy) as hook:
        result = await hook.wait_for_job("bigquery", "j", **QUICK)
    assert result.succeeded
    assert api.token_requests == 3 and api.refreshes == 1


CLOSE_SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, threading
    from aiohttp import web
    from async_hooks import AsyncGcpHook
    from async_hooks.testing import ThreadedServer
    from async_hooks.testing.gcp import make_service_account
    from async_hooks.testing.jobserver import until

    grants = []
    release = threading.Event()

    async def token(request):
        grants.append(len(grants) + 1)
        if len(grants) > 1:  # the background refresh: held until the hook has closed
            while not release.is_set():
                await asyncio.sleep(0.005)
        # A short-lived token: gcloud-aio refreshes it in the background after half its life.
        return web.json_response({"access_token": f"token-{len(grants)}", "expires_in": 2})

    async def job(request):
        return web.json_response({"status": {"state": "RUNNING"}})

    app = web.Application()
    app.router.add_post("/token", token)
    app.router.add_get("/bigquery/v2/projects/{project}/jobs/{job}", job)

    async def main(server):
        AsyncGcpHook.idle_close_after = 0.0  # its client closes with it, not after lingering
        hook = AsyncGcpHook(
            service_file=make_service_account(server.url + "/token"), api_root=server.url
        )
        waiting = asyncio.ensure_future(hook.wait_for_job("bigquery", "j", poll_interval=0.05))
        await until(lambda: len(grants) >= 2)  # a poll started the background refresh
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await hook.close()  # the refresh still in flight must not outlive this
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        print("left running after close:", len(left))
        release.set()
        await asyncio.sleep(0.2)
        gc.collect()
        await asyncio.sleep(0.05)

    with ThreadedServer(app) as server:
        asyncio.run(main(server))
    gc.collect()
    print("done")
    """
)


def test_closing_the_hook_leaves_no_token_refresh_running():
    """In a fresh interpreter in dev mode: gcloud-aio's background refresh, started by a poll
    and still in flight, is cancelled and awaited by close() (left running, it failed later
    with "Task exception was never retrieved")."""
    out = run_dev_mode(CLOSE_SCRIPT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["left running after close: 0", "done"], out.stdout
    for complaint in ("never retrieved", "destroyed but it is pending", "Unclosed"):
        assert complaint not in out.stderr, out.stderr


def test_the_token_refresh_is_not_retried_by_gcloud_aio():
    """The upstream function is still tenacity-decorated with its five attempts; ours calls
    the function it wraps (pinned: if upstream changes, this says so)."""
    from gcloud.aio.auth import Token
    from tenacity.stop import stop_after_attempt

    from async_hooks.gcp._token import _ACQUIRE_ONCE, SharedToken

    decorated = Token.acquire_access_token
    assert isinstance(decorated.retry.stop, stop_after_attempt)  # type: ignore[attr-defined]
    assert _ACQUIRE_ONCE is decorated.__wrapped__  # type: ignore[attr-defined]
    assert SharedToken.acquire_access_token is not decorated
