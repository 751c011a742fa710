"""``AsyncAwsHook``: AWS APIs and job waits on cached aiobotocore clients.

Settings and the pipeline's provider hooks live here; sessions and assume-role credentials in
``_session.py``, the plans of job waits in ``_waits.py``, the job kinds in ``kinds.py``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Coroutine, Hashable, Mapping
from typing import Any, ClassVar, Final

from aiobotocore.session import AioSession

from async_hooks._core.hook import AsyncBaseHook, BaseSync
from async_hooks._core.plan import poll_timing
from async_hooks._core.policy import RetryPolicy
from async_hooks._core.redact import MASK, Redactor
from async_hooks._core.urls import absolute_http_url
from async_hooks._core.waiting import (
    DEFAULT_TIMEOUT,
    JobResult,
    OnStatus,
    PollTiming,
    presence_plan,
)
from async_hooks._sync.awaitables import awaitable_method
from async_hooks._sync.facade import blocking
from async_hooks.aws._capture import Captured
from async_hooks.aws._capture import install as install_capture
from async_hooks.aws._config import check_settings, client_config, merged_config
from async_hooks.aws._errors import AwsServiceError, map_botocore_error, without_answer
from async_hooks.aws._session import build_session, models_loaded
from async_hooks.aws._waits import Planner
from async_hooks.aws.kinds import get_job_kind
from async_hooks.connections._lookup import resolve_connection
from async_hooks.errors import HookConfigError

__all__ = ["AsyncAwsHook", "AwsSync"]

#: Settings a connection's extras may carry (Airflow's ``aws`` connection).
EXTRA_SETTINGS = (
    "region_name",
    "endpoint_url",
    "role_arn",
    "aws_session_token",
    "aws_access_key_id",
    "aws_secret_access_key",
    "profile_name",
)


class AsyncAwsHook(AsyncBaseHook[Any]):
    """Calls AWS APIs and waits on AWS jobs, on one cached aiobotocore client per service.

    Credentials come from the arguments, then the connection ``conn_id`` names (login and
    password are the key pair; extras ``region_name``, ``endpoint_url``, ``role_arn``,
    ``aws_session_token``, ``config_kwargs``), then botocore's usual chain. With ``role_arn``
    the hook assumes the role and refreshes the credentials before they expire, once for all
    concurrent callers. botocore's own retries are off: the pipeline sees every throttle.
    """

    provider = "aws"
    #: A closed hook's client and session (its connections, its assumed role) wait this many
    #: seconds for the next hook of the same identity: sporadic triggers rebuild nothing.
    idle_close_after: ClassVar[float] = 300.0

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
        settings = {name: extra.get(name) for name in EXTRA_SETTINGS}
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
        self.config_kwargs: dict[str, Any] = merged_config(
            extra.get("config_kwargs"), config_kwargs
        )
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
        self._planner: Planner | None = None  # made on first use, dropped on close

    def _plans(self) -> Planner:
        """This hook's planner, made on first use. It holds the hook's bound methods and the
        hook holds it: a cycle, which ``close`` breaks (``_forget_plans``)."""
        planner = self._planner
        if planner is None:
            planner = self._planner = Planner(
                self.call, self._shared, self._identity, self._client_key, self._call_raw
            )
        return planner

    def _forget_plans(self) -> None:
        planner, self._planner = self._planner, None
        if planner is not None:
            planner.forget()

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

    async def _call_raw(
        self, service: str, operation: str, params: Mapping[str, Any]
    ) -> tuple[bytes | None, dict[str, Any], Any]:
        """``call``, for the status path: the answer's raw body where it is JSON (botocore then
        parsed nothing: ``_capture.py``), else None and the parsed answer; and the client's
        service model. Errors, the throttle, retries and stats are ``call``'s own."""

        async def run(client: Any) -> tuple[bytes | None, dict[str, Any], Any]:
            with Captured() as captured:
                answer: dict[str, Any] = await getattr(client, operation)(**params)
            return captured.take(), answer, client.meta.service_model

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

    @awaitable_method
    def wait_for_job(
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
        on_status: OnStatus | None = None,
        **identifiers: Any,
    ) -> Coroutine[Any, None, JobResult]:
        """Wait until an AWS job of ``kind`` ends: a built-in kind (the table of kinds in
        docs/aws.md lists each with its identifiers, such as ``job_name=`` for ``"glue"``, its
        states and its failure reason; ``async_hooks.aws.job_kinds()`` lists them too) or a
        registered kind.

        Concurrent waits of a kind with a batch-describe operation (``batch``, ``athena``,
        ``ecs``, ``emr-step``, ``codebuild``, ``glue-crawler``; ``glue`` through ``GetJobRuns``
        pages) share their polls, whenever each began: the loop's shared schedule for this
        connection, kind and identifiers describes every pending id per tick, up to the API's
        maximum per call (``jitter`` does not apply there); waits of other kinds on the same id
        share one describe call per tick. ``coalesce=False`` polls alone. ``on_status(result)``
        is called at each status change with the ``JobResult`` so far (see the observability
        docs).

        Not a coroutine function: it returns the wait itself (awaitable, and a ``Coroutine``
        for ``asyncio.create_task``), so that a sleeping wait holds no frame of this call. Bad
        arguments therefore raise when it is called, not when it is awaited."""
        spec = get_job_kind(kind)
        spec.check(job_id, identifiers)  # names a missing or unknown identifier now
        timing = poll_timing(poll_interval, timeout, backoff, max_poll_interval, jitter)
        plan = self._plans().plan(spec, job_id, identifiers, coalesce=coalesce)
        return self._wait(plan, timing, on_status, job_id)

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
        on_status: OnStatus | None = None,
    ) -> JobResult:
        """Wait until ``s3://bucket/key`` exists (HeadObject; a 404 means "not yet");
        ``on_status`` is told ``ABSENT`` and then ``PRESENT``."""
        if not bucket or not key:
            raise HookConfigError("bucket and key must be non-empty")
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)

        async def head() -> dict[str, Any]:
            return await self.call("s3", "head_object", Bucket=bucket, Key=key)

        plan = presence_plan("s3-key", f"s3://{bucket}/{key}", head)
        return await self._wait(plan, timing, on_status)

    async def cancel_job(self, kind: str, job_id: str, /, **identifiers: Any) -> None:
        """Stop a job of ``kind`` through its API (Batch ``TerminateJob``, Glue
        ``BatchStopJobRun``, ECS ``StopTask``, ...; the table in docs/aws.md says which), with
        the identifiers its waits take. ``HookConfigError`` for a kind whose API cannot stop a
        job; a stop the answer refuses (Glue's ``Errors``, EMR's ``FAILED``) is a
        ``ServiceError``."""
        spec = get_job_kind(kind)
        spec.params(job_id, identifiers)  # names a missing or unknown identifier
        if spec.cancel is None:
            raise HookConfigError(
                f"job kind {kind!r} has no cancel operation: its API cannot stop one"
            )
        cancel = spec.cancel
        params = cancel.params(job_id, identifiers, spec.identifiers)
        answer = await self.call(spec.service, cancel.operation, **params)
        refused = cancel.refusal(answer) if cancel.refusal is not None else None
        if refused is not None:
            code, message = refused
            raise without_answer(
                AwsServiceError,
                self._redact(
                    f"{spec.service}.{cancel.operation} refused to stop {kind} job"
                    f" {job_id!r}: {code}: {message}".rstrip(": ")
                ),
                code=code,
                operation=cancel.operation,
            )

    @property
    def sync(self) -> AwsSync:
        """Blocking twins of ``call``, ``get_client``, ``wait_for_job``, ``wait_for_s3_key``,
        ``cancel_job``."""
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

    def _identity(self) -> Hashable:
        """The connection identity, whatever the service: what memoised descriptions share."""
        return (
            "aws",
            self.region_name,
            self.endpoint_url,
            self._credential_id,
            self.role_arn,
            self._config_id,
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
        build = functools.partial(
            build_session,
            profile_name=self.profile_name,
            role_arn=self.role_arn,
            access_key=self._access_key,
            secret_key=self._secret_key,
            session_token=self._session_token,
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
        )
        session: AioSession = await self._shared(key, build)
        return session

    async def _create_client(self, service: str) -> Any:
        await models_loaded(service)
        session = await self._session()
        if self.region_name is None and session.get_config_variable("region") == "":
            # botocore takes an empty AWS_DEFAULT_REGION (or profile region) as given and
            # fails with "Invalid endpoint: https://batch..amazonaws.com", a bare ValueError.
            raise HookConfigError(
                "the region is empty (AWS_DEFAULT_REGION, AWS_REGION or the profile's region is"
                " set to ''): pass region_name= or set a region such as 'us-east-1'"
            )
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
        client = await context.__aenter__()
        install_capture(client)  # the status path's raw answers (``_capture.py``)
        return client

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

    call: Final = blocking(AsyncAwsHook.call)
    get_client: Final = blocking(AsyncAwsHook.get_client)
    wait_for_job: Final = blocking(AsyncAwsHook.wait_for_job)
    wait_for_s3_key: Final = blocking(AsyncAwsHook.wait_for_s3_key)
    cancel_job: Final = blocking(AsyncAwsHook.cancel_job)


def _check_endpoint(endpoint: str | None) -> str | None:
    return str(absolute_http_url("endpoint_url", endpoint)) if endpoint else None
