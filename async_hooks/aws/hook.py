"""``AsyncAwsHook``: AWS APIs and job waits on cached aiobotocore clients."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import json
import threading
from collections.abc import Mapping
from typing import Any

from aiobotocore.credentials import (
    AioAssumeRoleCredentialFetcher,
    AioCredentials,
    AioDeferredRefreshableCredentials,
)
from aiobotocore.session import AioSession
from botocore.loaders import create_loader

from async_hooks._core.coalesce import Coalescer, FetchMany, FetchOne, coalescing_window
from async_hooks._core.hook import AsyncBaseHook, BaseSync
from async_hooks._core.policy import RetryPolicy
from async_hooks._core.redact import MASK, Redactor, learn_secret
from async_hooks._core.urls import absolute_http_url
from async_hooks._core.waiting import (
    DEFAULT_TIMEOUT,
    JobResult,
    PollPlan,
    PollTiming,
    presence_plan,
)
from async_hooks._sync.facade import blocking
from async_hooks.aws._config import check_settings, client_config, merged_config
from async_hooks.aws._errors import AwsNotFoundError, map_botocore_error, without_answer
from async_hooks.aws.kinds import JobKind, get_job_kind
from async_hooks.connections._lookup import resolve_connection
from async_hooks.errors import HookConfigError

__all__ = ["AsyncAwsHook", "AwsSync"]

#: Settings a connection's extras may carry (Airflow's ``aws`` connection).
_EXTRA_SETTINGS = (
    "region_name",
    "endpoint_url",
    "role_arn",
    "aws_session_token",
    "aws_access_key_id",
    "aws_secret_access_key",
    "profile_name",
)


class AsyncAwsHook(AsyncBaseHook):
    """Calls AWS APIs and waits on AWS jobs, on one cached aiobotocore client per service.

    Credentials come from the arguments, then the connection ``conn_id`` names (login and
    password are the key pair; extras ``region_name``, ``endpoint_url``, ``role_arn``,
    ``aws_session_token``, ``config_kwargs``), then botocore's usual chain. With ``role_arn``
    the hook assumes the role and refreshes the credentials before they expire, once for all
    concurrent callers. botocore's own retries are off: the pipeline sees every throttle.
    """

    provider = "aws"

    def __init__(
        self,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        profile_name: str | None = None,
        role_arn: str | None = None,
        config_kwargs: Mapping[str, Any] | None = None,
        conn_id: str | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = None,
        rate_limit: float | None = None,
    ) -> None:
        super().__init__(
            conn_id=conn_id, retry=retry, max_concurrency=max_concurrency, rate_limit=rate_limit
        )
        conn = resolve_connection(conn_id)
        extra: dict[str, Any] = dict(conn.extra) if conn is not None else {}
        settings = {name: extra.get(name) for name in _EXTRA_SETTINGS}
        if conn is not None:
            settings["aws_access_key_id"] = conn.login or settings["aws_access_key_id"]
            settings["aws_secret_access_key"] = conn.password or settings["aws_secret_access_key"]
        explicit = {
            "region_name": region_name,
            "endpoint_url": endpoint_url,
            "aws_access_key_id": aws_access_key_id,
            "aws_secret_access_key": aws_secret_access_key,
            "aws_session_token": aws_session_token,
            "profile_name": profile_name,
            "role_arn": role_arn,
        }
        settings.update({k: v for k, v in explicit.items() if v is not None})
        check_settings(settings)
        if bool(settings["aws_access_key_id"]) != bool(settings["aws_secret_access_key"]):
            raise HookConfigError(
                "aws_access_key_id and aws_secret_access_key go together: one is missing"
            )
        self.region_name: str | None = settings["region_name"] or None
        self.endpoint_url: str | None = _check_endpoint(settings["endpoint_url"])
        self.profile_name: str | None = settings["profile_name"] or None
        self.role_arn: str | None = settings["role_arn"] or None
        self._access_key: str | None = settings["aws_access_key_id"] or None
        self._secret_key: str | None = settings["aws_secret_access_key"] or None
        self._session_token: str | None = settings["aws_session_token"] or None
        self.config_kwargs = merged_config(extra.get("config_kwargs"), config_kwargs)
        self._redact = Redactor(
            [self._secret_key, self._session_token, *(conn.secrets if conn else ())]
        )
        credentials = json.dumps(
            [self._access_key, self._secret_key, self._session_token, self.profile_name]
        )
        self._credential_id = hashlib.sha256(credentials.encode()).hexdigest()[:16]
        self._config_id = hashlib.sha256(
            json.dumps(self.config_kwargs, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]

    # ------------------------------------------------------------------ operations

    async def call(self, /, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """Run one API operation (snake_case, e.g. ``"describe_jobs"``) through the pipeline."""
        if not isinstance(service, str) or not service:
            raise HookConfigError("service must be a non-empty string such as 'batch'")
        if not isinstance(operation, str) or not operation.isidentifier():
            raise HookConfigError(f"operation must be a snake_case name, got {operation!r}")

        async def run(client: Any) -> dict[str, Any]:
            if operation not in client.meta.method_to_api_mapping:
                raise HookConfigError(f"AWS service {service!r} has no operation {operation!r}")
            answer: dict[str, Any] = await getattr(client, operation)(**params)
            return answer

        return await self._call(service, operation, run)

    async def get_client(self, service: str) -> Any:
        """The cached aiobotocore client for ``service`` on this loop (do not close it)."""
        if not isinstance(service, str) or not service:
            raise HookConfigError("service must be a non-empty string such as 'batch'")
        failure: BaseException | None = None
        try:
            return await self._client(service)
        except Exception as error:
            failure = self._mapped(error, service, "create_client")
        raise failure

    async def wait_for_job(
        self,
        /,
        kind: str,
        job_id: str,
        *,
        poll_interval: float = 30.0,
        timeout: float | None = DEFAULT_TIMEOUT,
        backoff: float = 1.0,
        max_poll_interval: float = 300.0,
        jitter: float = 0.1,
        coalesce: bool = True,
        **identifiers: Any,
    ) -> JobResult:
        """Wait until an AWS job of ``kind`` ends: ``"batch"``, ``"glue"`` (``job_name=``),
        ``"athena"``, ``"ecs"`` (``cluster=``), ``"stepfunctions"``, ``"emr-step"``
        (``cluster_id=``), ``"sagemaker-training"``, or a registered kind.

        Concurrent waits of a kind with a batch-describe operation (``batch``, ``athena``,
        ``ecs``; ``glue`` through ``GetJobRuns`` pages) share their polls: one call per tick
        covers up to the API's maximum of ids. ``coalesce=False`` polls alone."""
        spec = get_job_kind(kind)
        spec.params(job_id, identifiers)  # names a missing or unknown identifier now
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)
        if coalesce and spec.coalescable:
            timing = dataclasses.replace(timing, jitter=0.0)  # the shared call spreads the load
            coalescer = self._coalescer(spec, identifiers)
            window = coalescing_window(poll_interval)
            fetch_many, fetch_one = self._batch_fetchers(spec, identifiers)

            async def fetch() -> dict[str, Any]:
                item: dict[str, Any] = await coalescer.describe(
                    job_id, window, fetch_many, fetch_one
                )
                return item
        else:

            async def fetch() -> dict[str, Any]:
                return await self._describe_one(spec, job_id, identifiers)

        async def describe() -> dict[str, Any]:
            item = await fetch()
            if spec.enrich is not None and spec.status_of(item) in spec.terminal:
                item = await spec.enrich(self, item)
            return item

        plan = PollPlan(
            kind,
            job_id,
            describe,
            spec.status_of,
            spec.success,
            spec.failure,
            spec.reason_of,
            spec.verdict,
        )
        return await self._wait(plan, timing)

    async def _describe_one(
        self, spec: JobKind, job_id: str, identifiers: Mapping[str, Any]
    ) -> dict[str, Any]:
        answer = await self.call(spec.service, spec.describe, **spec.params(job_id, identifiers))
        item = spec.item(answer, job_id)
        if item is None:
            raise without_answer(
                AwsNotFoundError,
                f"{spec.service}.{spec.describe} does not list {spec.name} job {job_id!r}",
                code="NotFound",
                operation=spec.describe,
            )
        return item

    def _coalescer(self, spec: JobKind, identifiers: Mapping[str, Any]) -> Coalescer:
        """The loop's shared poller for this connection, kind and identifiers."""
        frozen = tuple(sorted((k, repr(v)) for k, v in identifiers.items()))
        key = ("coalesce", self._client_key(spec.service), spec.name, frozen)
        return self._loop_state().coalescer(key, lambda: Coalescer(spec.batch_max))

    def _batch_fetchers(
        self, spec: JobKind, identifiers: Mapping[str, Any]
    ) -> tuple[FetchMany, FetchOne]:
        """How this hook describes many jobs at once, and one alone, for the coalescer."""
        batch_op = spec.batch_describe or spec.describe

        async def fetch_many(job_ids: list[str]) -> dict[str, Any]:
            if spec.batch_fetch is not None:
                return dict(await spec.batch_fetch(self, job_ids, identifiers))
            params = spec.batch_params(job_ids, identifiers)
            answer = await self.call(spec.service, batch_op, **params)
            return dict(spec.batch_items(answer, job_ids))

        async def fetch_one(job_id: str) -> dict[str, Any]:
            return await self._describe_one(spec, job_id, identifiers)

        return fetch_many, fetch_one

    async def _essential_containers(self, task_definition_arn: str) -> dict[str, bool]:
        """Which containers of an ECS task definition are essential. Revisions are immutable, so
        each is described once per connection and loop, however many waits ask at once."""

        async def describe() -> dict[str, bool]:
            answer = await self.call(
                "ecs", "describe_task_definition", taskDefinition=task_definition_arn
            )
            containers = answer.get("taskDefinition", {}).get("containerDefinitions", [])
            return {c.get("name"): bool(c.get("essential", True)) for c in containers}

        key = ("ecs-essential", self._client_key("ecs"), task_definition_arn)
        essential: dict[str, bool] = await self._loop_state().clients.get(
            key, self._user, describe, _nothing_to_close, _no_count
        )
        return essential

    async def wait_for_s3_key(
        self,
        bucket: str,
        key: str,
        *,
        poll_interval: float = 5.0,
        timeout: float | None = DEFAULT_TIMEOUT,
        backoff: float = 1.0,
        max_poll_interval: float = 60.0,
        jitter: float = 0.1,
    ) -> JobResult:
        """Wait until ``s3://bucket/key`` exists (HeadObject; a 404 means "not yet")."""
        if not bucket or not key:
            raise HookConfigError("bucket and key must be non-empty")
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)

        async def head() -> dict[str, Any]:
            return await self.call("s3", "head_object", Bucket=bucket, Key=key)

        return await self._wait(presence_plan("s3-key", f"s3://{bucket}/{key}", head), timing)

    @property
    def sync(self) -> AwsSync:
        """Blocking twins of ``call``, ``get_client``, ``wait_for_job``, ``wait_for_s3_key``."""
        return AwsSync(self)

    # ------------------------------------------------------------------ provider hooks

    def _client_key(self, service: str) -> Any:
        return (
            "aws",
            service,
            self.region_name,
            self.endpoint_url,
            self._credential_id,
            self.role_arn,
            self._config_id,
            self.max_concurrency or self.default_max_concurrency,
        )

    async def _session(self) -> AioSession:
        """One session per credential identity on this loop: role credentials refresh once."""
        key = (
            "aws-session",
            self._credential_id,
            self.role_arn,
            self.region_name,
            self.endpoint_url,
        )
        session: AioSession = await self._loop_state().clients.get(
            key, self._user, self._build_session, _nothing_to_close, _no_count
        )
        return session

    async def _build_session(self) -> AioSession:
        session = AioSession(profile=self.profile_name)
        # botocore parses its JSON models (endpoints, the service's API) on the loop; one
        # loader for the process parses each once, not once per session.
        session.register_component("data_loader", _shared_loader())
        if self.role_arn is None:
            return session
        if self._access_key:
            source: Any = AioCredentials(self._access_key, self._secret_key, self._session_token)
        else:
            source = await session.get_credentials()
        if source is None:
            raise HookConfigError("role_arn needs source credentials, and none were found")
        fetcher = AioAssumeRoleCredentialFetcher(
            client_creator=functools.partial(
                session.create_client, region_name=self.region_name, endpoint_url=self.endpoint_url
            ),
            source_credentials=source,
            role_arn=self.role_arn,
            extra_args={"RoleSessionName": "async_hooks"},
        )

        async def fetch_and_learn() -> dict[str, Any]:
            fetched: dict[str, Any] = await fetcher.fetch_credentials()
            # The role's keys are secrets the hook never saw: a server may echo them back too.
            learn_secret(fetched.get("secret_key"))
            learn_secret(fetched.get("token"))
            return fetched

        # aiobotocore's refreshable credentials: refreshed under one asyncio lock, in the loop.
        session._credentials = AioDeferredRefreshableCredentials(
            refresh_using=fetch_and_learn, method="assume-role"
        )
        return session

    async def _create_client(self, service: str) -> Any:
        await _models_loaded(service)
        session = await self._session()
        concurrency = self.max_concurrency or self.default_max_concurrency
        config = client_config(self.config_kwargs, concurrency)
        keys: dict[str, Any] = {}
        if self.role_arn is None and self._access_key:
            keys = {
                "aws_access_key_id": self._access_key,
                "aws_secret_access_key": self._secret_key,
                "aws_session_token": self._session_token,
            }
        context = session.create_client(
            service,
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            config=config,
            **keys,
        )
        return await context.__aenter__()

    async def _close_client(self, client: Any) -> None:
        await client.close()

    def _map_error(self, error: Exception, service: str, operation: str) -> BaseException:
        return map_botocore_error(error, service=service, operation=operation, redact=self._redact)

    def _throttle_scope(self, service: str) -> str:
        return f"{service}/{self.region_name or 'default'}/{self.endpoint_url or 'aws'}"

    def __repr__(self) -> str:
        key = f" aws_access_key_id={self._access_key!r}" if self._access_key else ""
        secret = f" aws_secret_access_key={MASK!r}" if self._secret_key else ""
        role = f" role_arn={self.role_arn!r}" if self.role_arn else ""
        return (
            f"<AsyncAwsHook region_name={self.region_name!r} endpoint_url={self.endpoint_url!r}"
            f" conn_id={self.conn_id!r}{key}{secret}{role}>"
        )


