"""pytest fixtures that start real servers on 127.0.0.1 (registered as a ``pytest11`` plugin).

pytest loads this module in every session of a project that has async_hooks installed, so it
imports only pytest: each fixture imports its server (aiohttp, moto, the GCS emulator) when a
test first asks for it. A server whose package is missing fails the test with the command that
installs it, never a skip: a CI run without moto must not go green untested.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import pytest

from async_hooks.testing.deployment import airflow_deployment  # cheap: stdlib until started

if TYPE_CHECKING:
    from aiohttp import web

    from async_hooks.testing._server import ThreadedServer
    from async_hooks.testing.fault_proxy import FaultPlan, FaultProxy
    from async_hooks.testing.gcp import FakeGoogleApi, GcsEmulator
    from async_hooks.testing.jobserver import JobBoard
    from async_hooks.testing.moto import MotoServer

__all__ = [
    "INSTALL",
    "JobServer",
    "airflow_deployment",
    "fake_google_api",
    "fault_proxy",
    "gcs_emulator",
    "job_server",
    "moto_server",
    "threaded_server",
]

#: What installs every fixture's server; named in the failure of a fixture that cannot start.
INSTALL = "pip install 'async-hooks[testing]'"

_T = TypeVar("_T")


def _start(fixture: str, needs: str, start: Callable[[], _T]) -> _T:
    """``start()``, or fail the test (not skip it) naming what is missing and how to install it."""
    try:
        return start()
    except ImportError as error:
        missing = error.name or str(error)
        pytest.fail(
            f"the {fixture} fixture needs {needs}, and {missing!r} is not installed: {INSTALL}",
            pytrace=False,
        )


@pytest.fixture
def threaded_server() -> Iterator[Callable[[web.Application], ThreadedServer]]:
    """``threaded_server(app)`` serves an aiohttp app on its own thread; stopped after the test."""
    from async_hooks.testing._server import ThreadedServer

    started: list[ThreadedServer] = []

    def serve(app: web.Application) -> ThreadedServer:
        server = ThreadedServer(app).start()
        started.append(server)
        return server

    yield serve
    for server in reversed(started):
        server.close()


@pytest.fixture
def fault_proxy(
    threaded_server: Callable[[web.Application], ThreadedServer],
) -> Callable[..., tuple[str, FaultProxy]]:
    """``url, proxy = fault_proxy(upstream_url, FaultPlan(...))``: a proxy in front of upstream."""
    from async_hooks.testing.fault_proxy import FaultPlan, FaultProxy, fault_proxy_app

    def start(upstream: str, plan: FaultPlan | None = None) -> tuple[str, FaultProxy]:
        proxy = FaultProxy(upstream, plan or FaultPlan())
        server = threaded_server(fault_proxy_app(proxy))
        return server.url, proxy

    return start


@dataclass
class JobServer:
    """What the ``job_server`` fixture starts: the service's ``url``, its ``board`` (jobs and
    counters: ``requests``, ``throttled``, ``max_in_flight``, ...) and the ``server`` thread."""

    url: str
    board: JobBoard
    server: ThreadedServer

    def create(self, polls: int = 2, outcome: str = "SUCCEEDED", reason: str | None = None) -> str:
        """A job that answers ``polls`` non-terminal polls, then ``outcome`` (with ``reason``);
        its id. Safe from the test's thread: it runs on the server's loop."""
        job_id: str = self.server.call(lambda: self.board.create(polls, outcome, reason))
        return job_id


@pytest.fixture
def job_server(
    threaded_server: Callable[[web.Application], ThreadedServer],
) -> Callable[..., JobServer]:
    """``job_server(rate_limit=None, retry_after=None, latency=0.0)`` starts a REST job service
    (``GET /jobs/{id}``); ``rate_limit`` (requests/s) makes it answer 429 beyond the limit."""
    from async_hooks.testing.jobserver import JobBoard, job_server_app

    def start(
        rate_limit: float | None = None, retry_after: str | None = None, latency: float = 0.0
    ) -> JobServer:
        board = JobBoard(rate_limit=rate_limit, retry_after=retry_after, latency=latency)
        server = threaded_server(job_server_app(board))
        return JobServer(server.url, board, server)

    return start


def _moto() -> MotoServer:
    from async_hooks.testing.moto import MotoServer

    return MotoServer().start()


@pytest.fixture(scope="session")
def _async_hooks_moto() -> Iterator[MotoServer]:
    server = _start("moto_server", "moto[server]", _moto)
    yield server
    server.stop()


@pytest.fixture
def moto_server(_async_hooks_moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """A moto server (one per test session, reset for each test) and an isolated AWS
    environment: fake keys, ``us-east-1``, no profile, no shared config or credentials files."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    missing = os.path.join(tempfile.gettempdir(), "async-hooks-no-aws-config")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", missing)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    _async_hooks_moto.reset()
    return _async_hooks_moto


def _gcs() -> GcsEmulator:
    from async_hooks.testing.gcp import GcsEmulator

    return GcsEmulator().start()


@pytest.fixture(scope="session")
def _async_hooks_gcs() -> Iterator[GcsEmulator]:
    emulator = _start("gcs_emulator", "gcp-storage-emulator", _gcs)
    yield emulator
    emulator.stop()


@pytest.fixture
def gcs_emulator(_async_hooks_gcs: GcsEmulator, monkeypatch: pytest.MonkeyPatch) -> GcsEmulator:
    """An in-memory GCS emulator (one per session, wiped for each test), with
    ``STORAGE_EMULATOR_HOST`` pointing at it and no ``GOOGLE_*`` variables."""
    for name in list(os.environ):
        if name.startswith(("GOOGLE_", "GCLOUD_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", _async_hooks_gcs.url)
    _async_hooks_gcs.wipe()
    return _async_hooks_gcs


@pytest.fixture
def fake_google_api(
    threaded_server: Callable[[web.Application], ThreadedServer],
) -> tuple[str, FakeGoogleApi]:
    """``url, api``: a scripted Google API (operations, BigQuery jobs, a token endpoint at
    ``url + "/token"``) on its own thread."""
    from async_hooks.testing.gcp import FakeGoogleApi, fake_google_api_app

    api = FakeGoogleApi()
    server = threaded_server(fake_google_api_app(api))
    return server.url, api
