"""``AsyncBaseHook``: the one call pipeline every provider's calls go through.

    _call(service, operation, fn)
      first attempt, straight through:
        throttle.acquire()            shared per scope on this loop (concurrency + rate)
        client = cache.get(key)       one per (loop, connection identity), created once
        fn(client)                    the SDK call
        map errors                    the provider's one mapping function; secrets masked
                                      in the error and every exception chained to it
        throttle.record_*(), stats
        throttle.release()
      a retryable failure: tenacity  takes over from attempt 2 (attempt 1 is counted), same
                                      attempt, back-off, budget and Retry-After rules

Providers implement only the ``_provider hooks`` section below: how to build, key and close a
client, how to map their errors, and the scope their throttle covers.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

from async_hooks._core.budget import RetryBudget
from async_hooks._core.loopstate import LoopState, current_state
from async_hooks._core.metrics import WaitMetrics, counted, wait_metrics
from async_hooks._core.policy import RetryPolicy, is_retryable
from async_hooks._core.progress import OnStatus, checked
from async_hooks._core.redact import Redactor, scrub_exception
from async_hooks._core.schedule import Schedules
from async_hooks._core.stats import HookStats, OperationStats
from async_hooks._core.throttle import AdaptiveThrottle
from async_hooks._core.values import is_finite_number
from async_hooks._core.waiting import JobResult, PollPlan, PollTiming, wait_until_done
from async_hooks._sync.facade import SyncFacade, blocking
from async_hooks._sync.run import run_sync
from async_hooks.errors import (
    HookClosedError,
    HookConfigError,
    HookError,
    ServiceError,
    ThrottledError,
)

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self


__all__ = ["AsyncBaseHook", "BaseSync"]

R = TypeVar("R")
if TYPE_CHECKING:
    import typing_extensions

    #: What a provider caches per connection identity (an aiohttp session, an aiobotocore
    #: client...). A bare ``AsyncBaseHook`` (in an annotation) means ``AsyncBaseHook[Any]``.
    ClientT = typing_extensions.TypeVar("ClientT", default=Any)
else:
    ClientT = TypeVar("ClientT")  # typing.TypeVar takes a default only from Python 3.13
_ids = itertools.count(1)
#: The loop's poll schedules, a value of its memo (closed with the loop).
_SCHEDULES = ("poll-schedules",)


class AsyncBaseHook(ABC, Generic[ClientT]):
    """Shared by every hook: settings, pipeline, closing, the sync facade and stats.

    Hooks are cheap to build and hold no connection until first used inside a running loop;
    clients are shared by every hook with the same connection identity on that loop.
    ``ClientT`` is what a provider caches per connection identity: ``AsyncHttpHook`` is an
    ``AsyncBaseHook[aiohttp.ClientSession]``.
    """

    provider: ClassVar[str]
    default_max_concurrency: ClassVar[int] = 100
    #: Seconds a client (and what it was built from: an AWS session, an assumed role) stays
    #: open after the last hook using it closed, for a hook of the same identity to reuse: in a
    #: triggerer, sporadic triggers then rebuild nothing. 0: closed with the last hook.
    idle_close_after: ClassVar[float] = 0.0

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = None,
        rate_limit: float | None = None,
    ) -> None:
        if conn_id is not None and (not isinstance(conn_id, str) or not conn_id.strip()):
            raise HookConfigError("conn_id must be a non-empty string")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise HookConfigError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        if max_concurrency is not None and (
            isinstance(max_concurrency, bool)
            or not isinstance(max_concurrency, int)
            or max_concurrency < 1
        ):
            raise HookConfigError(f"max_concurrency must be an int >= 1, got {max_concurrency!r}")
        if rate_limit is not None and (not is_finite_number(rate_limit) or rate_limit <= 0):
            raise HookConfigError("rate_limit must be a finite number > 0 (calls per second)")
        self.conn_id: str | None = conn_id
        self.retry_policy: RetryPolicy = retry if retry is not None else RetryPolicy()
        self.max_concurrency: int | None = max_concurrency
        self.rate_limit: float | None = float(rate_limit) if rate_limit is not None else None
        #: Every secret this hook knows (providers fill it; run-time tokens are added).
        self._redact = Redactor()
        self._stats = HookStats(getattr(self, "provider", ""))
        self._user = _HookUser(next(_ids))
        self._closed_on: weakref.WeakSet[LoopState] = weakref.WeakSet()

    # ------------------------------------------------------------------ public surface

    async def close(self) -> None:
        """Close what this hook opened on the running loop. Closing twice is fine. Its waits
        still in a shared schedule end with ``HookClosedError``; other hooks' waits go on."""
        try:
            state = current_state()
            self._closed_on.add(state)
            state.memo(_SCHEDULES, Schedules).release(self._user, self._closed_error)
            await state.release(self._user, linger=self.idle_close_after)
        finally:
            self._forget_plans()

    def _forget_plans(self) -> None:
        """Drop what a provider built for its waits and holds this hook's bound methods (a
        reference cycle), so that a closed hook goes with its last reference rather than at a
        full collection: a triggerer ending thousands of triggers, each with its hook, would
        stall on that collection. Built again if the hook is used again."""

    async def __aenter__(self) -> Self:
        self._closed_on.discard(current_state())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    run_sync: Final = staticmethod(run_sync)

    @property
    def sync(self) -> BaseSync:
        """Blocking twins of this hook's coroutine methods, run on the shared loop thread."""
        return BaseSync(self)

    def stats(self) -> dict[str, Any]:
        """A snapshot of this hook's counters: calls, retries, throttled, errors, clients..."""
        return self._stats.snapshot(self.provider)

    @abstractmethod
    async def wait_for_job(self, *args: Any, **kwargs: Any) -> JobResult:
        """Wait until a job is terminal; see each provider for its arguments."""

    # ------------------------------------------------------------------ provider hooks

    @abstractmethod
    def _client_key(self, service: str) -> Hashable:
        """The connection identity: equal keys share one client on a loop. No raw secrets."""

    @abstractmethod
    async def _create_client(self, service: str) -> ClientT:
        """Build a client; called inside the loop, once per key."""

    @abstractmethod
    async def _close_client(self, client: ClientT) -> None:
        """Close a client built by ``_create_client``, on the loop that owns it."""

    @abstractmethod
    def _map_error(self, error: Exception, service: str, operation: str) -> BaseException:
        """The provider's one mapping of SDK errors to async_hooks errors (or ``error``)."""

    @abstractmethod
    def _throttle_scope(self, service: str) -> str:
        """What one throttle covers: AWS service+region, an HTTP host:port..."""

    # ------------------------------------------------------------------ the pipeline

    def _loop_state(self) -> LoopState:
        state = current_state()
        if state in self._closed_on:
            raise self._closed_error()
        return state

    def _closed_error(self) -> HookClosedError:
        return HookClosedError(
            f"{type(self).__name__} was closed on this event loop; use 'async with hook:'"
            " to open it again"
        )

    def _throttle(self, state: LoopState, service: str) -> AdaptiveThrottle:
        scope = self._throttle_scope(service)
        concurrency = self.max_concurrency or self.default_max_concurrency
        key = (self.provider, scope, concurrency, self.rate_limit)

        def build() -> AdaptiveThrottle:
            budget = self.retry_policy.budget
            return AdaptiveThrottle(
                f"{self.provider}:{scope}",
                max_concurrency=concurrency,
                rate_limit=self.rate_limit,
                budget=RetryBudget(budget) if budget is not None else None,
            )

        return state.throttle(key, build)

    async def _client(self, service: str) -> ClientT:
        client: ClientT = await self._loop_state().clients.get(
            self._client_key(service),
            self._user,
            lambda: self._create_client(service),
            self._close_client,
            self._client_created,
        )
        return client

    def _client_created(self) -> None:
        self._stats.clients_created += 1

    async def _call(
        self,
        service: str,
        operation: str,
        fn: Callable[[ClientT], Awaitable[R]],
        *,
        idempotent: bool = True,
    ) -> R:
        """Run ``fn(client)`` through throttle, retry, cache, error mapping and stats.

        The first attempt runs straight through the throttle and the cached client; tenacity
        is entered only after a retryable failure, and replays that failure as its own first
        attempt (``_again``), so that its stop (``max_attempts`` counts the first request,
        the budget pays per retry), wait, before-sleep and statistics see every request.
        """
        state = self._loop_state()
        throttle = self._throttle(state, service)
        op_stats = self._stats.op(service, operation)
        op_stats.calls += 1
        otel = op_stats.otel
        if otel is not None:
            otel.call()
        try:
            try:
                return await _attempt(self, throttle, service, operation, fn, op_stats)
            except ServiceError as error:
                if not is_retryable(error, idempotent=idempotent):
                    raise
                seen: list[BaseException] = [error]
            # Outside the ``except`` block: later errors must not chain the first as context.
            retrying = throttle.retrying(self.retry_policy, idempotent=idempotent).copy()
            args = (self, throttle, service, operation, fn, op_stats, seen)
            result: R = await retrying(_again, *args)
            return result
        except asyncio.CancelledError:
            raise
        except BaseException:
            op_stats.errors += 1
            if otel is not None:
                otel.error()
            raise

    def _mapped(self, error: Exception, service: str, operation: str) -> BaseException:
        """``error`` as the provider maps it, chained to it, with secrets masked throughout
        (a printed traceback shows its causes too). Raise the result outside any ``except``
        block, so Python does not chain the unmasked original again as ``__context__``."""
        mapped = self._map_error(error, service, operation)
        if mapped is not error:
            mapped.__cause__ = error
            mapped.__suppress_context__ = True
        scrub_exception(mapped, self._redact)
        return mapped

    def _wait(
        self,
        plan: PollPlan,
        timing: PollTiming,
        on_status: OnStatus | None = None,
        job_id: str | None = None,
    ) -> Coroutine[Any, None, JobResult]:
        """Wait on job ``job_id`` (by default the plan's own) of ``plan`` (await the result): in
        the loop's shared schedule for ``plan.batch.key`` when it has a ``batch``, alone
        otherwise. A failure reason is the provider's text, masked: a server may echo the
        credentials. ``on_status`` is told each status the wait sees, in order
        (``progress.py``).

        Callable off any loop (``asyncio.run(hook.wait_for_job(...))``): what needs the running
        loop, the closed check and the loop's schedules, is done when the wait is first awaited.
        A shared wait is not a coroutine itself (one frame less for each of thousands of
        sleeping waits); a lone one, or one counted in ``async_hooks.waits.active`` with
        metrics on, runs in one."""
        on_status = checked(on_status)
        gauge = wait_metrics(self.provider, plan.kind)
        if plan.batch is not None and gauge is None:
            return wait_until_done(
                plan,
                timing,
                redact=self._redact,
                schedules=self,
                owner=self._user,
                on_status=on_status,
                job_id=job_id,
            )
        return self._wait_on_loop(plan, timing, on_status, job_id, gauge)

    async def _wait_on_loop(
        self,
        plan: PollPlan,
        timing: PollTiming,
        on_status: OnStatus | None,
        job_id: str | None,
        gauge: WaitMetrics | None,
    ) -> JobResult:
        wait = wait_until_done(
            plan,
            timing,
            redact=self._redact,
            schedules=self._loop_schedules(),
            owner=self._user,
            on_status=on_status,
            job_id=job_id,
        )
        return await (wait if gauge is None else counted(wait, gauge))

    def _loop_schedules(self) -> Schedules:
        """The running loop's poll schedules (``ScheduleSource``); ``HookClosedError`` if this
        hook was closed on it."""
        return self._loop_state().memo(_SCHEDULES, Schedules)

    async def _shared(self, key: Hashable, build: Callable[[], Awaitable[R]]) -> R:
        """This loop's one value for ``key`` (``LoopState.shared``: built once however many
        ask, a failed build forgotten), held for this hook: it goes (closed with its
        ``aclose``, if any) when the last hook that asked for it closes, or with the loop."""
        return await self._loop_state().shared(key, build, user=self._user)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} conn_id={self.conn_id!r}>"


