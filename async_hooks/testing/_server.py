"""A real aiohttp server on 127.0.0.1, running on its own thread and event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from types import TracebackType
from typing import Any

from aiohttp import web

__all__ = ["ThreadedServer"]


class ThreadedServer:
    """Serves ``app`` on ``127.0.0.1`` with a free port until ``close()``.

    Its own thread and loop keep it independent of the loop under test (as aiobotocore's
    ``tests/mock_server.py`` does for moto), so a test's loop can block, be cancelled or end
    without taking the server with it.
    """

    def __init__(self, app: web.Application, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._stop: asyncio.Event
        self._started: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, name="async_hooks-test-server", daemon=True
        )
        self.port: int = 0

    def start(self) -> ThreadedServer:
        self._thread.start()
        self.port = self._started.result(timeout=30)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as error:
            if not self._started.done():
                self._started.set_exception(error)
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        try:
            site = web.TCPSite(self._runner, self.host, self._port, backlog=1024)
            await site.start()
            server = site._server
            assert isinstance(server, asyncio.base_events.Server)
            self._started.set_result(server.sockets[0].getsockname()[1])
            await self._stop.wait()
        finally:
            await self._runner.cleanup()

    def call(self, fn: Any) -> Any:
        """Run ``fn()`` on the server's loop thread (to read or change app state safely)."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def close(self) -> None:
        if self._thread.is_alive() and self._started.done():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=30)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
