"""``AsyncHttpHook``: any REST job API, on one aiohttp session per loop and identity."""

from __future__ import annotations

import hashlib
import json as jsonlib
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final, NamedTuple

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from async_hooks._core.hook import AsyncBaseHook, BaseSync
from async_hooks._core.paths import MISSING, lookup
from async_hooks._core.policy import RetryPolicy
from async_hooks._core.redact import MASK, Redactor, is_sensitive
from async_hooks._core.waiting import DEFAULT_TIMEOUT, JobResult, OnStatus, PollPlan, PollTiming
from async_hooks._rest.errors import map_aiohttp_error
from async_hooks._rest.response import HttpResponse
from async_hooks._rest.transport import exchange
from async_hooks._sync.facade import blocking
from async_hooks.connections._lookup import resolve_connection
from async_hooks.errors import HookConfigError
from async_hooks.http._checks import (
    TOKEN,
    Auth,
    authorization,
    check_headers,
    check_params,
    check_timeout,
    json_body,
    number,
    states,
)
from async_hooks.http._urls import base_url_from, check_base_url, checked_url

__all__ = ["AsyncHttpHook", "HttpResponse", "HttpSync"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: Connection extras that configure the hook; every other extra is a default header
#: (as Airflow's HttpHook treats them).
_OPTION_EXTRAS = frozenset(
    {
        "timeout",
        "token",
        "bearer_token",
        "headers",
        "verify",
        "proxies",
        "stream",
        "cert",
        "max_redirects",
        "allow_redirects",
        "trust_env",
        "check_response",
        "auth_type",
    }
)
#: How many checked URLs a hook remembers (``_url``); the oldest goes first.
_URL_CACHE_SIZE = 256


class _PreparedRequest(NamedTuple):
    """A request's checked parts: what ``request`` sends, built before any I/O."""

    method: str
    url: URL
    headers: CIMultiDictProxy[str]
    params: Any


class AsyncHttpHook(AsyncBaseHook[aiohttp.ClientSession]):
    """Calls a REST API and waits on its jobs.

    ``auth`` is ``(user, password)`` for basic auth or a bearer token string. Explicit arguments
    win over the connection ``conn_id`` names; from an Airflow ``http`` connection, login and
    password become basic auth, ``extra`` entries become default headers, and ``extra.token``
    a bearer token. Credentials are sent only to the base URL's origin.
    """

    provider = "http"
    #: Closed at once: a session costs nothing to build (no credential exchange), and
    #: ``async with AsyncHttpHook(...)`` is expected to leave no connection open.
    idle_close_after: ClassVar[float] = 0.0

    def __init__(
        self,
        base_url: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Auth | None = None,
        timeout: float | None = 30.0,
        conn_id: str | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = None,
        rate_limit: float | None = None,
    ) -> None:
        super().__init__(
            conn_id=conn_id, retry=retry, max_concurrency=max_concurrency, rate_limit=rate_limit
        )
        conn = resolve_connection(conn_id)
        conn_headers: dict[str, str] = {}
        conn_auth: Auth | None = None
        conn_timeout: Any = None
        if conn is not None:
            base_url = base_url or base_url_from(conn.conn_type, conn.host, conn.port, conn.schema)
            extra = dict(conn.extra)
            nested = extra.get("headers")
            if isinstance(nested, Mapping):
                conn_headers.update({str(k): str(v) for k, v in nested.items()})
            conn_headers.update(
                {str(k): str(v) for k, v in extra.items() if k not in _OPTION_EXTRAS}
            )
            check_headers("the connection's extras", conn_headers)
            token = extra.get("token") or extra.get("bearer_token")
            if token:
                conn_auth = str(token)
            elif conn.login:
                conn_auth = (conn.login, conn.password or "")
            conn_timeout = extra.get("timeout")
        if timeout == 30.0 and conn_timeout is not None:
            timeout = number("timeout of the connection", conn_timeout)
        self.base_url: URL | None = check_base_url(base_url)
        #: Checked URLs by path (``_url``), valid while ``base_url`` is ``_urls_base``.
        self._urls: dict[str, URL] = {}
        self._urls_base = self.base_url
        self.timeout: float | None = check_timeout(timeout)
        merged = {**conn_headers, **check_headers("headers", headers)}
        self.headers = merged
        auth = auth if auth is not None else conn_auth
        self._auth_kind, self._authorization = authorization(auth)
        secrets = [v for k, v in merged.items() if is_sensitive(k) or k.lower() == "cookie"]
        if isinstance(auth, tuple):
            secrets.append(auth[1])
        elif isinstance(auth, str):
            secrets.append(auth)
        if conn is not None:
            secrets.extend(conn.secrets)
        if self._authorization:
            secrets.append(self._authorization.split(" ", 1)[1])
        self._redact = Redactor(secrets)
        fingerprint = hashlib.sha256(
            jsonlib.dumps([self._authorization, sorted(merged.items()), self.timeout]).encode()
        ).hexdigest()
        self._identity = ("http", fingerprint)

    # ------------------------------------------------------------------ operations

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> HttpResponse:
        """Send one request through the pipeline and return the complete 2xx answer.

        A non-2xx answer left after retries raises ``HttpError``. POST and PATCH are retried only
        where the server cannot have acted (408, 429, 503, refused) unless ``idempotent=True``.
        """
        method, url, request_headers, params = self._prepare_request(
            method, path, params=params, headers=headers
        )
        if json is not None:
            if data is not None:
                raise HookConfigError("pass json= or data=, not both")
            data = json_body(json)
            if "Content-Type" not in request_headers:
                request_headers = CIMultiDictProxy(
                    CIMultiDict(request_headers, **{"Content-Type": "application/json"})
                )
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS

        async def send(session: aiohttp.ClientSession) -> HttpResponse:
            return await exchange(
                session,
                method,
                url,
                headers=request_headers,
                redact=self._redact,
                params=params,
                data=data,
            )

        origin = f"{url.host}:{url.port}"
        return await self._call(origin, method, send, idempotent=idempotent)

    async def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """``GET path`` and parse the body as JSON."""
        response = await self.request("GET", path, params=params, headers=headers)
        return response.json()

    async def wait_for_job(
        self,
        path: str,
        *,
        status_key: str = "status",
        success: Iterable[str] | str = ("SUCCEEDED",),
        failure: Iterable[str] | str = ("FAILED",),
        reason_key: str | None = "reason",
        poll_interval: float = 5.0,
        timeout: float | None = DEFAULT_TIMEOUT,
        backoff: float = 1.0,
        max_poll_interval: float = 60.0,
        jitter: float = 0.1,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        on_status: OnStatus | None = None,
    ) -> JobResult:
        """Poll ``GET path`` until the JSON value at ``status_key`` (a dotted path) is in
        ``success`` (returns a ``JobResult``) or ``failure`` (raises ``JobFailedError`` with the
        value at ``reason_key``); ``JobTimeoutError`` after ``timeout`` seconds.
        ``on_status(result)`` is called at each status change with the ``JobResult`` so far."""
        if not isinstance(status_key, str) or not status_key:
            raise HookConfigError("status_key must be a non-empty dotted path")
        success_set, failure_set = states("success", success), states("failure", failure)
        if success_set & failure_set:
            raise HookConfigError(
                f"states both success and failure: {sorted(success_set & failure_set)}"
            )
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)
        url = self._url(path)

        def status_of(payload: Any) -> str:
            value = lookup(payload, status_key)
            if value is MISSING or value is None:
                raise HookConfigError(
                    f"status_key {status_key!r} is not in the answer of GET {url.path}"
                )
            return str(value)

        def reason_of(payload: Any) -> str | None:
            if not reason_key:
                return None
            value = lookup(payload, reason_key)
            return None if value is MISSING or value is None else str(value)

        async def describe() -> Any:
            return await self.get_json(path, params=params, headers=headers)

        plan = PollPlan("http", path, describe, status_of, success_set, failure_set, reason_of)
        return await self._wait(plan, timing, on_status)

    @property
    def sync(self) -> HttpSync:
        """Blocking twins of ``request``, ``get_json``, ``wait_for_job`` and ``close``."""
        return HttpSync(self)

    # ------------------------------------------------------------------ provider hooks

    def _client_key(self, service: str) -> Any:
        return self._identity

    async def _create_client(self, service: str) -> aiohttp.ClientSession:
        limit = max(100, self.max_concurrency or self.default_max_concurrency)
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, limit_per_host=0),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        )

    async def _close_client(self, client: aiohttp.ClientSession) -> None:
        await client.close()

    def _map_error(self, error: Exception, service: str, operation: str) -> BaseException:
        # Errors of a request are mapped in ``request`` with its URL; this maps the rest.
        url = URL(f"http://{service}")
        return map_aiohttp_error(error, method=operation, url=url, redact=self._redact)

    def _throttle_scope(self, service: str) -> str:
        return service

    # ------------------------------------------------------------------ helpers

    def _prepare_request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> _PreparedRequest:
        """Check and build a request's method, URL, headers and query: every mistake in them
        is a ``HookConfigError`` here, before anything is sent."""
        if not isinstance(method, str) or not TOKEN.fullmatch(method):
            raise HookConfigError(
                "method must be an HTTP method name (an RFC 9110 token: ASCII letters, digits"
                " and !#$%&'*+-.^_`|~)"
            )
        url = self._url(path)
        request_headers = self._request_headers(url, check_headers("request headers", headers))
        return _PreparedRequest(method.upper(), url, request_headers, check_params(params))

    def _url(self, path: str) -> URL:
        """``path`` as a checked absolute URL; remembered per path (and base URL): a wait polls
        the same path again and again, and reusing one ``URL`` object lets yarl (and aiohttp,
        which asks it for host, port, origin and text) reuse what it computed the first time."""
        urls = self._urls
        if self._urls_base is not self.base_url:  # base_url was reassigned: start over
            urls.clear()
            self._urls_base = self.base_url
        cacheable = type(path) is str  # a str subclass may hash or compare unlike its text
        if cacheable:
            url = urls.get(path)
            if url is not None:
                return url
        url = checked_url(self.base_url, path)
        if cacheable:
            if len(urls) >= _URL_CACHE_SIZE:  # drop the oldest (another thread may race us)
                urls.pop(next(iter(urls), ""), None)
            urls[path] = url
        return url

    def _request_headers(self, url: URL, extra: Mapping[str, str]) -> CIMultiDictProxy[str]:
        headers: CIMultiDict[str] = CIMultiDict(self.headers)
        if (
            self._authorization
            and self.base_url is not None
            and url.origin() == self.base_url.origin()
        ):
            headers["Authorization"] = self._authorization
        if extra:
            headers.update(extra)
        return CIMultiDictProxy(headers)

    def __repr__(self) -> str:
        auth = ""
        if self._auth_kind == "basic":
            auth = " auth=basic"
        elif self._auth_kind == "bearer":
            auth = f" auth=bearer({MASK})"
        base = str(self.base_url) if self.base_url is not None else None
        return f"<AsyncHttpHook base_url={base!r} conn_id={self.conn_id!r}{auth}>"


class HttpSync(BaseSync):
    """``AsyncHttpHook.sync``."""

    __slots__ = ()

    request: Final = blocking(AsyncHttpHook.request)
    get_json: Final = blocking(AsyncHttpHook.get_json)
    wait_for_job: Final = blocking(AsyncHttpHook.wait_for_job)
