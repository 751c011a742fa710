"""A planted secret appears in no log, repr or exception text."""

from __future__ import annotations

import base64
import logging
import traceback

import pytest

from async_hooks import AsyncHttpHook, Connection, HookError, RetryPolicy

PASSWORD = "pl4nted-S3CRET-pw"
TOKEN = "pl4nted-T0KEN-value"


def _forms(secret: str) -> list[str]:
    basic = base64.b64encode(f"agent:{secret}".encode()).decode()
    return [secret, basic]


async def test_basic_auth_secret_stays_out_of_logs_reprs_and_errors(scripted, monkeypatch, caplog):
    url, script = scripted([(503, {}), (500, {})], then=(401, {}))
    host_port = url.removeprefix("http://")
    monkeypatch.setenv("AIRFLOW_CONN_PLANTED", f"http://agent:{PASSWORD}@{host_port}")
    caplog.set_level(logging.DEBUG)
    hook = AsyncHttpHook(conn_id="planted", retry=RetryPolicy(initial_backoff=0.001))
    texts = [repr(hook), str(hook), repr(Connection.from_env("planted"))]
    async with hook:
        with pytest.raises(HookError) as caught:
            await hook.request("GET", "/whoami")
        error = caught.value
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        texts += [repr(getattr(error, "request_info", "")), repr(hook.stats())]
    texts += [record.getMessage() for record in caplog.records]
    texts += [caplog.text]
    # The server did receive the credentials: the test is not vacuous.
    assert script.seen_headers[0]["Authorization"] == f"Basic {_forms(PASSWORD)[1]}"
    for text in texts:
        for form in _forms(PASSWORD):
            assert form not in text


async def test_bearer_token_echoed_by_the_server_is_redacted(threaded_server, caplog):
    from aiohttp import web

    async def echo(request):
        return web.Response(status=400, text=f"bad token {request.headers['Authorization']}")

    app = web.Application()
    app.router.add_get("/echo", echo)
    server = threaded_server(app)
    caplog.set_level(logging.DEBUG)
    async with AsyncHttpHook(server.url, auth=TOKEN) as hook:
        with pytest.raises(HookError) as caught:
            await hook.request("GET", "/echo")
    text = str(caught.value) + repr(caught.value) + caplog.text + repr(hook)
    assert "bad token" in str(caught.value)
    assert TOKEN not in text


def test_secret_headers_are_masked_in_request_info():
    from multidict import CIMultiDict
    from yarl import URL

    from async_hooks._rest.errors import safe_request_info

    info = safe_request_info(
        "GET", URL("http://h/x"), CIMultiDict({"Authorization": "Bearer abc", "X-Api-Key": "k"})
    )
    assert info.headers["Authorization"] == "***"
    assert info.headers["X-Api-Key"] == "***"


# --------------------------------------------------------------------------- every kind, echoed
# A hostile (or merely careless) server echoes the credentials it was sent: in an error body, in
# a job's failure reason. Each kind of secret is planted, each failure provoked, and none of the
# secrets may show in any str, repr, formatted traceback (causes included) or log record.

AWS_SECRET = "pl4nted/AWS+secret/KEY0123456789abcdefghij"
AWS_SESSION = "pl4nted-AWS-session-token-FwoGZXIvYXdzEJr"
BEARER = "pl4nted-bearer-T0KEN-4567"