class AwsSync(BaseSync):
    """``AsyncAwsHook.sync``."""

    __slots__ = ()

    call = blocking(AsyncAwsHook.call)
    get_client = blocking(AsyncAwsHook.get_client)
    wait_for_job = blocking(AsyncAwsHook.wait_for_job)
    wait_for_s3_key = blocking(AsyncAwsHook.wait_for_s3_key)


async def _nothing_to_close(_: Any) -> None:
    """Sessions and cached descriptions hold no connection of their own."""


def _no_count() -> None:
    """``clients_created`` counts clients only, not sessions or cached descriptions."""


_loader_lock = threading.Lock()
_loader: Any = None


def _shared_loader() -> Any:
    """botocore's model loader, shared by every session (it only caches read-only data)."""
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = create_loader()
        return _loader


#: Services whose models the shared loader holds (or is loading): read off the loop once each.
_loaded: dict[str, asyncio.Future[None]] = {}


async def _models_loaded(service: str) -> None:
    """Read ``service``'s JSON models (and botocore's endpoint data) into the shared loader in a
    worker thread, once per process: the first client of a service would otherwise parse them
    on the loop (~65 ms for Glue, ~100 ms with the rest of its set-up) while every other wait on
    it stands still. Best effort: whatever fails here botocore loads (and reports) itself."""
    loading = _loaded.get(service)
    if loading is None or loading.get_loop() is not asyncio.get_running_loop():
        loading = _loaded[service] = asyncio.ensure_future(asyncio.to_thread(_load_models, service))
    await asyncio.shield(loading)


def _load_models(service: str) -> None:
    loader = _shared_loader()
    with contextlib.suppress(Exception):
        loader.load_data_with_path("endpoints")
        loader.load_data("partitions")
        loader.load_data("sdk-default-configuration")
        loader.load_data("_retry")
        loader.load_service_model(service, "service-2")
        loader.load_service_model(service, "endpoint-rule-set-1")


def _check_endpoint(endpoint: str | None) -> str | None:
    return str(absolute_http_url("endpoint_url", endpoint)) if endpoint else None
