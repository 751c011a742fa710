"""``AsyncGcpHook``: Cloud Storage, long-running operations and Google Cloud jobs.

The hook is its settings and provider hooks (here) and three method groups: Cloud Storage
(``_storage``, on gcloud-aio), operations (``_operations``) and jobs of every kind in
``async_hooks.gcp.kinds`` (``_jobs``), all on the calls in ``_calls``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Hashable, Mapping
from typing import Any, ClassVar, Final

import aiohttp
from gcloud.aio.storage import Storage

from async_hooks._core.hook import BaseSync
from async_hooks._core.policy import RetryPolicy
from async_hooks._core.redact import Redactor
from async_hooks._core.values import is_finite_number
from async_hooks._sync.facade import blocking
from async_hooks.connections._lookup import resolve_connection
from async_hooks.errors import HookConfigError
from async_hooks.gcp._auth import load_service_data, secrets_of
from async_hooks.gcp._calls import GcpClient
from async_hooks.gcp._errors import map_gcp_error
from async_hooks.gcp._jobs import JobMethods
from async_hooks.gcp._settings import api_root_url, check_scopes, gcp_extras, single_line
from async_hooks.gcp._storage import StorageMethods
from async_hooks.gcp._token import build_token

__all__ = ["AsyncGcpHook", "GcpSync"]


class AsyncGcpHook(StorageMethods, JobMethods):
    """Cloud Storage, google.longrunning operations and Google Cloud jobs (BigQuery, Dataproc,
    Dataflow, Vertex AI, Cloud Build, Cloud Run): waits and cancels.

    ``api_root`` replaces the scheme and host of every Google API the hook calls (Cloud
    Storage too, unless ``storage_api_root`` is given) and keeps each API's real path, so one
    local server can stand in for all of them.

    Credentials: ``service_file`` (a path, a JSON string or a mapping), else the connection
    ``conn_id`` names (Airflow's ``google_cloud_platform``: extras ``project``, ``key_path``,
    ``keyfile_dict``, ``scope``), else application default credentials. Under
    ``STORAGE_EMULATOR_HOST`` without a ``service_file`` no credentials are needed. One token
    per identity and loop, refreshed once for all concurrent callers.
    """

    provider = "gcp"
    default_max_concurrency = 50
    #: A closed hook's client (its session and its access token, a signed grant request to
    #: renew) waits this many seconds for the next hook of the same identity.
    idle_close_after: ClassVar[float] = 300.0

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
        self.scopes: list[str] = check_scopes(scopes)
        if project is not None and (not isinstance(project, str) or not single_line(project)):
            raise HookConfigError("project must be a single-line string, such as 'my-project'")
        self.project: str | None = (
            project
            or extra.get("project")
            or (self._service_data or {}).get("project_id")
            or os.environ.get("GOOGLE_CLOUD_PROJECT")
            or None
        )
        self.api_root: str | None = api_root_url("api_root", api_root)
        # Cloud Storage goes through gcloud-aio, which puts its real paths under a root too.
        storage_root = api_root_url("storage_api_root", storage_api_root)
        self.storage_api_root: str | None = storage_root or self.api_root
        if not is_finite_number(timeout) or timeout <= 0:
            raise HookConfigError("timeout must be a finite number of seconds > 0")
        self.timeout: float = float(timeout)
        self._anonymous = self._service_data is None and bool(
            os.environ.get("STORAGE_EMULATOR_HOST")
        )
        self._redact = Redactor([*secrets_of(self._service_data), *(conn.secrets if conn else ())])
        identity = json.dumps([self._service_data, self.scopes, self._anonymous], sort_keys=True)
        self._identity = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self._job_kits = {}

    @property
    def sync(self) -> GcpSync:
        """Blocking twins of every coroutine method."""
        return GcpSync(self)

    def _forget_plans(self) -> None:
        self._job_kits.clear()  # each kit holds this hook's bound ``_describe``

    # ------------------------------------------------------------------ provider hooks

    def _client_key(self, service: str) -> Hashable:
        return ("gcp", self._identity, self.timeout, self.storage_api_root)

    async def _create_client(self, service: str) -> GcpClient:
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
        return GcpClient(session, token, storage)

    async def _close_client(self, client: GcpClient) -> None:
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

    upload: Final = blocking(AsyncGcpHook.upload)
    download: Final = blocking(AsyncGcpHook.download)
    exists: Final = blocking(AsyncGcpHook.exists)
    list_objects: Final = blocking(AsyncGcpHook.list_objects)
    delete: Final = blocking(AsyncGcpHook.delete)
    wait_for_object: Final = blocking(AsyncGcpHook.wait_for_object)
    wait_for_operation: Final = blocking(AsyncGcpHook.wait_for_operation)
    wait_for_job: Final = blocking(AsyncGcpHook.wait_for_job)
    cancel_job: Final = blocking(AsyncGcpHook.cancel_job)
    cancel_operation: Final = blocking(AsyncGcpHook.cancel_operation)
