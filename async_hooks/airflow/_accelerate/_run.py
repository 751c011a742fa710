"""An accelerated ``AwsBaseWaiterTrigger.run``: the trigger's own waiter, judged on answers of the
shared schedule, with the provider's events, exceptions and status lines.

It does what the provider's ``run`` does (build the trigger's hook, wait as ``async_wait``
waits, yield ``{"status": "success", return_key: return_value}`` or the provider's
``_event_from_exception``), but the client is async_hooks' cached client for the trigger's
connection, throttled and retried by its pipeline, and the polls are the shared schedule's:
``waiter_delay`` is its poll interval. A trigger whose settings async_hooks cannot reproduce
(``verify``, a connection extra it does not read, a hook class that builds its client its own
way) runs the provider's ``run`` instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from async_hooks._core.plan import PollPlan, PollTiming
from async_hooks._core.progress import STATUS_LOG_LEVEL
from async_hooks.airflow._accelerate._fetch import answer, batch_describe, job_id_of, snake
from async_hooks.airflow._accelerate._waiter import Attempts, verdict, waiter_spec
from async_hooks.errors import HookConfigError, JobFailedError

__all__ = ["HOOK_METHODS", "MIN_INTERVAL", "Unsupported", "accelerated_run", "hook_for"]

logger = logging.getLogger("async_hooks")
#: The provider's own logger for the waiter's status lines (``async_wait``'s module).
provider_log = logging.getLogger("airflow.providers.amazon.aws.utils.waiter_with_logging")

#: Connection extras read beside the hook's own (``AsyncAwsHook``'s ``EXTRA_SETTINGS``): any
#: other makes the trigger fall back to the provider's run.
OTHER_EXTRAS = frozenset({"config_kwargs"})
#: ``AwsGenericHook`` methods that build the client and the waiter: a hook class that overrides
#: one builds them its own way, which is not reproduced.
HOOK_METHODS = (
    "get_waiter",
    "get_async_conn",
    "_get_async_conn",
    "get_client_type",
    "get_session",
    "_get_config",
    "conn_config",
    "waiter_path",
    "_list_custom_waiters",
)
#: The smallest poll interval (``waiter_delay`` 0 polls at once in the provider).
MIN_INTERVAL = 0.01


class Unsupported(Exception):
    """This trigger's settings are not reproduced: it runs the provider's ``run``."""


async def accelerated_run(trigger: Any, original: Callable[[Any], Any]) -> AsyncIterator[Any]:
    """The trigger's events, as ``original`` (the provider's ``run``) would yield them."""
    from airflow.providers.common.compat.sdk import AirflowException
    from airflow.triggers.base import TriggerEvent

    try:
        hook, spec, args = await _prepare(trigger)
    except Unsupported as why:
        logger.debug("%s runs as the provider's: %s", type(trigger).__name__, why)
        async for event in original(trigger):
            yield event
        return
    try:
        await _wait(trigger, hook, spec, args)
    except AirflowException as error:
        yield trigger._event_from_exception(error)
    else:
        yield TriggerEvent({"status": "success", trigger.return_key: trigger.return_value})


async def _prepare(trigger: Any) -> tuple[Any, Any, dict[str, Any]]:
    provider_hook = trigger.hook()
    hook = await hook_for(provider_hook)
    spec = await asyncio.to_thread(
        waiter_spec, provider_hook, trigger.waiter_name, trigger.waiter_config_overrides
    )
    return hook, spec, dict(trigger.waiter_args)


async def hook_for(provider_hook: Any) -> Any:
    """The ``AsyncAwsHook`` that makes ``provider_hook``'s calls (the provider's client
    settings reproduced), or ``Unsupported`` why not."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

    from async_hooks._providers import provider
    from async_hooks.airflow._loading import import_off_the_loop

    cls = type(provider_hook)
    changed = [name for name in HOOK_METHODS if _differs(cls, AwsGenericHook, name)]
    if changed:
        raise Unsupported(f"{cls.__name__} overrides {', '.join(changed)}")
    if provider_hook._verify is not None:
        raise Unsupported("verify is set")
    if not provider_hook.client_type or provider_hook.resource_type:
        raise Unsupported("the hook has no client_type")
    await import_off_the_loop(provider("aws"))
    return await _hook(provider_hook)