async def _attempt(
    hook: AsyncBaseHook[ClientT],
    throttle: AdaptiveThrottle,
    service: str,
    operation: str,
    fn: Callable[[ClientT], Awaitable[R]],
    op_stats: OperationStats,
) -> R:
    """One attempt: admitted by the throttle, on the cached client, errors mapped."""
    ticket = await throttle.acquire()
    op_stats.attempts += 1
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        failure: BaseException | None = None
        try:
            client = await hook._client(service)
            result = await fn(client)
        except asyncio.CancelledError:
            raise
        except HookError as error:  # mapped inside ``fn`` (a REST exchange): mask its causes
            scrub_exception(error, hook._redact)
            raise
        except Exception as error:
            failure = hook._mapped(error, service, operation)
        if failure is not None:
            raise failure
    except ServiceError as error:
        if isinstance(error, ThrottledError):
            op_stats.throttled += 1
            if op_stats.otel is not None:
                op_stats.otel.throttled()
            throttle.record_throttled(ticket)
        raise
    else:
        throttle.record_success(ticket)
        return result
    finally:
        throttle.release(ticket)
        latency = loop.time() - started
        op_stats.latency_total += latency
        op_stats.latency_max = max(op_stats.latency_max, latency)
        if op_stats.otel is not None:
            op_stats.otel.duration(latency)


