"""GCP test servers: a GCS emulator, and a scripted API for operations, jobs of every kind
(BigQuery, Dataproc, Dataflow, Vertex AI, Cloud Build, Cloud Run) and tokens."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["FakeGoogleApi", "GcsEmulator", "fake_google_api_app", "make_service_account"]


class GcsEmulator:
    """``gcp-storage-emulator`` in memory on 127.0.0.1 with a free port (its own thread).

    The emulator serves one request at a time with a listen backlog of 5: a useful hostile
    server. ``url`` is what ``STORAGE_EMULATOR_HOST`` takes.
    """

    def __init__(self) -> None:
        from gcp_storage_emulator.server import create_server

        self._server = create_server("127.0.0.1", 0, in_memory=True)
        self.url: str = ""

    def start(self) -> GcsEmulator:
        self._server.start()
        port = self._server._api._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def wipe(self) -> None:
        self._server.wipe()

    def create_bucket(self, name: str, project: str = "test-project") -> None:
        """gcloud-aio-storage cannot create buckets; the JSON API can."""
        request = urllib.request.Request(
            f"{self.url}/storage/v1/b?project={project}",
            data=json.dumps({"name": name}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()


@dataclass
class FakeGoogleApi:
    """State of the scripted API, shared by the test's thread and the server's.

    - ``operations``, ``jobs``: answers by operation name and by BigQuery job id, in order (the
      last one repeats).
    - ``failures``: statuses the operation and job endpoints answer first, one per request.
    - ``token_failures``: statuses ``/token`` answers first, one per request, before it grants:
      a 4xx with ``{"error": "invalid_grant"}``, a 5xx with ``{"error": "internal_failure"}``.
    - ``token_delay``: seconds each grant takes. ``hold_tokens()`` makes grants wait until
      ``release_tokens()`` (from any thread): a refresh the test knows is in flight.
    - ``resources``: answers by REST path (``/v1/projects/p/regions/r/jobs/j``), in order (the
      last one repeats): any Google API behind the hook's ``api_root``, which keeps each API's
      real path. ``calls``: every other request to those paths (a cancel), in order, as
      ``(method, path and query, JSON body or None)``; each is answered with
      ``answers.get(f"{method} {path}", {})``.
    - ``tokens``: the tokens granted; ``refreshes``: grants; ``token_requests``: every request
      to ``/token`` (refused or granted, counted on arrival); ``requests``: operation, job and
      resource requests by path.

    The server's loop runs on another thread: a test waits for it to get somewhere with
    ``await async_hooks.testing.jobserver.until(lambda: api.token_requests == 1)``.
    """

    operations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)
    token_failures: list[int] = field(default_factory=list)
    token_delay: float = 0.0
    tokens: set[str] = field(default_factory=set)
    refreshes: int = 0
    token_requests: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    _counter: Any = field(default_factory=lambda: itertools.count(1))
    _holding: bool = False
    _held: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = field(
        default_factory=list
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold_tokens(self) -> None:
        """From now on, ``/token`` grants wait until ``release_tokens()``."""
        with self._lock:
            self._holding = True

    def release_tokens(self) -> None:
        """Let the held grants (and every later one) go through; from any thread."""
        with self._lock:
            self._holding = False
            held, self._held = self._held, []
        for loop, released in held:
            with contextlib.suppress(RuntimeError):  # that server has stopped
                loop.call_soon_threadsafe(_release, released)

    async def _grant_allowed(self) -> None:
        """On the server's loop: return when grants are not held."""
        loop = asyncio.get_running_loop()
        released: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if not self._holding:
                return
            self._held.append((loop, released))
        await released


def _release(released: asyncio.Future[None]) -> None:
    if not released.done():
        released.set_result(None)


def fake_google_api_app(api: FakeGoogleApi) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        api.token_requests += 1
        form = await request.post()
        if api.token_failures:
            status = api.token_failures.pop(0)
            error = "invalid_grant" if status < 500 else "internal_failure"
            return web.json_response({"error": error}, status=status)
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        await api._grant_allowed()  # hold_tokens(): until the test releases the grant
        if api.token_delay:
            await asyncio.sleep(api.token_delay)
        api.refreshes += 1
        value = f"token-{next(api._counter)}"
        api.tokens.add(value)
        return web.json_response({"access_token": value, "expires_in": 3600})

    def authorized(request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in api.tokens

    def scripted(answers: list[dict[str, Any]] | None) -> web.Response:
        if api.failures:
            return web.json_response({"error": {"message": "injected"}}, status=api.failures.pop(0))
        if not answers:
            return web.json_response({"error": {"code": 404, "message": "not found"}}, status=404)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return web.json_response(answer)

    async def operation(request: web.Request) -> web.Response:
        api.requests[request.path] += 1
        if not authorized(request):
            return web.json_response({"error": {"code": 401}}, status=401)
        return scripted(api.operations.get(request.match_info["name"]))

    async def job(request: web.Request) -> web.Response:
        api.requests[request.path] += 1
        if not authorized(request):
            return web.json_response({"error": {"code": 401}}, status=401)
        return scripted(api.jobs.get(request.match_info["job_id"]))

    async def resource(request: web.Request) -> web.Response:
        api.requests[request.path] += 1
        if not authorized(request):
            return web.json_response({"error": {"code": 401}}, status=401)
        if request.method == "GET":
            return scripted(api.resources.get(request.path))
        body = await request.json() if request.can_read_body else None
        api.calls.append((request.method, request.path_qs, body))
        if api.failures:
            return web.json_response({"error": {"message": "injected"}}, status=api.failures.pop(0))
        return web.json_response(api.answers.get(f"{request.method} {request.path}", {}))

    app = web.Application()
    app.router.add_post("/token", token)
    app.router.add_get("/v1/{name:.*operations/.*}", operation)
    app.router.add_get("/bigquery/v2/projects/{project}/jobs/{job_id}", job)
    app.router.add_route("*", "/{path:.*}", resource)  # every other Google API path
    return app


def make_service_account(token_uri: str, *, project: str = "test-project") -> dict[str, Any]:
    """A service-account key made on the spot (a fresh RSA key) whose grants go to
    ``token_uri``: no real account, no secret on disk."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": f"tester@{project}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
