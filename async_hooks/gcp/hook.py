"""``AsyncGcpHook``: Cloud Storage, long-running operations and BigQuery jobs on gcloud-aio."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from gcloud.aio.storage import Storage
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from async_hooks._core.hook import AsyncBaseHook, BaseSync
from async_hooks._core.paths import MISSING, lookup
from async_hooks._core.policy import RetryPolicy
from async_hooks._core.redact import Redactor, learn_secret
from async_hooks._core.values import is_finite_number
from async_hooks._core.waiting import (
    DEFAULT_TIMEOUT,
    JobResult,
    PollPlan,
    PollTiming,
    presence_plan,
)
from async_hooks._rest.transport import exchange
from async_hooks._sync.facade import blocking
from async_hooks.connections._lookup import resolve_connection
from async_hooks.errors import HookConfigError, NotFoundError
from async_hooks.gcp._auth import load_service_data, secrets_of
from async_hooks.gcp._errors import map_gcp_error, map_token_error
from async_hooks.gcp._settings import (
    api_root_url,
    check_names,
    check_scopes,
    gcp_extras,
    single_line,
)
from async_hooks.gcp._token import SharedToken, build_token

__all__ = ["AsyncGcpHook", "GcpSync"]

T = TypeVar("T")
BIGQUERY_ROOT = "https://bigquery.googleapis.com"
#: A finite default for operations: google-api-core's async futures wait forever by default.
OPERATION_TIMEOUT = 3600.0


class _GcpClient:
    """What one identity shares on a loop: the session, the token, the Storage client."""

    __slots__ = ("session", "storage", "token")

    def __init__(
        self, session: aiohttp.ClientSession, token: SharedToken | None, storage: Storage
    ) -> None:
        self.session = session
        self.token = token
        self.storage = storage


class AsyncGcpHook(AsyncBaseHook):
    """Cloud Storage, google.longrunning operations and BigQuery jobs.

    Credentials: ``service_file`` (a path, a JSON string or a mapping), else the connection
    ``conn_id`` names (Airflow's ``google_cloud_platform``: extras ``project``, ``key_path``,
    ``keyfile_dict``, ``scope``), else application default credentials. Under
    ``STORAGE_EMULATOR_HOST`` without a ``service_file`` no credentials are needed. One token
    per identity and loop, refreshed once for all concurrent callers.
    """

    provider = "gcp"
    default_max_concurrency = 50

    def __init__(
        self,
        *,
        project: str | None = None,
        service_file: str | Mapping[str, Any] | None = None,
        scopes: list[str] | None = None,
        api_root: str | None = None,
        storage_api_root: str | None = None,
        timeout: float = 60.0,
        conn_id: str | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = None,
        rate_limit: float | None = None,
    ) -> None:
        super().__init__(
            conn_id=conn_id, retry=retry, max_concurrency=max_concurrency, rate_limit=rate_limit
        )
        conn = resolve_connection(conn_id)
        extra = gcp_extras(conn.extra) if conn is not None else {}
        if service_file is None:
            service_file = extra.get("keyfile_dict") or extra.get("key_path") or None
        self._service_data = load_service_data(service_file)
        if scopes is None and extra.get("scope"):
            scopes = [s.strip() for s in str(extra["scope"]).split(",") if s.strip()]
        self.scopes = check_scopes(scopes)
        if project is not None and (not isinstance(project, str) or not single_line(project)):
            raise HookConfigError("project must be a single-line string, such as 'my-project'")
        self.project: str | None = (
            project
            or extra.get("project")
            or (self._service_data or {}).get("project_id")
            or os.environ.get("GOOGLE_CLOUD_PROJECT")
            or None
        )
        self.api_root = api_root_url("api_root", api_root)
        self.storage_api_root = api_root_url("storage_api_root", storage_api_root)
        if not is_finite_number(timeout) or timeout <= 0:
            raise HookConfigError("timeout must be a finite number of seconds > 0")
        self.timeout = float(timeout)
        self._anonymous = self._service_data is None and bool(
            os.environ.get("STORAGE_EMULATOR_HOST")
        )
        self._redact = Redactor([*secrets_of(self._service_data), *(conn.secrets if conn else ())])
        identity = json.dumps([self._service_data, self.scopes, self._anonymous], sort_keys=True)
        self._identity = hashlib.sha256(identity.encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ Cloud Storage

    async def upload(
        self,
        bucket: str,
        name: str,
        data: bytes | str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        if_generation_match: int | None = None,
    ) -> dict[str, Any]:
        """Upload ``data`` as ``gs://bucket/name``; returns the object resource.

        Retried after a possible write only with ``if_generation_match`` (Google's rule:
        conditionally idempotent); otherwise only where the server cannot have acted.
        """
        check_names(bucket, name)
        parameters = (
            {"ifGenerationMatch": str(if_generation_match)}
            if if_generation_match is not None
            else None
        )

        async def run(client: _GcpClient) -> dict[str, Any]:
            answer: dict[str, Any] = await client.storage.upload(
                bucket,
                name,
                data,
                content_type=content_type,
                metadata=dict(metadata) if metadata else None,
                parameters=parameters,
                timeout=int(self.timeout),
            )
            return answer

        return await self._storage_call("upload", run, idempotent=if_generation_match is not None)

    async def download(self, bucket: str, name: str) -> bytes:
        """The object's bytes; a missing object raises ``NotFoundError``."""
        check_names(bucket, name)

        async def run(client: _GcpClient) -> bytes:
            body: bytes = await client.storage.download(bucket, name, timeout=int(self.timeout))
            return body

        return await self._storage_call("download", run)

    async def exists(self, bucket: str, name: str) -> bool:
        """Whether ``gs://bucket/name`` exists (a metadata read)."""
        check_names(bucket, name)
        try:
            await self._metadata(bucket, name)
        except NotFoundError:
            return False
        return True

    async def list_objects(self, bucket: str, prefix: str | None = None) -> list[str]:
        """Every object name in ``bucket`` under ``prefix``, across all pages."""
        check_names(bucket)
        names: list[str] = []
        page_token = ""
        while True:
            params = {"pageToken": page_token}
            if prefix:
                params["prefix"] = prefix

            async def run(client: _GcpClient, params: dict[str, str] = params) -> dict[str, Any]:
                page: dict[str, Any] = await client.storage.list_objects(
                    bucket, params=params, timeout=int(self.timeout)
                )
                return page

            page = await self._storage_call("list_objects", run)
            names.extend(item["name"] for item in page.get("items", []))
            page_token = page.get("nextPageToken") or ""
            if not page_token:
                return names

    async def delete(
        self, bucket: str, name: str, *, if_generation_match: int | None = None
    ) -> None:
        """Delete the object; a missing one raises ``NotFoundError``."""
        check_names(bucket, name)
        params = (
            {"ifGenerationMatch": str(if_generation_match)}
            if if_generation_match is not None
            else None
        )

        async def run(client: _GcpClient) -> None:
            await client.storage.delete(bucket, name, params=params, timeout=int(self.timeout))

        await self._storage_call("delete", run, idempotent=if_generation_match is not None)

    async def wait_for_object(
        self,
        bucket: str,
        name: str,
        *,
        poll_interval: float = 5.0,
        timeout: float | None = DEFAULT_TIMEOUT,
        backoff: float = 1.0,
        max_poll_interval: float = 60.0,
        jitter: float = 0.1,
    ) -> JobResult:
        """Wait until ``gs://bucket/name`` exists (a 404 means "not yet")."""
        check_names(bucket, name)
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)

        async def head() -> dict[str, Any]:
            return await self._metadata(bucket, name)

        return await self._wait(presence_plan("gcs-object", f"gs://{bucket}/{name}", head), timing)

    async def _metadata(self, bucket: str, name: str) -> dict[str, Any]:
        async def run(client: _GcpClient) -> dict[str, Any]:
            found: dict[str, Any] = await client.storage.download_metadata(
                bucket, name, timeout=int(self.timeout)
            )
            return found

        return await self._storage_call("get_metadata", run)

    async def _storage_call(
        self,
        operation: str,
        run: Callable[[_GcpClient], Awaitable[T]],
        *,
        idempotent: bool = True,
    ) -> T:
        async def with_token(client: _GcpClient) -> T:
            await self._bearer(client)  # token errors surface (and map) here, not inside gcloud
            return await run(client)

        return await self._call("storage", operation, with_token, idempotent=idempotent)

    # ------------------------------------------------------------------ operations and jobs

    async def wait_for_operation(
        self,
        name_or_url: str,
        *,
        api_root: str | None = None,
        poll_interval: float = 5.0,
        timeout: float | None = OPERATION_TIMEOUT,
        backoff: float = 1.0,
        max_poll_interval: float = 60.0,
        jitter: float = 0.1,
    ) -> JobResult:
        """Poll a google.longrunning Operation (by full URL, or by its name under ``api_root``,
        e.g. ``https://dataproc.googleapis.com/v1``) until ``done``; an ``error`` raises
        ``JobFailedError`` with its message. The default timeout is an hour, not forever."""
        url = self._operation_url(name_or_url, api_root)
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)

        async def describe() -> dict[str, Any]:
            return await self._get_json("operations", url)

        def status_of(operation: dict[str, Any]) -> str:
            if not operation.get("done"):
                return "RUNNING"
            return "FAILED" if operation.get("error") else "DONE"

        def reason_of(operation: dict[str, Any]) -> str | None:
            error = operation.get("error") or {}
            message = error.get("message")
            code = error.get("code")
            return f"{message} (code {code})" if message and code is not None else message

        plan = PollPlan(
            "operation",
            name_or_url,
            describe,
            status_of,
            frozenset({"DONE"}),
            frozenset({"FAILED"}),
            reason_of,
        )
        return await self._wait(plan, timing)

    async def wait_for_job(
        self,
        kind: str,
        job_id: str,
        *,
        location: str | None = None,
        project: str | None = None,
        poll_interval: float = 5.0,
        timeout: float | None = DEFAULT_TIMEOUT,
        backoff: float = 1.0,
        max_poll_interval: float = 60.0,
        jitter: float = 0.1,
    ) -> JobResult:
        """Wait on a BigQuery job (``kind="bigquery"``): ``jobs.get`` until ``status.state`` is
        ``DONE``; ``status.errorResult`` then raises ``JobFailedError`` with its message."""
        if kind != "bigquery":
            raise HookConfigError(f"unknown GCP job kind {kind!r}; known: bigquery")
        if not isinstance(job_id, str) or not job_id:
            raise HookConfigError("job_id must be a non-empty string")
        project = project or self.project
        if not project:
            raise HookConfigError("BigQuery needs a project: pass project= or set it on the hook")
        root = self.api_root or BIGQUERY_ROOT
        url = URL(
            f"{root}/bigquery/v2/projects/{quote(project, safe='')}/jobs/{quote(job_id, safe='')}",
            encoded=True,
        )
        if location:
            url = url.with_query(location=location)
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)

        async def describe() -> dict[str, Any]:
            return await self._get_json("bigquery", url)

        def status_of(job: dict[str, Any]) -> str:
            state = lookup(job, "status.state")
            if state is MISSING:
                raise HookConfigError(f"BigQuery job {job_id} answer has no status.state")
            if state == "DONE" and lookup(job, "status.errorResult") not in (MISSING, None):
                return "DONE_WITH_ERROR"
            return str(state)

        def reason_of(job: dict[str, Any]) -> str | None:
            message = lookup(job, "status.errorResult.message")
            return None if message is MISSING else str(message)

        def verdict(job: dict[str, Any], status: str) -> bool | None:
            if status == "DONE":
                return True
            return False if status == "DONE_WITH_ERROR" else None

        plan = PollPlan(
            "bigquery",
            job_id,
            describe,
            status_of,
            frozenset({"DONE"}),
            frozenset({"DONE_WITH_ERROR"}),
            reason_of,
            verdict,
        )
        return await self._wait(plan, timing)

    async def _get_json(self, service: str, url: URL) -> dict[str, Any]:
        async def run(client: _GcpClient) -> dict[str, Any]:
            headers = CIMultiDict(await self._bearer(client))
            answer = await exchange(
                client.session,
                "GET",
                url,
                headers=CIMultiDictProxy(headers),
                redact=self._redact,
                provider=self.provider,
            )
            body = answer.json()
            if not isinstance(body, dict):
                raise HookConfigError(f"GET {url.path} did not answer a JSON object")
            return body

        return await self._call(service, "get", run)

    async def _bearer(self, client: _GcpClient) -> dict[str, str]:
        if client.token is None:
            return {}
        try:
            token = await client.token.get()
        except Exception as error:
            mapped = map_token_error(error, redact=self._redact)
            raise mapped from error
        if not token:
            return {}
        learn_secret(token)  # an answer that echoes the header must not show it
        return {"Authorization": f"Bearer {token}"}

    def _operation_url(self, name_or_url: str, api_root: str | None) -> URL:
        if not isinstance(name_or_url, str) or not name_or_url:
            raise HookConfigError("name_or_url must be an operation name or URL")
        if name_or_url.startswith(("https://", "http://")):
            return URL(name_or_url)
        root = api_root_url("api_root", api_root) or self.api_root
        if root is None:
            raise HookConfigError(
                f"operation {name_or_url!r} is a name: pass api_root= (e.g. "
                "'https://dataproc.googleapis.com/v1') or a full URL"
            )
        return URL(f"{root}/{name_or_url.lstrip('/')}")

    @property
    def sync(self) -> GcpSync:
        """Blocking twins of every coroutine method."""
        return GcpSync(self)

    # ------------------------------------------------------------------ provider hooks

    def _client_key(self, service: str) -> Any:
        return ("gcp", self._identity, self.timeout, self.storage_api_root)

    async def _create_client(self, service: str) -> _GcpClient:
        limit = self.max_concurrency or self.default_max_concurrency
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, limit_per_host=0),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        )
        try:
            token = (
                None if self._anonymous else build_token(self._service_data, session, self.scopes)
            )
            storage = Storage(
                token=token,
                session=session,  # type: ignore[arg-type]
                api_root=self.storage_api_root,
                # an explicit root is a dev server for gcloud-aio unless told otherwise
                api_is_dev=self._anonymous if self.storage_api_root else None,
            )
        except BaseException:
            await session.close()
            raise
        return _GcpClient(session, token, storage)

    async def _close_client(self, client: _GcpClient) -> None:
        if client.token is not None:
            await client.token.aclose()  # a refresh still running would outlive the session
        await client.session.close()

    def _map_error(self, error: Exception, service: str, operation: str) -> BaseException:
        return map_gcp_error(error, service=service, operation=operation, redact=self._redact)

    def _throttle_scope(self, service: str) -> str:
        root = self.storage_api_root if service == "storage" else self.api_root
        return f"{service}/{root or 'google'}"

    def __repr__(self) -> str:
        who = (self._service_data or {}).get("client_email") or (
            "anonymous" if self._anonymous else "default credentials"
        )
        return f"<AsyncGcpHook project={self.project!r} conn_id={self.conn_id!r} as {who!r}>"


class GcpSync(BaseSync):
    """``AsyncGcpHook.sync``."""

    __slots__ = ()

    upload = blocking(AsyncGcpHook.upload)
    download = blocking(AsyncGcpHook.download)
    exists = blocking(AsyncGcpHook.exists)
    list_objects = blocking(AsyncGcpHook.list_objects)
    delete = blocking(AsyncGcpHook.delete)
    wait_for_object = blocking(AsyncGcpHook.wait_for_object)
    wait_for_operation = blocking(AsyncGcpHook.wait_for_operation)
    wait_for_job = blocking(AsyncGcpHook.wait_for_job)
