"""AWS job kinds: one small declarative table each, and a registry users can add to.

A kind says which operation describes a job, which parameter takes its id, where the job sits in
the answer, where its status and failure reason are, which states end it, and (for poll
coalescing) which operation describes many jobs at once and how many.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from async_hooks._core.paths import MISSING, lookup
from async_hooks.errors import HookConfigError

if TYPE_CHECKING:
    from async_hooks.aws.hook import AsyncAwsHook

__all__ = ["JobKind", "get_job_kind", "job_kinds", "register_job_kind"]

Enricher = Callable[["AsyncAwsHook", dict[str, Any]], Awaitable[dict[str, Any]]]
BatchFetcher = Callable[
    ["AsyncAwsHook", list[str], Mapping[str, Any]], Awaitable[dict[str, dict[str, Any]]]
]


@dataclass(frozen=True)
class JobKind:
    """How to wait on one kind of AWS job.

    ``item_path`` locates the job in the describe answer: ``""`` is the answer itself, a path to
    a dict is the job, a path to a list is searched for the item whose ``item_id_path`` equals
    (or, for ARNs, ends with) the id. ``identifiers`` maps required keyword arguments of
    ``wait_for_job`` to API parameters (Glue's ``job_name=`` -> ``JobName``). ``verdict`` decides
    success (True), failure (False) or not yet (None) when the states alone cannot (ECS);
    ``enrich`` adds what the verdict needs once the job is in a ``terminal`` state.
    ``batch_fetch`` replaces the one-call batch describe where the API has no describe-by-ids
    and lists recent jobs instead (Glue's ``GetJobRuns``).
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
        """The answer's items by the id each was asked for (ARNs match their short ids)."""
        items = lookup(answer, self.batch_item_path or self.item_path)
        id_path = self.batch_item_id_path or self.item_id_path or ""
        by_value: dict[str, dict[str, Any]] = {}
        for entry in items if isinstance(items, list) else []:
            value = lookup(entry, id_path)
            if isinstance(value, str):
                by_value[value] = dict(entry)
        found: dict[str, dict[str, Any]] = {}
        for job_id in job_ids:
            if job_id in by_value:
                found[job_id] = by_value[job_id]
                continue
            suffix = f"/{job_id}"
            for value, entry in by_value.items():
                if value.endswith(suffix):
                    found[job_id] = entry
                    break
        return found

    def params(self, job_id: str, identifiers: Mapping[str, Any]) -> dict[str, Any]:
        """The describe call's parameters; names missing or unknown identifiers."""
        if not isinstance(job_id, str) or not job_id:
            raise HookConfigError(f"{self.name} job id must be a non-empty string")
        missing = sorted(set(self.identifiers) - set(identifiers))
        unknown = sorted(set(identifiers) - set(self.identifiers))
        if missing or unknown:
            wanted = ", ".join(f"{k}=" for k in self.identifiers) or "no identifiers"
            raise HookConfigError(
                f"{self.name} waits take {wanted}; missing {missing}, unknown {unknown}"
            )
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
        value = lookup(item, self.status_path)
        return "UNKNOWN" if value is MISSING or value is None else str(value)

    def reason_of(self, item: dict[str, Any]) -> str | None:
        parts = []
        for path in self.reason_paths:
            value = lookup(item, path)
            if value is not MISSING and value not in (None, ""):
                parts.append(str(value))
        return ": ".join(parts) or None


_REGISTRY: dict[str, JobKind] = {}


def register_job_kind(kind: JobKind, *, replace: bool = False) -> None:
    """Make ``kind`` available to ``AsyncAwsHook.wait_for_job(kind.name, ...)``."""
    if not isinstance(kind, JobKind):
        raise HookConfigError("register_job_kind takes a JobKind")
    if kind.name in _REGISTRY and not replace:
        raise HookConfigError(f"job kind {kind.name!r} exists; pass replace=True to replace it")
    _REGISTRY[kind.name] = kind


def get_job_kind(name: str) -> JobKind:
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise HookConfigError(
            f"unknown AWS job kind {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None


def job_kinds() -> dict[str, JobKind]:
    """A copy of the registry."""
    return dict(_REGISTRY)


#: ``stoppedReason`` of a task whose host went away: no container exit code says so (Airflow's
#: ``EcsRunTaskOperator`` fails these too).
_ECS_HOST_GONE = re.compile(r"Host EC2 \(instance .+?\) (stopped|terminated)\.")


def _ecs_verdict(task: dict[str, Any], status: str) -> bool | None:
    """STOPPED is a success only if the task started, its host did not go away, and it ran
    containers of which every essential one exited 0 (Airflow's verdict). A task that failed
    to start (``stopCode`` ``TaskFailedToStart``, no containers) failed, with its reason."""
    if status != "STOPPED":
        return None
    if task.get("stopCode") == "TaskFailedToStart":
        return False
    if _ECS_HOST_GONE.match(str(task.get("stoppedReason") or "")):
        return False
    containers = task.get("containers") or []
    if not containers:
        return False
    essential = task.get("_essential") or {}
    for container in containers:
        if essential.get(container.get("name"), True) and container.get("exitCode") != 0:
            return False
    return True


async def _ecs_essential(hook: AsyncAwsHook, task: dict[str, Any]) -> dict[str, Any]:
    """Add which containers are essential (the task definition says; default: all)."""
    arn = task.get("taskDefinitionArn")
    if arn:
        task["_essential"] = await hook._essential_containers(arn)
    failing = [
        f"{c.get('name')} exit {c.get('exitCode')}"
        for c in task.get("containers") or []
        if task.get("_essential", {}).get(c.get("name"), True) and c.get("exitCode") != 0
    ]
    if failing:
        task["_failing"] = ", ".join(failing)
    elif not task.get("containers") and not task.get("stoppedReason"):
        task["_failing"] = str(task.get("stopCode") or "no container ran")
    return task


#: GetJobRuns' largest page, and how many pages one poll of the runs of a job may read: 1,000
#: runs, Glue's limit of concurrent runs per job, so the runs being waited on (running, hence
#: among the newest) are all within reach.
GLUE_PAGE = 200
GLUE_MAX_PAGES = 5


async def _glue_recent_runs(
    hook: AsyncAwsHook, run_ids: list[str], identifiers: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Glue has no describe-by-ids for runs; ``GetJobRuns`` lists a job's runs, newest first.
    Pages are read until every run asked for is found (at most ``GLUE_MAX_PAGES``); a run they
    miss is polled alone with ``GetJobRun``."""
    wanted, found = set(run_ids), {}
    params: dict[str, Any] = {"JobName": identifiers["job_name"], "MaxResults": GLUE_PAGE}
    for _ in range(GLUE_MAX_PAGES):
        answer = await hook.call("glue", "get_job_runs", **params)
        for run in answer.get("JobRuns", []):
            if run.get("Id") in wanted:
                found[run["Id"]] = run
        token = answer.get("NextToken")
        if not token or len(found) == len(wanted):
            break
        params["NextToken"] = token
    return found


def _states(*names: str) -> frozenset[str]:
    return frozenset(names)


for _kind in (
    JobKind(
        "batch", "batch", "describe_jobs", "jobs", "jobs", "status",
        _states("SUCCEEDED"), _states("FAILED"), ("statusReason",),
        id_is_list=True, item_id_path="jobId", batch_describe="describe_jobs", batch_max=100,
    ),
    JobKind(
        "glue", "glue", "get_job_run", "RunId", "JobRun", "JobRunState",
        _states("SUCCEEDED"), _states("FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"),
        ("ErrorMessage",), identifiers={"job_name": "JobName"},
        batch_describe="get_job_runs", batch_max=1000, batch_fetch=_glue_recent_runs,
    ),
    JobKind(
        "athena", "athena", "get_query_execution", "QueryExecutionId", "QueryExecution",
        "Status.State", _states("SUCCEEDED"), _states("FAILED", "CANCELLED"),
        ("Status.StateChangeReason",),
        batch_describe="batch_get_query_execution", batch_max=50,
        batch_id_param="QueryExecutionIds", batch_item_path="QueryExecutions",
        batch_item_id_path="QueryExecutionId",
    ),
    JobKind(
        "ecs", "ecs", "describe_tasks", "tasks", "tasks", "lastStatus",
        frozenset(), frozenset(), ("stoppedReason", "_failing"),
        id_is_list=True, item_id_path="taskArn", identifiers={"cluster": "cluster"},
        batch_describe="describe_tasks", batch_max=100, terminal=_states("STOPPED"),
        verdict=_ecs_verdict, enrich=_ecs_essential,
    ),
    JobKind(
        "stepfunctions", "stepfunctions", "describe_execution", "executionArn", "", "status",
        _states("SUCCEEDED"), _states("FAILED", "TIMED_OUT", "ABORTED"), ("error", "cause"),
    ),
    JobKind(
        "emr-step", "emr", "describe_step", "StepId", "Step", "Status.State",
        _states("COMPLETED"), _states("CANCELLED", "FAILED", "INTERRUPTED"),
        ("Status.FailureDetails.Reason", "Status.FailureDetails.Message"),
        identifiers={"cluster_id": "ClusterId"},
    ),
    JobKind(
        "sagemaker-training", "sagemaker", "describe_training_job", "TrainingJobName", "",
        "TrainingJobStatus", _states("Completed"), _states("Failed", "Stopped"),
        ("FailureReason",),
    ),
):  # fmt: skip
    register_job_kind(_kind)