def _texts_of(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    cause: BaseException | None = error
    while cause is not None:  # every link, also those a traceback would not print
        texts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    reason = getattr(error, "reason", None)
    if isinstance(reason, str):
        texts.append(reason)
    return texts


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every record of async_hooks' logger, and every record at INFO and above of any logger.

    botocore's own DEBUG records dump whole requests and answers (its wire log, which a user
    turns on to see exactly that): they are botocore's, not the failures' texts.
    """
    return [
        caplog.handler.format(record)
        for record in caplog.records
        if record.name.startswith("async_hooks") or record.levelno >= logging.INFO
    ]


def _assert_absent(secrets: list[str], texts: list[str]) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"a planted secret shows in: {text[:300]!r}"


def _echo_app(reply):
    """An aiohttp app answering every request with ``reply(request, body_text)``."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        return reply(request, await request.text())

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def test_http_credentials_echoed_by_the_server_show_nowhere(
    threaded_server, monkeypatch, caplog
):
    from aiohttp import web

    seen: list[str] = []

    def reply(request, _body):
        echoed = request.headers.get("Authorization", "")
        seen.append(echoed)
        if echoed.startswith("Basic "):  # and what it decodes to: "agent:<password>"
            echoed += " = " + base64.b64decode(echoed[6:]).decode()
        if request.path == "/job":
            return web.json_response({"status": "FAILED", "reason": f"denied for {echoed}"})
        status = 500 if request.path == "/flaky" else 403
        return web.Response(status=status, text=f"you sent {echoed}")

    server = threaded_server(_echo_app(reply))
    host_port = server.url.removeprefix("http://")
    monkeypatch.setenv("AIRFLOW_CONN_ECHOED", f"http://agent:{PASSWORD}@{host_port}")
    caplog.set_level(logging.DEBUG)
    fast = RetryPolicy(max_attempts=2, initial_backoff=0.001, max_backoff=0.002)
    errors: list[BaseException] = []
    hooks = [AsyncHttpHook(conn_id="echoed", retry=fast), AsyncHttpHook(server.url, auth=BEARER)]
    for hook in hooks:
        async with hook:
            for call in (
                hook.request("GET", "/denied"),
                hook.request("GET", "/flaky"),
                hook.wait_for_job("/job", poll_interval=0.01),
            ):
                with pytest.raises(HookError) as caught:
                    await call
                errors.append(caught.value)
    assert f"Basic {_forms(PASSWORD)[1]}" in seen and f"Bearer {BEARER}" in seen  # not vacuous
    texts = [repr(hook) for hook in hooks] + _logged(caplog)
    for error in errors:
        texts += _texts_of(error)
    assert any("denied for" in text for text in texts)
    _assert_absent([*_forms(PASSWORD), BEARER], texts)


async def test_aws_secret_key_and_session_token_echoed_by_the_server_show_nowhere(
    threaded_server, caplog
):
    from aiohttp import web

    from async_hooks import AsyncAwsHook, JobFailedError

    seen: list[str] = []

    def reply(request, body):
        token = request.headers.get("X-Amz-Security-Token", "")
        seen.append(token)
        echoed = f"token {token} secret {AWS_SECRET}"
        if "t-failed" in body:
            task = {
                "taskArn": "arn:aws:ecs:us-east-1:1:task/c/t-failed",
                "lastStatus": "STOPPED",
                "stoppedReason": echoed,
                "containers": [{"name": "main", "exitCode": 1}],
            }
            answer: dict = {"tasks": [task], "failures": []}
            return web.json_response(answer, content_type="application/x-amz-json-1.1")
        error = {"__type": "AccessDeniedException", "message": echoed}
        return web.json_response(error, status=400, content_type="application/x-amz-json-1.1")

    server = threaded_server(_echo_app(reply))
    caplog.set_level(logging.DEBUG)
    hook = AsyncAwsHook(
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIAPLANTED",
        aws_secret_access_key=AWS_SECRET,
        aws_session_token=AWS_SESSION,
    )
    errors: list[BaseException] = []
    async with hook:
        with pytest.raises(HookError) as denied:
            await hook.call("ecs", "list_clusters")
        errors.append(denied.value)
        with pytest.raises(JobFailedError) as failed:
            await hook.wait_for_job("ecs", "t-failed", cluster="c", poll_interval=0.01)
        errors.append(failed.value)
    assert AWS_SESSION in seen  # the server did see the token
    assert isinstance(denied.value.__cause__, Exception)  # botocore's ClientError, kept
    texts = [repr(hook), *_logged(caplog)]
    for error in errors:
        texts += _texts_of(error)
    assert any("token" in text and MASK_TEXT in text for text in texts)
    _assert_absent([AWS_SECRET, AWS_SESSION], texts)


