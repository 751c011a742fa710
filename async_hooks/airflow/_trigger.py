"""``WaitForJobTrigger``: any hook's wait (``wait_for_job`` and the others) as an Airflow trigger.

All triggers of a triggerer run on its one event loop, so every ``WaitForJobTrigger`` there shares
the loop's client per connection, throttle per service and coalesced polls: 500 deferred tasks
waiting on Batch jobs make a few ``DescribeJobs`` calls per tick, through one client.

That loop must never block. The triggerer imports this module and builds each trigger on it, so
neither imports a provider: a provider's module is imported in a worker thread, once per process,
when the first trigger of that provider runs (``_loading.py``); the checks that need the hook
class run then. In a worker (no running loop) a trigger checks everything when it is made, so a
mistake fails the task before it defers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.progress import STATUS_LOG_LEVEL
from async_hooks._core.redact import mask_mapping
from async_hooks._core.threads import THREAD_WAKEUPS
from async_hooks._core.values import is_finite_number
from async_hooks._providers import provider
from async_hooks.airflow import _quietlog as quietlog
from async_hooks.airflow import _release as release
from async_hooks.airflow._cancel import cancel_method, cancel_remote, task_ended
from async_hooks.airflow._comms import run_to_its_end
from async_hooks.airflow._events import WaitOutcome
from async_hooks.airflow._hook_lease import HookLease, hook_lease, settings_key
from async_hooks.airflow._loading import (
    check_wait_arguments,
    epoch_seconds,
    import_off_the_loop,
    is_plain,
    running_loop,
    timing_as_numbers,
    wait_defaults,
)
from async_hooks.airflow._pace import resumed_interval
from async_hooks.airflow._settings import decode_hook_kwargs, encode_hook_kwargs, plain
from async_hooks.airflow._settings import hook_class as load_hook_class
from async_hooks.airflow._start import derived_start, wait_with_kept_start
from async_hooks.airflow._templates import shared_env
from async_hooks.airflow._versions import thread_wakeups_unsafe
from async_hooks.connections._airflow import airflow_connection_shared
from async_hooks.connections._lookup import airflow_looks_up, preset_connections
from async_hooks.errors import HookConfigError, HookError

__all__ = ["WaitForJobTrigger"]

logger = logging.getLogger("async_hooks")

_PUBLIC_PATH = "async_hooks.airflow.WaitForJobTrigger"


class WaitForJobTrigger(BaseTrigger):  # type: ignore[misc]
    """Wait with ``provider``'s hook (``"aws"``, ``"gcp"`` or ``"http"``), built from
    ``hook_kwargs``, calling ``hook.<method>(*wait_args, **wait_kwargs)`` (``wait_for_job`` by
    default; also ``wait_for_s3_key``, ``wait_for_operation``, ``wait_for_object``); yield one
    ``TriggerEvent`` with ``{"status", "reason", "result"}``.

    ``started_at`` (epoch seconds, an aware datetime or ISO 8601; default now) and ``polls``
    travel with the trigger, so a trigger the triggerer re-creates after a restart keeps the
    wait's deadline (``started_at + timeout``) and its back-off instead of starting over. A
    trigger the scheduler starts itself (``WaitForJobSensor``) has no ``started_at`` in its row:
    it takes it from Airflow's ``timeout_after`` less the sensor's ``deferral_span``
    (``_start.py``), with no round trip to Airflow.

    Events are small (``include_response=True`` adds the provider's whole describe answer);
    ``push_result=False`` (the sensor's ``do_xcom_push=False``) ends a successful task with no
    XCom. Status lines go through one writer thread (``_quietlog.py``); events ending together
    go to Airflow in slices, one per runner cycle (``_release.py``).

    ``cancel_on_kill=True`` stops the remote job (``hook.cancel_job`` and kin) when the task
    really ended by a user's action, or when the wait's own deadline passed; never when the
    trigger merely moves to another triggerer or the triggerer shuts down.
    ``end_from_trigger=True`` ends a successful task in the triggerer (the event's result is its
    XCom) instead of resuming it on a worker; a failed one still resumes there to fail.
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
        method: str = "wait_for_job",
        cancel_on_kill: bool = False,
        end_from_trigger: bool = False,
        include_response: bool = False,
        push_result: bool = True,
        deferral_span: float | None = None,
    ) -> None:
        super().__init__()
        in_triggerer = running_loop()
        # What a stored row holds, as it is: a triggerer must never fail to build a trigger
        # (Airflow's runner stops on anything but a TypeError, and the next triggerer would
        # take the row and stop the same way), so a bad row becomes a "failed" event instead.
        self.provider, self.method = provider, method
        self.cancel_on_kill, self.end_from_trigger = cancel_on_kill, end_from_trigger
        self.include_response, self.push_result = include_response, push_result
        self.deferral_span = deferral_span
        self.hook_kwargs: dict[str, Any] = dict(hook_kwargs or {})
        self.wait_args: list[Any] = [] if isinstance(wait_args, str) else list(wait_args or [])
        self.wait_kwargs: dict[str, Any] = dict(wait_kwargs or {})
        self.polls = polls
        self.started_at: float = time.time()
        # Without a start, a trigger built in a triggerer was started there by the scheduler:
        # its first run looks the start up (``_comms.kept_start``).
        self._start_unknown = started_at is None and in_triggerer
        self._hook_class: type[AsyncBaseHook] | None = None
        self._settled = False  # the checks that need the hook class are made
        self._defaults: dict[str, Any] = {}
        self._broken: HookConfigError | None = None
        try:
            self._check(hook_kwargs, wait_args, wait_kwargs, started_at, polls, in_triggerer)
        except HookConfigError as error:
            if not in_triggerer:
                raise  # in the worker: the task fails before it defers
            self._broken = error

    def _check(
        self,
        hook_kwargs: Mapping[str, Any] | None,
        wait_args: Sequence[Any],
        wait_kwargs: Mapping[str, Any] | None,
        started_at: float | str | dt.datetime | None,
        polls: int,
        in_triggerer: bool,
    ) -> None:
        row = _registry_row(self.provider)  # an unknown provider fails here, importing nothing
        if not isinstance(self.method, str):
            raise HookConfigError("method must be the name of one of the hook's waits")
        row.wait_method(self.method)  # an unknown wait fails here, naming the known ones
        switches = (self.cancel_on_kill, self.end_from_trigger, self.include_response)
        if not all(isinstance(value, bool) for value in (*switches, self.push_result)):
            raise HookConfigError(
                "cancel_on_kill, end_from_trigger, include_response and push_result must be"
                " True or False"
            )
        span = self.deferral_span
        if span is not None and not (is_finite_number(span) and float(span) >= 0):
            raise HookConfigError("deferral_span must be a number of seconds >= 0")
        if self.cancel_on_kill:
            cancel_method(row, self.method)  # a wait with nothing to stop fails here
        if isinstance(wait_args, (str, bytes)) or not isinstance(wait_args, Sequence):
            raise HookConfigError("wait_args must be a list of positional arguments")
        self.wait_args = plain(list(wait_args), "wait_args")
        self.wait_kwargs = plain(dict(wait_kwargs or {}), "wait_kwargs")
        if isinstance(polls, bool) or not isinstance(polls, int) or polls < 0:
            raise HookConfigError("polls must be an int >= 0")
        self.started_at = epoch_seconds(started_at)
        # In a triggerer the worker checked the settings already, templated fields are not yet
        # rendered, and importing the provider would block the loop every trigger shares:
        # ``run`` imports it in a thread and checks then, after rendering.
        if in_triggerer and is_plain(hook_kwargs):
            return
        self._hook_class = load_hook_class(self.provider)
        self.hook_kwargs = encode_hook_kwargs(self.provider, hook_kwargs or {})
        self._settle()

    def get_template_env(self, dag: Any = None) -> Any:
        """Airflow's environment for a trigger's templates, one per process, compiling each
        template source once: the triggerer renders a trigger's templated fields when it starts
        it, building a new environment and compiling every string anew for each of thousands of
        triggers whose templates are the same few strings (``{{ dag_run.conf[...] }}``)."""
        if dag is not None:
            return super().get_template_env(dag)
        return shared_env(super().get_template_env)

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
        """The checks that need the hook class, made once: its settings, the wait's arguments,
        and its timing defaults (a resumed wait needs them)."""
        cls = self._hook_class
        if cls is None:
            cls = load_hook_class(self.provider)
            self.hook_kwargs = encode_hook_kwargs(self.provider, self.hook_kwargs)
            self._hook_class = cls
        if not self._settled:
            self.wait_kwargs = timing_as_numbers(self.wait_kwargs)
            check_wait_arguments(cls, self.provider, self.method, self.wait_args, self.wait_kwargs)
            self._defaults = wait_defaults(cls, self.method)
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
        kwargs: dict[str, Any] = {
            "provider": self.provider,
            "hook_kwargs": dict(self.hook_kwargs),
            "wait_args": list(self.wait_args),
            "wait_kwargs": dict(self.wait_kwargs),
            "started_at": self.started_at,
            "polls": self.polls,
        }
        # Only what differs from the defaults: rows written before these existed look the same.
        if self.method != "wait_for_job":
            kwargs["method"] = self.method
        if self.cancel_on_kill:
            kwargs["cancel_on_kill"] = True
        if self.end_from_trigger:
            kwargs["end_from_trigger"] = True
        if self.include_response:
            kwargs["include_response"] = True
        if not self.push_result:
            kwargs["push_result"] = False
        if self.deferral_span is not None:
            kwargs["deferral_span"] = self.deferral_span
        return classpath, kwargs

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
        at once; the hook, shared with the loop's triggers of the same settings, closes with
        the last of them (its client with the loop's last user)."""
        # In this trigger's own task: on Airflow 3.1.0-3.2.1 a thread must not wake the loop.
        THREAD_WAKEUPS.set(not thread_wakeups_unsafe())
        kind, job_id = self._names()
        if self._start_unknown and self._broken is None:
            derived = derived_start(getattr(self, "timeout_after", None), self.deferral_span)
            if derived is not None:
                self.started_at, self._start_unknown = derived, False
        outcome = WaitOutcome(
            kind,
            job_id,
            started_at=self.started_at,
            polls_before=self.polls,
            include_response=self.include_response,
        )
        if self._start_unknown:
            self._start_unknown = False
            payload = await wait_with_kept_start(self, outcome)  # a row without a span
        else:
            payload = await self._wait(outcome)
        if payload["status"] != "success":  # the whole reason: the event carries its start
            quietlog.log(logging.WARNING, "%s job %s: %s", kind, job_id, outcome.full_reason)
        else:
            quietlog.log(logging.DEBUG, "%s job %s: wait ended %s", kind, job_id, "success")
        turns = release.gate()
        await turns.turn()
        try:
            yield self._event(payload)
        finally:
            turns.sent()

    def _event(self, payload: dict[str, Any]) -> TriggerEvent:
        """The event: with ``end_from_trigger`` a success ends the task here, its result the
        task's XCom. A failure always resumes the task on a worker, for a moment, to fail there
        with the provider's reason: Airflow's retries and failure callbacks apply only there."""
        if self.end_from_trigger and payload["status"] == "success":
            if not self.push_result:
                return TaskSuccessEvent()
            return TaskSuccessEvent(xcoms={"return_value": payload["result"]})
        return TriggerEvent(payload)

    async def _wait(self, outcome: WaitOutcome) -> dict[str, Any]:
        if self._broken is not None:
            return outcome.error(self._broken, time.time(), None)
        if not self._settled:
            await import_off_the_loop(_registry_row(self.provider))
            try:
                self._settle()  # the provider is imported: only signatures are read here
            except HookError as error:
                return outcome.error(error, time.time(), self.wait_kwargs.get("timeout"))
        kwargs = dict(self.wait_kwargs)
        now = time.time()
        if self.deadline is not None:
            remaining = self.deadline - now
            if remaining <= 0:  # the deadline passed while no triggerer ran this wait
                await self._cancel_at_deadline()
                return outcome.deadline(now, self.timeout)
            kwargs["timeout"] = remaining
        interval = resumed_interval(self._timing(), self.polls, now - self.started_at)
        if interval is not None:
            kwargs["poll_interval"] = interval
        # Status changes are logged off the loop (``_StatusLog``), the core's own line only at
        # DEBUG: a thousand triggers logging at once through a blocking handler (the runner's
        # log socket to its busy supervisor) would hold the loop every trigger shares.
        STATUS_LOG_LEVEL.set(logging.DEBUG)  # in this trigger's own task: no one else's
        kwargs["on_status"] = quietlog.StatusLog()
        try:
            async with await self._hook_lease() as hook:
                outcome.mask = hook._redact
                result = await getattr(hook, self.method)(*self.wait_args, **kwargs)
        except HookError as error:
            payload = outcome.error(error, time.time(), self.timeout)
            if payload["status"] == "timeout":
                await self._cancel_at_deadline()
            return payload
        return outcome.success(result, time.time())

    def _timing(self) -> dict[str, float]:
        """The wait's poll interval, back-off and ceiling: given, else the hook's defaults."""
        merged = {**self._defaults, **self.wait_kwargs}
        return {
            key: float(merged[key])
            for key in ("poll_interval", "backoff", "max_poll_interval")
            if isinstance(merged.get(key), (int, float))
        }

    async def on_kill(self) -> None:
        """Airflow calls this when a user acted on the deferred task (mark failed or succeeded,
        clear). With ``cancel_on_kill``, stop the remote job once the task really left
        ``deferred``. Airflow may cancel a trigger that merely moves to another triggerer the
        same way: its task is still ``deferred`` then, and the job is left running.

        Airflow cancels the trigger's task again on each runner cycle (about a second) until the
        trigger has ended, and that cancels ``on_kill`` too, silently: the work runs in a task
        of its own, which goes on to its end whatever befalls this one (the stop within
        ``CANCEL_TIMEOUT``; the state question until Airflow answers it)."""
        if not self.cancel_on_kill:
            return
        await asyncio.shield(run_to_its_end(self._cancel_if_ended()))

    async def _cancel_if_ended(self) -> None:
        if await task_ended(self.task_instance):
            await self._cancel("the task ended by a user's action")

    async def _cancel_at_deadline(self) -> None:
        if self.cancel_on_kill:
            await self._cancel("the wait's deadline passed")

    async def _cancel(self, why: str) -> None:
        if self._broken is not None:
            return
        try:
            if not self._settled:
                await import_off_the_loop(_registry_row(self.provider))
                self._settle()
            lease = await self._hook_lease()
        except HookError as error:
            logger.warning("cancel_on_kill: no hook to cancel with (%s)", type(error).__name__)
            return
        async with lease as hook:
            await cancel_remote(
                hook,
                _registry_row(self.provider),
                self.method,
                self.wait_args,
                self.wait_kwargs,
                why=why,
            )

    async def _hook_lease(self) -> HookLease:
        """The hook, shared with the loop's other triggers of the same settings and connection
        (``_hook_lease.py``), its ``conn_id`` looked up with Airflow's async API: a synchronous
        look-up in ``__init__`` would block the loop every trigger shares."""
        conn_id = self.hook_kwargs.get("conn_id")
        found, presets = None, {}
        if isinstance(conn_id, str) and airflow_looks_up(conn_id):
            found = await airflow_connection_shared(conn_id)
            if found is not None:
                presets[conn_id] = found

        def build() -> AsyncBaseHook:
            with preset_connections(presets):
                return self.hook_class(**decode_hook_kwargs(self.hook_kwargs))

        return hook_lease(settings_key(self.provider, self.hook_kwargs), found, build)

    def _names(self) -> tuple[str | None, str | None]:
        """The job's kind and id, for events and logs (HTTP: ``"http"`` and the status path)."""
        try:
            return provider(self.provider).job_names(self.wait_args, self.wait_kwargs, self.method)
        except HookConfigError:  # a broken row: its event says why
            return None, None


_registry_row = provider  # ``provider`` is also the name of the trigger's first argument
