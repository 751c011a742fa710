"""GCP test servers: a GCS emulator, and a scripted API for operations, BigQuery and tokens."""

from __future__ import annotations

import asyncio
import itertools
import json
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
        self.url = ""

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
    """State of the scripted API: operation and job answers in order (the last repeats),
    issued tokens, token refreshes, requests by path, and failures to inject first."""

    operations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)
    token_delay: float = 0.0
    tokens: set[str] = field(default_factory=set)
    refreshes: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    _counter: Any = field(default_factory=lambda: itertools.count(1))


def fake_google_api_app(api: FakeGoogleApi) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        api.refreshes += 1
        if api.token_delay:
            await asyncio.sleep(api.token_delay)
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

    app = web.Application()
    app.router.add_post("/token", token)
    app.router.add_get("/v1/{name:.*operations/.*}", operation)
    app.router.add_get("/bigquery/v2/projects/{project}/jobs/{job_id}", job)
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
