"""What a wait polls and when: the plan a provider describes, and the timing the caller gives.

A provider only *describes* a wait (``PollPlan``): how to describe the job, how to read its
status and failure reason, which states end it, and, where its API describes many jobs in one
call, a ``BatchDescribe``. The core decides how to poll it: alone (``plan.describe`` on the
wait's own schedule) or in the loop's shared schedule for ``batch.key``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from async_hooks._core.values import is_finite_number
from async_hooks.errors import HookConfigError

__all__ = [
    "DEFAULT_TIMEOUT",
    "BatchDescribe",
    "BatchUnsupported",
    "Briefs",
    "Deferred",
    "ItemSource",
    "PollPlan",
    "PollTiming",
    "poll_timing",
]

DEFAULT_TIMEOUT = 24 * 3600.0


class BatchUnsupported(Exception):
    """Raised by a ``fetch_many`` whose server does not implement the batch operation or
    refuses it as invalid (not a throttle or a transient fault, which only slow the schedule):
    the schedule describes its ids one call each from then on. ``error`` is what the server
    answered."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"the batch operation is not available: {type(error).__name__}")
        self.error = error


class ItemSource(Protocol):
    """Where a ``Deferred`` payload's bytes are (one batch answer), and how they become the
    whole payload (``build``: one function per kind and connection)."""

    build: Callable[[bytes], Any]

    def raw(self, index: int, /) -> bytes: ...


class Deferred:
    """A payload a ``fetch_many`` read only in part: ``brief`` holds what the verdict reads
    (status, reason, id), and the whole payload is built from the item's bytes only when a wait
    needs it (``full()``: a status change it reports, an end, a time-out). A tick judges the
    brief; a running job's item is never built, and a sleeping wait keeps its bytes."""

    __slots__ = ("brief", "index", "source")

    def __init__(self, brief: Any, source: ItemSource, index: int) -> None:
        self.brief = brief
        self.source = source
        self.index = index

    def data(self) -> bytes:
        """The item's own bytes (a copy: the answer they came in is not kept)."""
        return self.source.raw(self.index)

    def full(self) -> Any:
        return self.source.build(self.data())

    def __repr__(self) -> str:
        return f"<Deferred {self.brief!r}>"


