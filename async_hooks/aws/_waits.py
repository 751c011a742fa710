"""AWS waits described for the core: a job kind and an id become a ``PollPlan``, with a
``BatchDescribe`` where the kind's API describes many jobs at once.

The provider only describes; the core's ``_wait`` decides to poll alone or in the loop's shared
schedule. A kind without a batch-describe operation still joins the shared schedule, its ids
described one call each, so that concurrent waits on the same id share one poll. A batch call the
server does not implement (moto's Athena answers ``BatchGetQueryExecution`` with a bare HTML 500,
which botocore reports with the code "500"; a real AWS 5xx names its error code and means "try
again") is reported to the schedule as ``BatchUnsupported``. What every wait of one kind and
identifiers on one hook shares (its fetchers, its ``finish`` step, the kind's readers) is built
once per hook, not once per wait. A batch describe of a JSON protocol takes the status path
(``_status.py``): its answer's raw bytes are read for the verdicts only, and a job is built in
full when its wait wakes.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, TypeVar

from async_hooks._core.plan import BatchDescribe, BatchUnsupported, PollPlan
from async_hooks.aws import _glue
from async_hooks.aws._errors import AwsNotFoundError, without_answer
from async_hooks.aws._readers import Readers
from async_hooks.aws.kinds import JobKind
from async_hooks.errors import ServiceError

__all__ = ["UNSUPPORTED_CODES", "Planner", "batch_unsupported"]

#: Error codes with which a server says it does not have an operation (botocore's JSON and query
#: protocols; moto's "not yet implemented").
UNSUPPORTED_CODES = frozenset(
    {"UnknownOperationException", "InvalidAction", "NotImplemented", "UnsupportedOperation"}
)

T = TypeVar("T")

Call = Callable[..., Awaitable[dict[str, Any]]]
#: The hook's ``_call_raw``: (raw JSON body or None, parsed answer, service model).
RawCall = Callable[
    [str, str, Mapping[str, Any]], Awaitable[tuple[bytes | None, dict[str, Any], Any]]
]
Shared = Callable[[Hashable, Callable[[], Awaitable[Any]]], Awaitable[Any]]


class _Kit:
    """What the waits of one kind and identifiers on one hook share."""

    __slots__ = ("batch", "finish", "identifiers", "plan", "reason_of", "spec", "status_of")

    def __init__(
        self,
        spec: JobKind,
        batch: BatchDescribe,
        finish: Callable[[Any, str], Awaitable[Any]] | None,
        identifiers: Mapping[str, Any],
    ) -> None:
        self.spec = spec
        self.identifiers = identifiers  # one copy for all its waits, not one dict per wait
        self.batch = batch
        self.finish = finish
        self.status_of = spec.status_of
        self.reason_of = spec.reason_of
        #: The plan of every coalesced wait of the kit (each wait carries its job's id).
        self.plan = PollPlan(
            spec.name,
            "",
            None,
            spec.status_of,
            spec.success,
            spec.failure,
            spec.reason_of,
            spec.verdict,
            batch,
            finish,
        )


class _DescribeOne:
    """The describe call of a wait that polls alone (``coalesce=False``; a coalesced plan's
    batch describes its job alone instead): one small object per wait."""

    __slots__ = ("identifiers", "job_id", "planner", "spec")

    def __init__(
        self, planner: Planner, spec: JobKind, job_id: str, identifiers: Mapping[str, Any]
    ) -> None:
        self.planner = planner
        self.spec = spec
        self.job_id = job_id
        self.identifiers = identifiers

    def __call__(self) -> Awaitable[dict[str, Any]]:
        return self.planner.describe_one(self.spec, self.job_id, self.identifiers)


class Planner:
    """Builds one hook's wait plans; it is also the ``KindContext`` its job kinds talk to.

    ``call`` is the hook's ``call``, ``shared`` its loop memo, ``identity`` the connection
    identity (what a memoised description is shared by) and ``client_key`` the hook's client
    key per service (what a shared schedule is shared by: one connection's waits only).
    """

    __slots__ = ("_call", "_client_key", "_identity", "_kits", "_raw", "_readers", "_shared")

    def __init__(
        self,
        call: Call,
        shared: Shared,
        identity: Callable[[], Hashable],
        client_key: Callable[[str], Hashable],
        raw: RawCall | None = None,
    ) -> None:
        self._call = call
        self._shared = shared
        self._identity = identity
        self._client_key = client_key
        self._raw = raw
        self._kits: dict[tuple[str, tuple[tuple[str, str], ...]], _Kit] = {}
        self._readers = Readers()

    def forget(self) -> None:
        """Drop the kits (each holds this planner's bound methods: a cycle through
        ``_kits``); plans already made keep theirs."""
        self._kits.clear()

    # ------------------------------------------------------------------ KindContext

    async def call(self, service: str, operation: str, /, **params: Any) -> dict[str, Any]:
        return await self._call(service, operation, **params)

    async def shared(self, key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
        value: T = await self._shared(("aws-kind", self._identity(), key), build)
        return value

    # ------------------------------------------------------------------ plans

    def plan(
        self, spec: JobKind, job_id: str, identifiers: Mapping[str, Any], *, coalesce: bool
    ) -> PollPlan:
        """The plan of a wait on ``job_id`` (``identifiers`` already checked by ``spec.check``):
        a coalesced wait's is its kit's, shared by every such wait (its ``job_id`` is ``""``:
        the wait carries the id), one that polls alone has its own."""
        frozen = tuple(sorted((k, repr(v)) for k, v in identifiers.items())) if identifiers else ()
        kit = self._kits.get((spec.name, frozen))
        if kit is None or kit.spec is not spec:  # new, or the kind was registered anew
            kit = self._kits[spec.name, frozen] = self._kit(spec, dict(identifiers), frozen)
        if coalesce:
            return kit.plan
        return PollPlan(
            spec.name,
            job_id,
            _DescribeOne(self, spec, job_id, kit.identifiers),
            kit.status_of,
            spec.success,
            spec.failure,
            kit.reason_of,
            spec.verdict,
            None,
            kit.finish,
        )

    async def describe_one(
        self, spec: JobKind, job_id: str, identifiers: Mapping[str, Any]
    ) -> dict[str, Any]:
        """One job described alone; ``NotFoundError`` when the answer does not list it."""
        try:
            answer = await self._call(
                spec.service, spec.describe, **spec.params(job_id, identifiers)
            )
        except ServiceError as error:
            if error.code is not None and error.code in spec.not_yet:
                return dict(spec.not_yet[error.code])  # "not there yet" (SSM's invocations)
            raise
        item = spec.item(answer, job_id)
        if item is None:
            raise without_answer(
                AwsNotFoundError,
                f"{spec.service}.{spec.describe} does not list {spec.name} job {job_id!r}",
                code="NotFound",
                operation=spec.describe,
            )
        return item

    def _kit(
        self, spec: JobKind, identifiers: dict[str, Any], frozen: tuple[tuple[str, str], ...]
    ) -> _Kit:
        key = ("aws", self._client_key(spec.service), spec.name, frozen)
        many = functools.partial(self._fetch_many, spec, identifiers)
        batch = BatchDescribe(
            key=key,
            batch_max=spec.batch_max if spec.coalescable else 1,
            fetch_many=many if spec.coalescable else None,
            fetch_one=functools.partial(self._fetch_one, spec, identifiers),
        )
        finish = None
        if spec.enrich is not None:
            finish = functools.partial(self._finish, spec)
        return _Kit(spec, batch, finish, identifiers)

    async def _fetch_many(
        self, spec: JobKind, identifiers: Mapping[str, Any], job_ids: list[str]
    ) -> Mapping[str, Any]:
        fast = self._raw is not None and Readers.may_serve(spec)
        try:
            if spec.batch_fetch is _glue.recent_runs and fast:
                return await self._glue_pages(spec, job_ids, identifiers)
            if spec.batch_fetch is not None:
                return await spec.batch_fetch(self, job_ids, identifiers)
            params = spec.batch_params(job_ids, identifiers)
            operation = spec.batch_describe or spec.describe
            if not fast:
                return spec.batch_items(
                    await self._call(spec.service, operation, **params), job_ids
                )
            answer = await self._raw_call(spec.service, operation, params)
        except ServiceError as error:
            if batch_unsupported(error):
                raise BatchUnsupported(error) from None
            raise
        return self._readers.items(spec, operation, answer, job_ids)[0]

    async def _glue_pages(
        self, spec: JobKind, run_ids: list[str], identifiers: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """``_glue.recent_runs`` on the status path: the same pages, read for the verdict."""
        wanted, found = set(run_ids), dict[str, Any]()
        params: dict[str, Any] = {"JobName": identifiers["job_name"]}
        params["MaxResults"] = _glue.GLUE_PAGE
        for _ in range(_glue.GLUE_MAX_PAGES):
            answer = await self._raw_call("glue", "get_job_runs", params)
            items, token = self._readers.items(spec, "get_job_runs", answer, wanted)
            found.update(items)
            if not token or len(found) == len(wanted):
                break
            params["NextToken"] = token
        return found

    async def _raw_call(
        self, service: str, operation: str, params: Mapping[str, Any]
    ) -> tuple[bytes | None, dict[str, Any], Any]:
        assert self._raw is not None
        return await self._raw(service, operation, dict(params))

    async def _fetch_one(
        self, spec: JobKind, identifiers: Mapping[str, Any], job_id: str
    ) -> dict[str, Any]:
        return await self.describe_one(spec, job_id, identifiers)

    async def _finish(self, spec: JobKind, item: dict[str, Any], status: str) -> dict[str, Any]:
        """A kind's ``enrich`` step, once its job is in a ``terminal`` state."""
        if spec.enrich is None or status not in spec.terminal:
            return item
        return await spec.enrich(self, item)


def batch_unsupported(error: ServiceError) -> bool:
    """Whether ``error`` says the server lacks the operation, rather than "try again": a code
    that says so, or a 5xx without an AWS error code (botocore then reports the status as the
    code: moto's HTML "not yet implemented" page)."""
    code = error.code
    if code in UNSUPPORTED_CODES:
        return True
    status = error.status or 0
    return status >= 500 and (code is None or code == str(status))
