"""aiobotocore sessions: one per credential identity on a loop, assume-role credentials that
refresh once for all callers, and botocore's JSON models read off the loop once per process."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import functools
import threading
from typing import Any

from aiobotocore.credentials import (
    AioAssumeRoleCredentialFetcher,
    AioCredentials,
    AioDeferredRefreshableCredentials,
)
from aiobotocore.session import AioSession
from botocore.loaders import create_loader
from botocore.utils import parse_timestamp

from async_hooks._core.redact import learn_secret
from async_hooks._core.threads import finished
from async_hooks.errors import HookConfigError

__all__ = ["build_session", "models_loaded"]


async def build_session(
    *,
    profile_name: str | None,
    role_arn: str | None,
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    region_name: str | None,
    endpoint_url: str | None,
) -> AioSession:
    """A session with the shared model loader; with ``role_arn``, assume-role credentials
    (from the key pair, else botocore's chain) refreshed by aiobotocore under one asyncio lock,
    in the loop."""
    session = AioSession(profile=profile_name)
    # botocore parses its JSON models (endpoints, the service's API) on the loop; one loader
    # for the process parses each once, not once per session.
    session.register_component("data_loader", _shared_loader())
    if role_arn is None:
        return session
    if access_key:
        source: Any = AioCredentials(access_key, secret_key, session_token)
    else:
        source = await session.get_credentials()
    if source is None:
        raise HookConfigError("role_arn needs source credentials, and none were found")
    fetcher = AioAssumeRoleCredentialFetcher(
        client_creator=functools.partial(
            session.create_client,
            region_name=region_name,
            endpoint_url=endpoint_url,
        ),
        source_credentials=source,
        role_arn=role_arn,
        extra_args={"RoleSessionName": "async_hooks"},
    )

    async def fetch_and_learn() -> dict[str, Any]:
        fetched: dict[str, Any] = await fetcher.fetch_credentials()
        # The role's keys are secrets the hook never saw: a server may echo them back too.
        expires_at = _expiry(fetched.get("expiry_time"))
        learn_secret(fetched.get("secret_key"), expires_at)
        learn_secret(fetched.get("token"), expires_at)
        return fetched

    session._credentials = AioDeferredRefreshableCredentials(
        refresh_using=fetch_and_learn, method="assume-role"
    )
    return session


def _expiry(value: Any) -> dt.datetime | None:
    """The fetched credentials' ``expiry_time`` (aiobotocore serialises STS's ``Expiration``
    as ISO 8601) as a datetime; None when missing or unreadable: the keys are then masked
    until newer secrets push them out, rather than a refresh failing over a date."""
    if isinstance(value, dt.datetime):
        return value
    try:
        return parse_timestamp(value) if isinstance(value, (str, int, float)) else None
    except (ValueError, OverflowError):
        return None


_loader_lock = threading.Lock()
_loader: Any = None


def _shared_loader() -> Any:
    """botocore's model loader, shared by every session (it only caches read-only data)."""
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = create_loader()
        return _loader


#: Services whose models the shared loader holds, and those being read now (a future of the loop
#: that asked, dropped once read: a finished future would hold its loop, and with it the loop's
#: state, for the life of the process).
_loaded: set[str] = set()
_loading: dict[str, asyncio.Future[None]] = {}


async def models_loaded(service: str) -> None:
    """Read ``service``'s JSON models (and botocore's endpoint data) into the shared loader in a
    worker thread, once per process: the first client of a service would otherwise parse them
    on the loop (~65 ms for Glue, ~100 ms with the rest of its set-up) while every other wait on
    it stands still. Best effort: whatever fails here botocore loads (and reports) itself."""
    if service in _loaded:
        return
    loading = _loading.get(service)
    if loading is None or loading.get_loop() is not asyncio.get_running_loop():
        reading = finished(_in_a_thread(_load_models, service))
        loading = _loading[service] = asyncio.ensure_future(reading)
        loading.add_done_callback(functools.partial(_read, service))
    await asyncio.shield(loading)


def _in_a_thread(work: Any, *args: Any) -> concurrent.futures.Future[None]:
    """``work(*args)`` in a thread of its own, not the loop's default executor: in Airflow's
    triggerer that executor carries every trigger's log lines, and a model load queued behind
    a backed-up log channel would hold the first poll of every wait on the service."""
    future: concurrent.futures.Future[None] = concurrent.futures.Future()
    future.set_running_or_notify_cancel()

    def run() -> None:
        try:
            work(*args)
        except BaseException as error:  # handed to the waiter, as to_thread would
            future.set_exception(error)
        else:
            future.set_result(None)

    threading.Thread(target=run, name="async_hooks-models", daemon=True).start()
    return future


def _read(service: str, loading: asyncio.Future[None]) -> None:
    if _loading.get(service) is loading:
        del _loading[service]
    if not loading.cancelled() and loading.exception() is None:
        _loaded.add(service)


def _load_models(service: str) -> None:
    loader = _shared_loader()
    with contextlib.suppress(Exception):
        loader.load_data_with_path("endpoints")
        loader.load_data("partitions")
        loader.load_data("sdk-default-configuration")
        loader.load_data("_retry")
        loader.load_service_model(service, "service-2")
        loader.load_service_model(service, "endpoint-rule-set-1")