class Briefs(Mapping[str, Deferred]):
    """A ``fetch_many`` answer read only in part: each listed id's ``Deferred`` payload, made
    when asked for. A tick reads ``briefs`` (id -> what the verdict reads) and asks for the
    ``Deferred`` of a job only when it tells a wait about it: a running job costs no object."""

    __slots__ = ("at", "briefs", "source")

    def __init__(self, source: ItemSource, items: list[Any], at: dict[str, int]) -> None:
        self.source = source
        self.at = at  # id -> its index in the answer's items
        self.briefs: dict[str, Any] = {job_id: items[index] for job_id, index in at.items()}

    def __getitem__(self, job_id: str) -> Deferred:
        return Deferred(self.briefs[job_id], self.source, self.at[job_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self.briefs)

    def __len__(self) -> int:
        return len(self.briefs)

    def __repr__(self) -> str:
        return f"<Briefs {self.briefs!r}>"


@dataclass(frozen=True, slots=True)
class BatchDescribe:
    """How the shared schedule describes a key's jobs.

    ``key`` names what may share a call (connection, kind, identifiers): waits with equal keys
    on one loop share their polls. ``fetch_many(ids)`` (at most ``batch_max`` ids) returns the
    payload of each id the answer lists (a ``Deferred`` where it read only what the verdict
    reads); an id it leaves out is described by ``fetch_one(id)``.
    A kind whose API has no batch call has no ``fetch_many``: each tick describes each id once
    with ``fetch_one``, spread over the group's jitter, as many at once as the throttle admits.
    Both are bound to the hook that made them: a tick calls through the fetchers of a hook that
    has a wait in the schedule. Build one per hook and key, not one per wait (equal values count
    as one).
    """

    key: Hashable
    batch_max: int
    fetch_many: Callable[[list[str]], Awaitable[Mapping[str, Any]]] | None
    fetch_one: Callable[[str], Awaitable[Any]]

    def __post_init__(self) -> None:
        if isinstance(self.batch_max, bool) or not isinstance(self.batch_max, int):
            raise HookConfigError("batch_max must be an int")
        if self.batch_max < 1:
            raise HookConfigError("batch_max must be >= 1")


@dataclass(frozen=True, slots=True)
class PollPlan:
    """What to poll and how to read it. Providers build one per wait, or share one among the
    waits of a batch key: ``job_id`` is then ``""``, each wait carrying its own id (one object
    fewer for each of thousands; ``wait_until_done(..., job_id=)``).

    ``describe`` may be None when ``batch`` is given: the batch's ``fetch_one(job_id)`` then
    describes the job alone (a coalesced wait needs no describe of its own: one object fewer
    for each of thousands). ``verdict`` overrides the status sets when a kind needs more than
    the status to decide (ECS: STOPPED is a success only if every essential container exited
    0): it returns True (success), False (failure) or None (not terminal). ``batch`` lets the
    wait share its polls with the loop's other waits of ``batch.key``. ``finish(payload,
    status)`` runs each time the wait is woken, before the verdict, and returns the payload to
    judge: what a kind needs once its job is terminal (ECS: which containers are essential) is
    fetched there, once per wake, not on every poll.
    """

    kind: str
    job_id: str
    describe: Callable[[], Awaitable[Any]] | None
    status_of: Callable[[Any], str]
    success: frozenset[str]
    failure: frozenset[str]
    reason_of: Callable[[Any], str | None]
    verdict: Callable[[Any, str], bool | None] | None = None
    batch: BatchDescribe | None = None
    finish: Callable[[Any, str], Awaitable[Any]] | None = None

    def describe_alone(self, job_id: str) -> Awaitable[Any]:
        """One describe of job ``job_id`` (this plan's own, or, for a plan its waits share, the
        wait's), alone."""
        if self.describe is not None:
            return self.describe()
        assert self.batch is not None, "a plan without a describe has a batch"
        return self.batch.fetch_one(job_id)

    def judge(self, payload: Any, status: str) -> bool | None:
        if self.verdict is not None:
            return self.verdict(payload, status)
        if status in self.success:
            return True
        if status in self.failure:
            return False
        return None


@dataclass(frozen=True, slots=True)
class PollTiming:
    """When to poll: every ``poll_interval`` seconds, multiplied by ``backoff`` after each poll up
    to ``max_poll_interval``, each sleep jittered by +/- ``jitter`` (a fraction) so that waits
    started together drift apart; give up after ``timeout`` seconds (``None``: never). In the
    shared schedule the interval picks the tick group; ``jitter`` spreads the single describes
    of kinds without a batch call (a batch call is itself the spreading)."""

    poll_interval: float = 5.0
    timeout: float | None = DEFAULT_TIMEOUT
    backoff: float = 1.0
    max_poll_interval: float = 60.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        _positive("poll_interval", self.poll_interval)
        if self.timeout is not None:
            _positive("timeout", self.timeout)
        _positive("max_poll_interval", self.max_poll_interval)
        if not is_finite_number(self.backoff) or self.backoff < 1.0:
            raise HookConfigError("backoff must be a finite number >= 1.0")
        if not is_finite_number(self.jitter) or not 0.0 <= self.jitter < 1.0:
            raise HookConfigError("jitter must be a fraction in [0, 1)")

    def next_interval(self, interval: float) -> float:
        """The interval that follows ``interval`` in the schedule: ``interval`` x ``backoff``,
        at most ``max_poll_interval``. The schedule starts at ``poll_interval``."""
        return min(interval * self.backoff, self.max_poll_interval)


@functools.lru_cache(maxsize=64, typed=True)
def _shared_timing(*args: Any) -> PollTiming:
    return PollTiming(*args)


def poll_timing(
    poll_interval: float,
    timeout: float | None,
    backoff: float,
    max_poll_interval: float,
    jitter: float,
) -> PollTiming:
    """A ``PollTiming``, one instance for every wait with the same settings (thousands of waits
    started alike hold one, not one each). Unhashable settings get their own, to be refused."""
    try:
        return _shared_timing(poll_interval, timeout, backoff, max_poll_interval, jitter)
    except TypeError:
        return PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)


def _positive(name: str, value: object) -> None:
    if not is_finite_number(value) or value <= 0:
        raise HookConfigError(f"{name} must be a finite number > 0, got {value!r}")
