"""Shared fixtures: real aiohttp servers (from the async_hooks.testing plugin) and scripted apps."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from async_hooks.testing import ThreadedServer

# The Airflow tests run in their own session (``nox -s airflow``), where Airflow is installed.
collect_ignore = [] if importlib.util.find_spec("airflow") else ["with_airflow"]

for _name in list(os.environ):
    if _name.startswith(("AWS_", "GOOGLE_", "ASYNC_HOOKS_CONN_", "AIRFLOW_CONN_")):
        del os.environ[_name]


@dataclass
class Script:
    """A scripted endpoint: answers in order, then ``then`` forever; records every request."""

    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    then: tuple[int, dict[str, str]] = (200, {})
    delay: float = 0.0
    requests: list[tuple[str, float]] = field(default_factory=list)
    seen_headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def scripted(
    threaded_server: Callable[[web.Application], ThreadedServer],
) -> Callable[..., tuple[str, Script]]:
    """``url, script = scripted([(429, {"Retry-After": "1"}), (200, {})])`` on any path."""

    def start(
        answers: list[tuple[int, dict[str, str]]] | None = None,
        then: tuple[int, dict[str, str]] = (200, {}),
        delay: float = 0.0,
    ) -> tuple[str, Script]:
        script = Script(list(answers or []), then, delay)

        async def handle(request: web.Request) -> web.Response:
            script.requests.append((request.method, asyncio.get_running_loop().time()))
            script.seen_headers.append(dict(request.headers))
            if script.delay:
                await asyncio.sleep(script.delay)
            status, headers = script.answers.pop(0) if script.answers else script.then
            body: dict[str, Any] = {"status": "SUCCEEDED", "n": len(script.requests)}
            return web.json_response(body, status=status, headers=headers)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        server = threaded_server(app)
        return server.url, script

    return start


@pytest.fixture
def no_conn_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("ASYNC_HOOKS_CONN_", "AIRFLOW_CONN_")):
            monkeypatch.delenv(name)


@dataclass
class AwsJsonEndpoint:
    """A small AWS JSON-protocol endpoint (ECS's): scripted answers per operation."""

    url: str
    answers: dict[str, list[tuple[int, dict[str, Any]]]]
    default: dict[str, Any]
    calls: list[str] = field(default_factory=list)
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def count(self, operation: str) -> int:
        return self.calls.count(operation)


@pytest.fixture
def aws_json_endpoint(
    threaded_server: Callable[[web.Application], ThreadedServer],
) -> Callable[..., AwsJsonEndpoint]:
    """``aws_json_endpoint({"DescribeTasks": [(400, {"__type": "ThrottlingException"})]},
    default={"DescribeTasks": (200, {...})})``: answers in order, then the default (a pair, or
    a function of the request body returning one)."""

    def start(
        answers: dict[str, list[tuple[int, dict[str, Any]]]] | None = None,
        default: dict[str, Any] | None = None,
    ) -> AwsJsonEndpoint:
        endpoint = AwsJsonEndpoint(
            "", {k: list(v) for k, v in (answers or {}).items()}, default or {}
        )

        async def handle(request: web.Request) -> web.Response:
            operation = request.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
            endpoint.calls.append(operation)
            raw = await request.read()
            request_body = json.loads(raw) if raw else {}
            endpoint.bodies.append((operation, request_body))
            queue = endpoint.answers.get(operation) or []
            answer = queue.pop(0) if queue else endpoint.default.get(operation, (200, {}))
            status, body = answer(request_body) if callable(answer) else answer
            return web.json_response(body, status=status, content_type="application/x-amz-json-1.1")

        app = web.Application()
        app.router.add_post("/", handle)
        endpoint.url = threaded_server(app).url
        return endpoint

    return start


def run_dev_mode(
    script: str, warnings: str = "error", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh ``python -X dev -W <warnings>`` (unclosed resources show there)."""
    return subprocess.run(
        [sys.executable, "-X", "dev", "-W", warnings, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def in_forked_child(check: Callable[[], bool]) -> tuple[int, bytes]:
    """Run ``check`` in a forked child; its exit code (0 when ``check`` held, 2 when not, 1 when
    it raised) and the byte it reported, for the parent to assert on."""
    read, write = os.pipe()
    with warnings.catch_warnings():
        # 3.12+ warns that fork() with threads may deadlock; forking such a process is the test.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(read)
                code = 0 if check() else 2
            finally:
                os.write(write, bytes([code]))
                os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    reported = os.read(read, 1)
    os.close(read)
    return os.waitstatus_to_exitcode(status), reported
