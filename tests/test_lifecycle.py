"""A long-lived loop returns to its baseline and close() is safe to cancel: idle throttles are
forgotten, clients and sessions linger for the next hook of their identity and then close, a
hook's close visits only what it held, and a cancelled close still closes everything."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ClassVar

import pytest
from conftest import run_dev_mode

from async_hooks import AsyncAwsHook, AsyncHttpHook, HookClosedError
from async_hooks._core import cache
from async_hooks._core.loopstate import THROTTLE_IDLE, LoopState, current_state

if sys.version_info >= (3, 11):
    from asyncio import timeout
else:  # pragma: no cover - the 3.10 run
    from async_timeout import timeout

Until = Callable[[Callable[[], object]], Awaitable[None]]


@pytest.fixture
def until(monkeypatch: pytest.MonkeyPatch) -> Until:
    """``await until(condition)``: checked after each run of the loop state's timer and once
    the closings it started are done; no clock in the test."""
    swept = asyncio.Event()
    sweep = LoopState._sweep

    def counted(self: LoopState) -> None:
        sweep(self)
        swept.set()

    monkeypatch.setattr(LoopState, "_sweep", counted)

    async def wait(condition: Callable[[], object]) -> None:
        state = current_state()
        while not condition():
            if state._closing:
                await asyncio.wait(list(state._closing))
                continue
            swept.clear()
            await swept.wait()

    return wait


SERVER = textwrap.dedent(
    """
    import asyncio, json, sys
    from aiohttp import web
    from async_hooks.testing.jobserver import JobBoard, job_server_app

    async def main(count):
        runner = web.AppRunner(job_server_app(JobBoard()), access_log=None)
        await runner.setup()
        ports = []
        for _ in range(count):
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=128)
            await site.start()
            ports.append(site._server.sockets[0].getsockname()[1])
        print(json.dumps(ports), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main(int(sys.argv[1])))
    """
)


@pytest.fixture
def many_ports() -> Iterator[list[int]]:
    """A real aiohttp server listening on 2,000 ports of 127.0.0.1, in a process of its own
    (its memory is not this test's); it stops when its stdin closes."""
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, "2000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        yield json.loads(server.stdout.readline())
    finally:
        assert server.stdin is not None and server.stdout is not None
        server.stdin.close()
        server.wait(timeout=30)
        server.stdout.close()


async def test_throttles_of_thousands_of_hosts_go_when_idle_and_memory_returns(many_ports, until):
    state = current_state()

    async def visit(ports: list[int]) -> None:
        # Absolute URLs: one session, one throttle per host:port. "Connection: close" keeps
        # the loop's own tables (selector, transports) at the size of 100 calls at once.
        hook = AsyncHttpHook(headers={"Connection": "close"})
        for start in range(0, len(ports), 100):
            urls = [f"http://127.0.0.1:{port}/ping" for port in ports[start : start + 100]]
            answers = await asyncio.gather(*(hook.get_json(url) for url in urls))
            assert answers == [{"ok": True}] * len(urls)
        await hook.close()
        assert len(state.clients) == 0

    async def forget_throttles() -> None:
        state.throttle_idle = 0.0
        await until(lambda: not state.throttles)
        state.throttle_idle = THROTTLE_IDLE
        for _ in range(5):  # transports closed by the last calls finish closing (call_soon)
            await asyncio.sleep(0)

    def traced() -> int:
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    await visit(many_ports[:200])  # warm-up: imports, interned strings, bounded caches
    await forget_throttles()
    gc.collect()
    tracemalloc.start()
    try:
        baseline = traced()
        await visit(many_ports[200:800])
        await forget_throttles()
        after_600 = traced() - baseline
        await visit(many_ports[800:2000])
        assert len(state.throttles) == 1200
        held = traced() - baseline
        await forget_throttles()
        after_1200 = traced() - baseline
    finally:
        tracemalloc.stop()
    assert state.throttles == {}
    print(
        f"host throttles: {held / 1024:.0f} KiB while 1200 stay; left after 600:"
        f" {after_600 / 1024:.0f} KiB, after 1200 more: {after_1200 / 1024:.0f} KiB"
    )
    # What is left is what bounded caches (yarl's) replaced since tracing began: the same
    # after 600 hosts as after 1,800, and a fraction of what the throttles held.
    assert held - after_600 > 1200 * 500
    # Under 80 bytes a host, where a throttle held ~1.9 KB (3.10's abc caches add ~60 KB of
    # weak references and sets once, whatever the number of hosts).
    assert after_1200 - after_600 < 96 * 1024
    assert after_1200 < held / 4


class _CountedAws(AsyncAwsHook):
    """An AWS hook whose client closings the test sees."""

    closed: ClassVar[list[Any]] = []

    async def _close_client(self, client: Any) -> None:
        await super()._close_client(client)
        self.closed.append(client)


@pytest.fixture
def session_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import async_hooks.aws.hook as aws_hook

    builds: list[int] = []
    build = aws_hook.build_session

    async def counted(**kwargs: Any) -> Any:
        builds.append(1)
        return await build(**kwargs)

    monkeypatch.setattr(aws_hook, "build_session", counted)
    monkeypatch.setattr(_CountedAws, "closed", [])
    return builds


def _aws_sessions() -> list[object]:
    return [key for key in current_state()._memo if key[0] == "aws-session"]


async def test_clients_of_many_aws_endpoints_linger_then_close_with_their_throttles(
    moto_server, session_builds, until, monkeypatch
):
    monkeypatch.setattr(_CountedAws, "idle_close_after", 0.01)
    state = current_state()
    port = moto_server.url.rsplit(":", 1)[1]
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1"]
    hooks = [
        _CountedAws(endpoint_url=f"http://{host}:{port}", region_name=region)
        for host in ("127.0.0.1", "localhost")
        for region in regions
    ]
    answers = await asyncio.gather(*(hook.call("sts", "get_caller_identity") for hook in hooks))
    assert all(answer["Account"] for answer in answers)
    assert (len(state.clients), len(state.throttles), len(_aws_sessions())) == (12, 12, 12)
    for hook in hooks:
        await hook.close()  # lingering: no await inside, the timer cannot have run yet
    assert (state.clients.lingering, len(_aws_sessions()), _CountedAws.closed) == (12, 12, [])
    state.throttle_idle = 0.0
    await until(lambda: len(_CountedAws.closed) == 12 and not state.throttles)
    assert (len(state.clients), _aws_sessions(), state.throttles) == (0, [], {})
    assert len(session_builds) == 12
    assert state._timer is None  # nothing left to collect: the timer is not armed


async def test_sporadic_aws_waits_reuse_the_session_and_client_of_a_closed_hook(
    moto_server, session_builds, until, monkeypatch
):
    role = "arn:aws:iam::123456789012:role/triggers"
    settings = {"endpoint_url": moto_server.url, "region_name": "us-east-1", "role_arn": role}
    async with _CountedAws(**settings) as setup:
        await setup.call("s3", "create_bucket", Bucket="bucket")
        await setup.call("s3", "put_object", Bucket="bucket", Key="a", Body=b"x")
        await setup.call("s3", "put_object", Bucket="bucket", Key="b", Body=b"x")
    first = _CountedAws(**settings)  # a trigger
    assert (await first.wait_for_s3_key("bucket", "a", poll_interval=0.01)).succeeded
    await first.close()
    second = _CountedAws(**settings)  # the next trigger, within the idle time
    assert (await second.wait_for_s3_key("bucket", "b", poll_interval=0.01)).succeeded
    with pytest.raises(HookClosedError):
        await first.call("s3", "list_buckets")
    created = [hook.stats()["clients_created"] for hook in (setup, first, second)]
    assert sum(created) == 1 and len(session_builds) == 1  # nothing rebuilt, no new role
    assert _CountedAws.closed == []
    monkeypatch.setattr(_CountedAws, "idle_close_after", 0.01)
    await second.close()
    await until(lambda: _CountedAws.closed and not _aws_sessions())
    assert len(_CountedAws.closed) == 1 and len(current_state().clients) == 0


async def test_closing_10000_hooks_over_2000_keys_visits_only_their_own_keys(monkeypatch):
    visits = []
    let_go = cache.Holders._let_go

    def counted(self: cache.Holders, key: Any, user: object) -> bool:
        visits.append(key)
        return let_go(self, key, user)

    monkeypatch.setattr(cache.Holders, "_let_go", counted)
    closed: list[object] = []

    class Value:
        async def aclose(self) -> None:
            closed.append(self)

    async def build() -> Value:
        return Value()

    state = current_state()
    hooks = [AsyncHttpHook(headers={"X-Key": str(n % 2000)}) for n in range(10_000)]
    sessions = set()
    for n, hook in enumerate(hooks):
        sessions.add(await hook._client("any"))  # the client of its identity: 2,000 in all
        await hook._shared(("value", n % 2000), build)
    assert (len(state.clients), len(sessions)) == (2000, 2000)
    for hook in hooks:
        await hook.close()
    assert len(visits) == 20_000  # one client and one shared value per hook
    assert len(state.clients) == 0 and len(closed) == 2000
    assert all(session.closed for session in sessions)


class _BlockedHttp(AsyncHttpHook):
    """An HTTP hook whose client build waits for the test's ``go``."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.building = asyncio.Event()
        self.go = asyncio.Event()
        self.closed = asyncio.Event()
        self.sessions: list[Any] = []

    async def _create_client(self, service: str) -> Any:
        self.building.set()
        await self.go.wait()
        session = await super()._create_client(service)
        self.sessions.append(session)
        return session

    async def _close_client(self, client: Any) -> None:
        await super()._close_client(client)
        self.closed.set()


async def _a_call_building_its_client(hook: _BlockedHttp) -> None:
    calling = asyncio.ensure_future(hook.get_json("/ping"))
    await hook.building.wait()
    calling.cancel()  # its caller gives up; the build goes on (it is shared)
    with pytest.raises(asyncio.CancelledError):
        await calling


async def _closes_once_built(hook: _BlockedHttp) -> None:
    state = current_state()
    assert len(state.clients) == 0 and state._closing  # released, closing under way
    with pytest.raises(HookClosedError):
        await hook.get_json("/ping")
    hook.go.set()
    await hook.closed.wait()
    await asyncio.wait(list(state._closing))
    assert [session.closed for session in hook.sessions] == [True]
    assert state._closing == {} and len(state.clients) == 0


async def test_a_cancelled_close_raises_to_its_caller_and_still_closes(job_server):
    hook = _BlockedHttp(job_server().url)
    await _a_call_building_its_client(hook)
    closing = asyncio.ensure_future(hook.close())
    await asyncio.sleep(0)  # one loop step: the close runs up to its first await
    assert not closing.done()
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    await _closes_once_built(hook)


async def test_a_timeout_around_close_raises_timeout_error(job_server):
    hook = _BlockedHttp(job_server().url)
    await _a_call_building_its_client(hook)
    with pytest.raises(asyncio.TimeoutError):  # TimeoutError itself from 3.11
        async with timeout(0):  # expires at the close's first await
            await hook.close()
    await _closes_once_built(hook)


SHUTDOWN_SCRIPT = textwrap.dedent(
    """
    import asyncio, gc
    from aiohttp import web
    from async_hooks import AsyncAwsHook
    from async_hooks._core import loopstate
    from async_hooks.testing import ThreadedServer

    closed = []

    class Counted(AsyncAwsHook):
        async def _close_client(self, client):
            await super()._close_client(client)
            closed.append(client)

    async def handle(request):
        return web.json_response({"clusterArns": []}, content_type="application/x-amz-json-1.1")

    app = web.Application()
    app.router.add_post("/", handle)
    with ThreadedServer(app) as server:
        async def main():
            state = loopstate.current_state()
            async with Counted(
                endpoint_url=server.url, region_name="us-east-1",
                aws_access_key_id="k", aws_secret_access_key="s",
            ) as hook:
                await hook.call("ecs", "list_clusters")
            assert state.clients.lingering == 1, state  # for asyncio.run to close

        for run in range(3):
            asyncio.run(main())
            assert len(closed) == run + 1, closed
    closed.clear()
    gc.collect()
    assert len(loopstate._states) == 0, "per-loop state outlived its loop"
    print("done")
    """
)


def test_loop_shutdown_closes_what_lingers_without_a_warning():
    out = run_dev_mode(SHUTDOWN_SCRIPT, AWS_EC2_METADATA_DISABLED="true", PYTHONASYNCIODEBUG="0")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done"
    assert "Unclosed" not in out.stderr and "Warning" not in out.stderr, out.stderr
