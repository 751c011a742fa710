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

    from async_hooks.http._errors import safe_request_info

    info = safe_request_info(
        "GET", URL("http://h/x"), CIMultiDict({"Authorization": "Bearer abc", "X-Api-Key": "k"})
    )
    assert info.headers["Authorization"] == "***"
    assert info.headers["X-Api-Key"] == "***"