async def _again(
    hook: AsyncBaseHook[ClientT],
    throttle: AdaptiveThrottle,
    service: str,
    operation: str,
    fn: Callable[[ClientT], Awaitable[R]],
    op_stats: OperationStats,
    seen: list[BaseException],
) -> R:
    """tenacity's attempt function: its first call re-raises the failure ``_call`` already
    saw (so tenacity counts that request as attempt 1), every later call is a real attempt.
    ``_log_retry`` reads the first four arguments."""
    if seen:
        raise seen.pop()
    return await _attempt(hook, throttle, service, operation, fn, op_stats)


class _HookUser:
    """The identity a hook holds cached clients under (hooks themselves may be unhashable)."""

    __slots__ = ("number",)

    def __init__(self, number: int) -> None:
        self.number = number

    def __repr__(self) -> str:
        return f"<hook user {self.number}>"


class BaseSync(SyncFacade["AsyncBaseHook"]):
    """``hook.sync`` for every hook."""

    __slots__ = ()

    close: Final = blocking(AsyncBaseHook.close)
    if not TYPE_CHECKING:
        # Each provider's facade declares its own twin, with its signature: declared here too,
        # its (*args, **kwargs) would be what type checkers infer for every provider's.
        wait_for_job = blocking(AsyncBaseHook.wait_for_job)