def _differs(cls: type, base: type, name: str) -> bool:
    return bool(getattr(cls, name, None) is not getattr(base, name, None))


async def _hook(provider_hook: Any) -> Any:
    """An ``AsyncAwsHook`` on the trigger's connection, region and botocore config, the
    connection looked up with Airflow's async API (never a blocking look-up on the loop)."""
    from async_hooks.aws import AsyncAwsHook
    from async_hooks.aws.hook import EXTRA_SETTINGS
    from async_hooks.connections._airflow import airflow_connection_shared
    from async_hooks.connections._lookup import airflow_looks_up, preset_connections
    from async_hooks.connections._model import Connection

    conn_id = provider_hook.aws_conn_id or None
    found = None
    if conn_id is not None:
        if airflow_looks_up(conn_id):
            found = await airflow_connection_shared(conn_id)
        if found is None:
            try:
                found = Connection.from_env(conn_id)
            except HookConfigError:
                found = None  # the provider's hook goes on without one too
    if found is not None:
        unknown = sorted(set(found.extra) - OTHER_EXTRAS - set(EXTRA_SETTINGS))
        if unknown:
            raise Unsupported(f"connection extras {unknown} are not read by async_hooks")
    config = provider_hook._config
    options = dict(getattr(config, "_user_provided_options", {})) if config is not None else None
    with preset_connections({conn_id: found} if found is not None and conn_id else {}):
        return AsyncAwsHook(
            conn_id=conn_id if found is not None else None,
            region_name=provider_hook._region_name or None,
            config_kwargs=options or None,
        )


async def _wait(trigger: Any, hook: Any, spec: Any, args: dict[str, Any]) -> None:
    """Wait as ``async_wait`` waits; raises the exception it would raise."""
    from airflow.providers.amazon.aws.exceptions import WaiterMaxAttemptsError

    if trigger.attempts < 1:
        raise WaiterMaxAttemptsError("Waiter error: max attempts reached")
    attempts = Attempts(spec, trigger.attempts, trigger.failure_message, trigger.status_queries)
    service, operation = spec.service, spec.operation
    batch = batch_describe(hook, service, operation, args)
    method = snake(operation)

    async def describe() -> Any:
        return await answer(hook, service, method, args)

    plan = PollPlan(
        f"{service} {spec.name}",
        job_id_of(service, operation, args),
        describe,
        attempts.status_of,
        frozenset(),
        frozenset(),
        lambda payload: None,
        verdict,
        batch,
    )
    timing = PollTiming(max(float(trigger.waiter_delay), MIN_INTERVAL), None, jitter=0.1)
    STATUS_LOG_LEVEL.set(logging.DEBUG)  # the provider's lines are logged instead (below)
    async with hook:
        try:
            await hook._wait(plan, timing, _StatusLines(trigger, attempts))
        except JobFailedError:
            error = attempts.error or attempts.exhausted()
            raise error from None


class _StatusLines:
    """A wait's ``on_status``: the provider's status lines, once per change, logged in a worker
    thread in the trigger's context (a blocking handler must not hold the shared loop)."""

    __slots__ = ("attempts", "status_message")

    def __init__(self, trigger: Any, attempts: Attempts) -> None:
        self.status_message = trigger.status_message
        self.attempts = attempts

    async def __call__(self, job: Any) -> None:
        status: str = job.status.split(" after ", 1)[-1]  # the last attempt of max attempts
        if status.startswith("waiting: "):
            line: tuple[Any, ...] = (
                "%s: %s",
                self.status_message,
                self.attempts.formatted(job.response),
            )
        elif status.startswith("retrying "):
            _, code, counted = status.split(" ", 2)
            attempt, _, limit = counted.partition("/")
            line = (
                "Waiter encountered retriable error: %s. Retrying (attempt %d/%d)...",
                code,
                int(attempt),
                int(limit),
            )
        elif status.startswith("no credentials: "):
            line = ("%s", status.removeprefix("no credentials: "))
        else:
            return
        await asyncio.to_thread(provider_log.info, *line)
