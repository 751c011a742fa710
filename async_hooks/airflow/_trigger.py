"""``WaitForJobTrigger``: any hook's ``wait_for_job`` as an Airflow trigger.

All triggers of a triggerer run on its one event loop, so every ``WaitForJobTrigger`` there shares
the loop's client per connection, throttle per service and coalesced polls: 500 deferred tasks
waiting on Batch jobs make a few ``DescribeJobs`` calls per tick, through one client.

That loop must never block. The triggerer imports this module and builds each trigger on it, so
neither imports a provider: a provider's module (aiobotocore and botocore take a quarter of a
second and more) is imported in a worker thread, once per process, when the first trigger of
that provider runs; the checks that need the hook class run then. In a worker (no running loop)
a trigger checks everything when it is made, so a mistake fails the task before it defers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import inspect
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.redact import mask_mapping
from async_hooks._core.values import is_finite_number
from async_hooks._providers import Provider, provider
from async_hooks.airflow._events import WaitOutcome
from async_hooks.airflow._settings import decode_hook_kwargs, encode_hook_kwargs, plain
from async_hooks.airflow._settings import hook_class as load_hook_class
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
        row = _registry_row(provider)  # an unknown provider fails here, importing nothing
        self.provider = provider
        self._hook_class: type[AsyncBaseHook] | None = None
        self._settled = False  # the checks that need the hook class are made
        self._defaults: dict[str, Any] = {}
        # A triggerer rebuilds the trigger from its stored row, on the loop every trigger
        # shares: the worker checked those settings already, and importing the provider now
        # would block that loop, so ``run`` imports it in a thread and checks then.
        deferred = _running_loop() and not _imported(row) and _is_plain(hook_kwargs)
        if deferred:
            self.hook_kwargs: dict[str, Any] = dict(hook_kwargs or {})
        else:
            self._hook_class = load_hook_class(provider)
            self.hook_kwargs = encode_hook_kwargs(provider, hook_kwargs or {})
        if isinstance(wait_args, (str, bytes)) or not isinstance(wait_args, Sequence):
            raise HookConfigError("wait_args must be a list of positional arguments")
        self.wait_args: list[Any] = plain(list(wait_args), "wait_args")
        self.wait_kwargs: dict[str, Any] = plain(dict(wait_kwargs or {}), "wait_kwargs")
        if isinstance(polls, bool) or not isinstance(polls, int) or polls < 0:
            raise HookConfigError("polls must be an int >= 0")
        self.started_at: float = _epoch_seconds(started_at)
        self.polls = polls
        if not deferred:
            self._settle()

    @property
    def hook_class(self) -> type[AsyncBaseHook]:
        """The provider's hook class (imported now if ``run`` has not imported it yet)."""
        return self._settle()

    @property
    def timeout(self) -> float | None:
        """The wait's ``timeout``: as given in ``wait_kwargs``, else the hook's default."""
        if "timeout" in self.wait_kwargs:
            value: float | None = self.wait_kwargs["timeout"]
            return value
        self._settle()
        default: float | None = self._defaults.get("timeout")
        return default

    def _settle(self) -> type[AsyncBaseHook]:
        """The checks that need the hook class, made once: its settings, ``wait_for_job``'s
        arguments, and its timing defaults (a resumed wait needs them)."""
        cls = self._hook_class
        if cls is None:
            cls = load_hook_class(self.provider)
            self.hook_kwargs = encode_hook_kwargs(self.provider, self.hook_kwargs)
            self._hook_class = cls
        if not self._settled:
            _check_wait_arguments(cls, self.provider, self.wait_args, self.wait_kwargs)
            self._defaults = _wait_defaults(cls)
            self._settled = True
        return cls

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
        # Not yet settled (rebuilt on a triggerer's loop): the hook's default timeout is not
        # known before its module is imported, and a repr must not import it on the loop.
        known = self._settled or "timeout" in self.wait_kwargs
        deadline = repr(self.deadline) if known else "pending"
        return (
            f"<WaitForJobTrigger {self.provider} {kind} {job_id} polls={self.polls}"
            f" deadline={deadline}{', ' if settings else ''}{settings}>"
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
        if not self._settled:
            await _import_off_the_loop(_registry_row(self.provider))
            try:
                self._settle()  # the provider is imported: only signatures are read here
            except HookError as error:
                return outcome.error(error, time.time(), self.wait_kwargs.get("timeout"))
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


_registry_row = provider  # ``provider`` is also the name of the trigger's first argument
#: A provider's module being imported off the loop, by provider name (one import per process).
_imports: dict[str, concurrent.futures.Future[Any]] = {}
_imports_lock = threading.Lock()


def _running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _imported(row: Provider) -> bool:
    """Whether ``row``'s module is imported (a module still being imported lacks its hook)."""
    return getattr(sys.modules.get(row.module), row.hook, None) is not None


def _is_plain(hook_kwargs: object) -> bool:
    """Whether ``hook_kwargs`` are already what ``encode_hook_kwargs`` would make of them (JSON
    values, as a trigger's stored row holds), so that checking them can wait."""
    if not isinstance(hook_kwargs, Mapping):
        return hook_kwargs is None
    try:
        return bool(plain(dict(hook_kwargs), "hook_kwargs") == hook_kwargs)
    except HookError:
        return False


async def _import_off_the_loop(row: Provider) -> None:
    """Import ``row``'s module in a thread of its own, once per process however many triggers
    (on however many loops) ask at once; a failed import is tried again by the next caller."""
    if _imported(row):
        return
    with _imports_lock:
        future = _imports.get(row.name)
        if future is None:
            future = _imports[row.name] = concurrent.futures.Future()
            # Running from now on: a waiter's cancellation cannot cancel it for the others.
            future.set_running_or_notify_cancel()
            threading.Thread(
                target=_import, args=(row, future), name="async_hooks-import", daemon=True
            ).start()
    await asyncio.wrap_future(future)


def _import(row: Provider, future: concurrent.futures.Future[Any]) -> None:
    try:
        module = row.load()
    except BaseException as error:
        with _imports_lock:
            if _imports.get(row.name) is future:
                del _imports[row.name]
        future.set_exception(error)
    else:
        future.set_result(module)


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
