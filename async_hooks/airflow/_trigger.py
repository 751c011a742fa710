"""``WaitForJobTrigger``: any hook's ``wait_for_job`` as an Airflow trigger.

All triggers of a triggerer run on its one event loop, so every ``WaitForJobTrigger`` there shares
the loop's client per connection, throttle per service and coalesced polls: 500 deferred tasks
waiting on Batch jobs make a few ``DescribeJobs`` calls per tick, through one client.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.redact import mask_mapping
from async_hooks._core.values import is_finite_number
from async_hooks._providers import provider
from async_hooks.airflow._events import WaitOutcome
from async_hooks.airflow._settings import decode_hook_kwargs, encode_hook_kwargs, hook_class, plain
from async_hooks.connections._airflow import airflow_connection_shared
from async_hooks.connections._lookup import airflow_looks_up, preset_connections
from async_hooks.errors import HookConfigError, HookError

__all__ = ["WaitForJobTrigger"]

logger = logging.getLogger("async_hooks")

_PUBLIC_PATH = "async_hooks.airflow.WaitForJobTrigger"


class WaitForJobTrigger(BaseTrigger):  # type: ignore[misc]
    """Wait for a job with ``provider``'s hook (``"aws"``, ``"gcp"`` or ``"http"``), built from
    ``hook_kwargs``, calling ``hook.wait_for_job(*wait_args, **wait_kwargs)``; yield one
    ``TriggerEvent`` with ``{"status", "reason", "result"}``.

    ``started_at`` (epoch seconds, an aware datetime or ISO 8601; default now) and ``polls``
    travel with the trigger, so a
    trigger the triggerer re-creates after a restart keeps the wait's deadline
    (``started_at + timeout``) and its back-off instead of starting over. Waiting never submits
    anything, so a re-created trigger is always safe.
    """

    def __init__(
        self,
        provider: str,
        *,
        hook_kwargs: Mapping[str, Any] | None = None,
        wait_args: Sequence[Any] = (),
        wait_kwargs: Mapping[str, Any] | None = None,
        started_at: float | str | dt.datetime | None = None,
        polls: int = 0,
    ) -> None:
        super().__init__()
        self.hook_class = hook_class(provider)
        self.provider = provider
        self.hook_kwargs = encode_hook_kwargs(provider, hook_kwargs or {})
        if isinstance(wait_args, (str, bytes)) or not isinstance(wait_args, Sequence):
            raise HookConfigError("wait_args must be a list of positional arguments")
        self.wait_args: list[Any] = plain(list(wait_args), "wait_args")
        self.wait_kwargs: dict[str, Any] = plain(dict(wait_kwargs or {}), "wait_kwargs")
        if isinstance(polls, bool) or not isinstance(polls, int) or polls < 0:
            raise HookConfigError("polls must be an int >= 0")
        _check_wait_arguments(self.hook_class, provider, self.wait_args, self.wait_kwargs)
        self.started_at: float = _epoch_seconds(started_at)
        self.polls = polls
        self._defaults = _wait_defaults(self.hook_class)
        self.timeout: float | None = self.wait_kwargs.get("timeout", self._defaults.get("timeout"))

    @property
    def deadline(self) -> float | None:
        """Epoch seconds when the wait gives up (``None``: never); the same in every re-creation."""
        return None if self.timeout is None else self.started_at + self.timeout

    def serialize(self) -> tuple[str, dict[str, Any]]:
        cls = type(self)
        # The public path: rows in Airflow's database outlive any refactor of private modules.
        public = cls is WaitForJobTrigger
        classpath = _PUBLIC_PATH if public else f"{cls.__module__}.{cls.__qualname__}"
        return (
            classpath,
            {
                "provider": self.provider,
                "hook_kwargs": dict(self.hook_kwargs),
                "wait_args": list(self.wait_args),
                "wait_kwargs": dict(self.wait_kwargs),
                "started_at": self.started_at,
                "polls": self.polls,
            },
        )

    def __repr__(self) -> str:
        kind, job_id = self._names()
        settings = ", ".join(f"{k}={v!r}" for k, v in mask_mapping(self.hook_kwargs).items())
        return (
            f"<WaitForJobTrigger {self.provider} {kind} {job_id} polls={self.polls}"
            f" deadline={self.deadline!r}{', ' if settings else ''}{settings}>"
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait, then yield the one event. Cancelling the task running this cancels the wait
        at once; the hook is closed either way (its client with the loop's last user)."""
        kind, job_id = self._names()
        outcome = WaitOutcome(kind, job_id, started_at=self.started_at, polls_before=self.polls)
        payload = await self._wait(outcome)
        logger.debug("%s job %s: wait ended %s", kind, job_id, payload["status"])
        yield TriggerEvent(payload)

    async def _wait(self, outcome: WaitOutcome) -> dict[str, Any]:
        kwargs = dict(self.wait_kwargs)
        if self.deadline is not None:
            remaining = self.deadline - time.time()
            if remaining <= 0:  # the deadline passed while no triggerer ran this wait
                return outcome.deadline(time.time(), self.timeout)
            kwargs["timeout"] = remaining
        if self.polls:
            kwargs["poll_interval"] = self._resumed_interval()
        try:
            hook = await self._build_hook()
            outcome.mask = hook._redact
            async with hook:
                result = await hook.wait_for_job(*self.wait_args, **kwargs)
        except HookError as error:
            return outcome.error(error, time.time(), self.timeout)
        return outcome.success(result, time.time())

    async def _build_hook(self) -> AsyncBaseHook:
        """The hook, its ``conn_id`` looked up with Airflow's async API: a synchronous look-up
        in ``__init__`` would block the loop every trigger shares."""
        conn_id = self.hook_kwargs.get("conn_id")
        presets = {}
        if isinstance(conn_id, str) and airflow_looks_up(conn_id):
            found = await airflow_connection_shared(conn_id)
            if found is not None:
                presets[conn_id] = found
        with preset_connections(presets):
            return self.hook_class(**decode_hook_kwargs(self.hook_kwargs))

    def _resumed_interval(self) -> float:
        """The poll interval after ``polls`` polls of back-off, as the first wait would have."""
        get = self.wait_kwargs.get
        interval = float(get("poll_interval", self._defaults.get("poll_interval", 5.0)))
        backoff = float(get("backoff", self._defaults.get("backoff", 1.0)))
        ceiling = float(get("max_poll_interval", self._defaults.get("max_poll_interval", 60.0)))
        if backoff <= 1.0:
            return interval
        return min(interval * backoff ** min(self.polls, 64), max(ceiling, interval))

    def _names(self) -> tuple[str | None, str | None]:
        """The job's kind and id, for events and logs (HTTP: ``"http"`` and the status path)."""
        return provider(self.provider).job_names(self.wait_args, self.wait_kwargs)