MASK_TEXT = "***"


async def test_gcp_private_key_and_live_access_token_echoed_by_the_server_show_nowhere(
    threaded_server, caplog
):
    import secrets as random_secrets

    from aiohttp import web

    from async_hooks import AsyncGcpHook, JobFailedError
    from async_hooks.testing.gcp import make_service_account

    issued: list[str] = []
    key_line: list[str] = []

    def reply(request, _body):
        if request.path == "/token":
            issued.append(f"ya29.{random_secrets.token_urlsafe(24)}")
            return web.json_response({"access_token": issued[-1], "expires_in": 3600})
        echoed = f"{request.headers.get('Authorization', '')} {key_line[0]}"
        if request.path.endswith("/bad"):
            status = {"state": "DONE", "errorResult": {"message": f"rejected {echoed}"}}
            return web.json_response({"status": status})
        return web.json_response({"error": {"code": 403, "message": echoed}}, status=403)

    server = threaded_server(_echo_app(reply))
    account = make_service_account(f"{server.url}/token")
    key_line.append(account["private_key"].splitlines()[3])
    caplog.set_level(logging.DEBUG)
    hook = AsyncGcpHook(service_file=account, api_root=server.url, retry=RetryPolicy.none())
    errors: list[BaseException] = []
    async with hook:
        with pytest.raises(JobFailedError) as failed:
            await hook.wait_for_job("bigquery", "bad", poll_interval=0.01)
        errors.append(failed.value)
        with pytest.raises(HookError) as denied:
            await hook.wait_for_job("bigquery", "denied", poll_interval=0.01)
        errors.append(denied.value)
    assert issued  # a live token was obtained, and the server echoed it back
    texts = [repr(hook), *_logged(caplog)]
    for error in errors:
        texts += _texts_of(error)
    assert any("rejected" in text for text in texts)
    _assert_absent([*issued, key_line[0], account["private_key_id"]], texts)


async def test_an_assumed_roles_keys_echoed_by_the_server_show_nowhere(
    threaded_server, moto_server, caplog
):
    """The role's temporary keys come from STS at run time (moto answers AssumeRole, relayed by
    the hostile server, which keeps them and echoes them in every error)."""
    import re

    import aiohttp
    from aiohttp import web

    from async_hooks import AsyncAwsHook

    relayed: dict[str, str] = {}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if b"Action=AssumeRole" in body:
            async with (
                aiohttp.ClientSession() as session,
                session.post(moto_server.url, data=body, headers=dict(request.headers)) as answer,
            ):
                text = await answer.text()
            for field in ("SecretAccessKey", "SessionToken"):
                relayed[field] = re.search(f"<{field}>(.*?)</{field}>", text, re.S)[1].strip()
            return web.Response(text=text, content_type="text/xml")
        echoed = f"{request.headers.get('X-Amz-Security-Token')} {relayed['SecretAccessKey']}"
        error = {"__type": "AccessDeniedException", "message": f"you are {echoed}"}
        return web.json_response(error, status=400, content_type="application/x-amz-json-1.1")

    app = web.Application()
    app.router.add_post("/", handle)
    server = threaded_server(app)
    caplog.set_level(logging.DEBUG)
    hook = AsyncAwsHook(
        endpoint_url=server.url,
        region_name="us-east-1",
        role_arn="arn:aws:iam::123456789012:role/reader",
        retry=RetryPolicy.none(),
    )
    async with hook:
        with pytest.raises(HookError) as caught:
            await hook.call("ecs", "list_clusters")
    assert relayed["SessionToken"] and relayed["SecretAccessKey"]  # not vacuous
    texts = [repr(hook), *_logged(caplog), *_texts_of(caught.value)]
    assert any("you are ***" in text for text in texts)
    _assert_absent([relayed["SessionToken"], relayed["SecretAccessKey"]], texts)
