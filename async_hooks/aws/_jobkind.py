"""``JobKind``: how to wait on one kind of AWS job, as a declarative row (the tables are in
``kinds.py`` and ``_catalog.py``, the registry in ``kinds.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from async_hooks._core.paths import MISSING, lookup
from async_hooks.aws._cancel import CancelSpec
from async_hooks.aws._context import KindContext
from async_hooks.errors import HookConfigError

__all__ = ["BatchFetcher", "Enricher", "JobKind", "match_ids"]

#: Adds what the verdict needs to a payload in a ``terminal`` state (ECS: essential containers).
Enricher = Callable[[KindContext, dict[str, Any]], Awaitable[dict[str, Any]]]
#: Describes many jobs where the API has no describe-by-ids (Glue: ``GetJobRuns`` pages).
BatchFetcher = Callable[
    [KindContext, list[str], Mapping[str, Any]], Awaitable[Mapping[str, dict[str, Any]]]
]


@dataclass(frozen=True)
class JobKind:
    """How to wait on one kind of AWS job.

    ``item_path`` locates the job in the describe answer: ``""`` is the answer itself, a path to
    a dict is the job, a path to a list is searched for the item whose ``item_id_path`` equals
    (or, for ARNs, ends with) the id. ``identifiers`` maps required keyword arguments of
    ``wait_for_job`` to API parameters (Glue's ``job_name=`` -> ``JobName``). ``verdict`` decides
    success (True), failure (False) or not yet (None) when the states alone cannot (ECS);
    ``enrich(context, item)`` returns the item with what the verdict needs, once the job is in
    a ``terminal`` state (once per wake-up, not per poll). ``batch_fetch(context, ids,
    identifiers)`` replaces the one-call batch describe where the API has no describe-by-ids
    and lists recent jobs instead (Glue's ``GetJobRuns``). Both talk to a ``KindContext``.
    ``not_yet`` maps error codes of the describe call that mean "not there yet" to the payload
    that stands for it (SSM's ``InvocationDoesNotExist`` right after ``SendCommand``).
    ``cancel`` says how ``cancel_job`` stops a job of the kind (None: the API cannot).
    ``brief_paths`` name what ``verdict`` reads beyond the status: the status path of batch
    describes reads the id, status, reasons and these from a JSON answer, and no more (a kind
    with a ``verdict`` and no ``brief_paths`` is read in full by botocore on every poll).
    """

    name: str
    service: str
    describe: str
    id_param: str
    item_path: str
    status_path: str
    success: frozenset[str]
    failure: frozenset[str]
    reason_paths: tuple[str, ...] = ()
    id_is_list: bool = False
    item_id_path: str | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)
    batch_describe: str | None = None
    batch_max: int = 1
    batch_id_param: str | None = None
    batch_item_path: str | None = None
    batch_item_id_path: str | None = None
    terminal: frozenset[str] = frozenset()
    verdict: Callable[[dict[str, Any], str], bool | None] | None = None
    enrich: Enricher | None = None
    batch_fetch: BatchFetcher | None = None
    not_yet: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    cancel: CancelSpec | None = None
    brief_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.success & self.failure:
            raise HookConfigError(f"job kind {self.name!r}: a state is both success and failure")
        if self.id_is_list and not self.item_id_path:
            raise HookConfigError(f"job kind {self.name!r}: list answers need item_id_path")
        if self.batch_max < 1:
            raise HookConfigError(f"job kind {self.name!r}: batch_max must be >= 1")

    @property
    def coalescable(self) -> bool:
        return self.batch_describe is not None and self.batch_max > 1

    def batch_params(self, job_ids: list[str], identifiers: Mapping[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {self.batch_id_param or self.id_param: list(job_ids)}
        for keyword, api_name in self.identifiers.items():
            params[api_name] = identifiers[keyword]
        return params

    def batch_items(self, answer: dict[str, Any], job_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The answer's items by the id each was asked for (``match_ids``). Each item is the
        answer's own dict, not a copy."""
        items = lookup(answer, self.batch_item_path or self.item_path)
        if not isinstance(items, list):
            return {}
        id_path = self.batch_item_id_path or self.item_id_path or ""
        # the parsed answer's own dicts: nothing else holds them
        return {job_id: items[i] for job_id, i in match_ids(items, id_path, job_ids).items()}

    def check(self, job_id: str, identifiers: Mapping[str, Any]) -> None:
        """Refuse an empty job id, and name missing or unknown identifiers (once per wait: the
        usual case, the right names, costs one comparison of key views)."""
        if not isinstance(job_id, str) or not job_id:
            raise HookConfigError(f"{self.name} job id must be a non-empty string")
        if identifiers.keys() == self.identifiers.keys():
            return
        missing = sorted(set(self.identifiers) - set(identifiers))
        unknown = sorted(set(identifiers) - set(self.identifiers))
        wanted = ", ".join(f"{k}=" for k in self.identifiers) or "no identifiers"
        raise HookConfigError(
            f"{self.name} waits take {wanted}; missing {missing}, unknown {unknown}"
        )

    def params(self, job_id: str, identifiers: Mapping[str, Any]) -> dict[str, Any]:
        """The describe call's parameters; names missing or unknown identifiers."""
        self.check(job_id, identifiers)
        params: dict[str, Any] = {self.id_param: [job_id] if self.id_is_list else job_id}
        for keyword, api_name in self.identifiers.items():
            params[api_name] = identifiers[keyword]
        return params

    def item(self, answer: dict[str, Any], job_id: str) -> dict[str, Any] | None:
        """The job's entry in a describe answer, or None when the answer does not list it."""
        found = lookup(answer, self.item_path) if self.item_path else answer
        if isinstance(found, list):
            for entry in found:
                value = lookup(entry, self.item_id_path or "")
                if isinstance(value, str) and (value == job_id or value.endswith(f"/{job_id}")):
                    return dict(entry)
            return None
        return dict(found) if isinstance(found, Mapping) else None

    def status_of(self, item: dict[str, Any]) -> str:
        path = self.status_path
        # every poll of every job: a member of a dict is read without splitting its path
        plain = type(item) is dict and "." not in path
        value = item.get(path) if plain else lookup(item, path)
        return "UNKNOWN" if value is MISSING or value is None else str(value)

    def reason_of(self, item: dict[str, Any]) -> str | None:
        parts = []
        for path in self.reason_paths:
            value = lookup(item, path)
            if value is not MISSING and value not in (None, ""):
                parts.append(str(value))
        return ": ".join(parts) or None


def match_ids(items: list[Any], id_path: str, job_ids: Iterable[str]) -> dict[str, int]:
    """Where each asked id is in ``items`` (ARNs match their short ids: every part after a
    ``/`` is indexed too, so a chunk of 1,000 ids costs 1,000 look-ups, not a scan of the
    answer per id). Ids the answer does not list are left out."""
    plain = "." not in id_path  # a member of the item (every kind's): no split per item
    values = [
        entry.get(id_path) if plain and type(entry) is dict else lookup(entry, id_path)
        for entry in items
    ]
    by_value = {value: index for index, value in enumerate(values) if isinstance(value, str)}
    found: dict[str, int] = {}
    short: list[str] = []  # not listed by its own value: an ARN may list it (built if needed)
    for job_id in job_ids:
        at = by_value.get(job_id)
        if at is None:
            short.append(job_id)
        else:
            found[job_id] = at
    if short:
        by_suffix: dict[str, int] = {}
        for index, value in enumerate(values):
            if isinstance(value, str):
                slash = value.find("/")
                while slash >= 0:
                    by_suffix.setdefault(value[slash + 1 :], index)
                    slash = value.find("/", slash + 1)
        for job_id in short:
            at = by_suffix.get(job_id)
            if at is not None:
                found[job_id] = at
    return found