def _epoch_seconds(value: object) -> float:
    """``started_at`` as epoch seconds: a number, an aware datetime or an ISO 8601 string
    (without an offset, UTC, as Airflow's own times are); ``None`` is now."""
    if value is None:
        return time.time()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise HookConfigError(f"started_at {value!r} is not an ISO 8601 time") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    if not is_finite_number(value):
        raise HookConfigError("started_at must be epoch seconds, a datetime or an ISO 8601 time")
    return float(value)


def _check_wait_arguments(
    cls: type[AsyncBaseHook], provider: str, args: list[Any], kwargs: dict[str, Any]
) -> None:
    """Arguments ``wait_for_job`` cannot take fail here, in the worker, not in the triggerer."""
    try:
        _wait_signature(cls).bind(None, *args, **kwargs)
    except TypeError as error:
        raise HookConfigError(f"wait_args/wait_kwargs for the {provider} hook: {error}") from None


@functools.cache
def _wait_signature(cls: type[AsyncBaseHook]) -> inspect.Signature:
    return inspect.signature(cls.wait_for_job)


@functools.cache
def _wait_defaults(cls: type[AsyncBaseHook]) -> dict[str, Any]:
    """The defaults of ``cls.wait_for_job``'s timing keywords (a resumed wait needs them)."""
    parameters = _wait_signature(cls).parameters
    return {
        name: parameter.default
        for name, parameter in parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
