"""How every GCP method reaches Google: the client one identity shares on a loop, and the two
ways a call goes through the pipeline (``AsyncBaseHook._call``).

- Cloud Storage: through gcloud-aio's ``Storage`` on the shared session (``_storage_call``).
- Every other Google REST API (operations, BigQuery, Dataproc, Dataflow, Vertex AI, Cloud
  Build, Cloud Run): one request on the shared session with ``async_hooks._rest.exchange``,
  which maps answers and aiohttp errors as the HTTP hook does (``_rest_json``).

Both put the token's bearer header on first (``_bearer``): a token that cannot be obtained
fails and maps here, not inside gcloud-aio.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from gcloud.aio.storage import Storage
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.redact import learn_secret
from async_hooks._rest.transport import exchange
from async_hooks.errors import HookConfigError
from async_hooks.gcp._errors import map_token_error
from async_hooks.gcp._token import SharedToken

__all__ = ["GcpCalls", "GcpClient"]

T = TypeVar("T")


class GcpClient:
    """What one identity shares on a loop: the session, the token, the Storage client."""

    __slots__ = ("session", "storage", "token")

    def __init__(
        self, session: aiohttp.ClientSession, token: SharedToken | None, storage: Storage
    ) -> None:
        self.session = session
        self.token = token
        self.storage = storage


class GcpCalls(AsyncBaseHook[GcpClient]):
    """The base of ``AsyncGcpHook``'s method groups (``_storage``, ``_jobs``): the settings they
    read, set by ``AsyncGcpHook.__init__``, and the calls they make."""

    project: str | None
    scopes: list[str]
    api_root: str | None
    storage_api_root: str | None
    timeout: float
    _service_data: dict[str, Any] | None
    _anonymous: bool

    async def _storage_call(
        self,
        operation: str,
        run: Callable[[GcpClient], Awaitable[T]],
        *,
        idempotent: bool = True,
    ) -> T:
        async def with_token(client: GcpClient) -> T:
            await self._bearer(client)  # token errors surface (and map) here, not inside gcloud
            return await run(client)

        return await self._call("storage", operation, with_token, idempotent=idempotent)

    async def _get_json(self, service: str, url: URL) -> dict[str, Any]:
        return await self._rest_json(service, "get", "GET", url)

    async def _rest_json(
        self,
        service: str,
        operation: str,
        method: str,
        url: URL,
        *,
        body: Any = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """One REST call on the shared session; its JSON object answer (an empty body is
        ``{}``: some cancel methods answer nothing)."""

        async def run(client: GcpClient) -> dict[str, Any]:
            headers = CIMultiDict(await self._bearer(client))
            answer = await exchange(
                client.session,
                method,
                url,
                headers=CIMultiDictProxy(headers),
                redact=self._redact,
                json=body,
                provider=self.provider,
            )
            if method != "GET" and not answer.body.strip():
                return {}
            found = answer.json()
            if not isinstance(found, dict):
                raise HookConfigError(f"{method} {url.path} did not answer a JSON object")
            return found

        return await self._call(service, operation, run, idempotent=idempotent)

    async def _bearer(self, client: GcpClient) -> dict[str, str]:
        if client.token is None:
            return {}
        try:
            token = await client.token.get()
        except Exception as error:
            mapped = map_token_error(error, redact=self._redact)
            raise mapped from error
        if not token:
            return {}
        # An answer that echoes the header must not show it (until an hour after it expires).
        learn_secret(token, client.token.expiry_of(token))
        return {"Authorization": f"Bearer {token}"}
