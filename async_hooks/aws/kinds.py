"""AWS job kinds: one small declarative table each, and a registry users can add to.

A kind says which operation describes a job, which parameter takes its id, where the job sits in
the answer, where its status and failure reason are, which states end it, and (for the shared
schedule) which operation describes many jobs at once and how many. What a kind must fetch
beyond the describe call goes through a ``KindContext`` (calls and the loop's shared values),
never through the hook itself: ECS's task definitions (``_ecs.py``), Glue's run pages
(``_glue.py``).
"""

from __future__ import annotations

from async_hooks.aws import _ecs, _glue
from async_hooks.aws._cancel import CANCEL_REASON, CancelSpec, emr_refusal, glue_refusal
from async_hooks.aws._catalog import catalog
from async_hooks.aws._context import KindContext
from async_hooks.aws._jobkind import JobKind
from async_hooks.errors import HookConfigError

__all__ = [
    "CancelSpec",
    "JobKind",
    "KindContext",
    "get_job_kind",
    "job_kinds",
    "register_job_kind",
]


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


def _states(*names: str) -> frozenset[str]:
    return frozenset(names)


for _kind in (
    JobKind(
        name="batch",
        service="batch",
        describe="describe_jobs",
        id_param="jobs",
        id_is_list=True,
        item_path="jobs",
        item_id_path="jobId",
        status_path="status",
        success=_states("SUCCEEDED"),
        failure=_states("FAILED"),
        reason_paths=("statusReason",),
        batch_describe="describe_jobs",
        batch_max=100,
        cancel=CancelSpec("terminate_job", "jobId", fixed={"reason": CANCEL_REASON}),
    ),
    JobKind(
        name="glue",
        service="glue",
        describe="get_job_run",
        id_param="RunId",
        item_path="JobRun",
        status_path="JobRunState",
        success=_states("SUCCEEDED"),
        failure=_states("FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"),
        reason_paths=("ErrorMessage",),
        identifiers={"job_name": "JobName"},
        batch_describe="get_job_runs",
        batch_max=_glue.GLUE_PAGE * _glue.GLUE_MAX_PAGES,
        batch_item_path="JobRuns",  # in GetJobRuns pages (``_glue.recent_runs``)
        batch_item_id_path="Id",
        batch_fetch=_glue.recent_runs,
        cancel=CancelSpec("batch_stop_job_run", "JobRunIds", id_is_list=True, refusal=glue_refusal),
    ),
    JobKind(
        name="athena",
        service="athena",
        describe="get_query_execution",
        id_param="QueryExecutionId",
        item_path="QueryExecution",
        status_path="Status.State",
        success=_states("SUCCEEDED"),
        failure=_states("FAILED", "CANCELLED"),
        reason_paths=("Status.StateChangeReason",),
        batch_describe="batch_get_query_execution",
        batch_max=50,
        batch_id_param="QueryExecutionIds",
        batch_item_path="QueryExecutions",
        batch_item_id_path="QueryExecutionId",
        cancel=CancelSpec("stop_query_execution", "QueryExecutionId"),
    ),
    JobKind(
        name="ecs",
        service="ecs",
        describe="describe_tasks",
        id_param="tasks",
        id_is_list=True,
        item_path="tasks",
        item_id_path="taskArn",
        status_path="lastStatus",
        success=frozenset(),
        failure=frozenset(),
        reason_paths=("stoppedReason", "_failing"),
        identifiers={"cluster": "cluster"},
        batch_describe="describe_tasks",
        batch_max=100,
        terminal=_states("STOPPED"),
        verdict=_ecs.verdict,
        brief_paths=_ecs.VERDICT_READS,
        enrich=_ecs.stopped_task,
        cancel=CancelSpec("stop_task", "task", fixed={"reason": CANCEL_REASON}),
    ),
    JobKind(
        name="stepfunctions",
        service="stepfunctions",
        describe="describe_execution",
        id_param="executionArn",
        item_path="",
        status_path="status",
        success=_states("SUCCEEDED"),
        failure=_states("FAILED", "TIMED_OUT", "ABORTED"),
        reason_paths=("error", "cause"),
        cancel=CancelSpec("stop_execution", "executionArn", fixed={"cause": CANCEL_REASON}),
    ),
    JobKind(
        name="emr-step",
        service="emr",
        describe="describe_step",
        id_param="StepId",
        item_path="Step",
        status_path="Status.State",
        success=_states("COMPLETED"),
        failure=_states("CANCELLED", "FAILED", "INTERRUPTED"),
        reason_paths=("Status.FailureDetails.Reason", "Status.FailureDetails.Message"),
        identifiers={"cluster_id": "ClusterId"},
        batch_describe="list_steps",
        batch_max=10,  # ListSteps takes at most 10 StepIds
        batch_id_param="StepIds",
        batch_item_path="Steps",
        batch_item_id_path="Id",
        cancel=CancelSpec("cancel_steps", "StepIds", id_is_list=True, refusal=emr_refusal),
    ),
    JobKind(
        name="sagemaker-training",
        service="sagemaker",
        describe="describe_training_job",
        id_param="TrainingJobName",
        item_path="",
        status_path="TrainingJobStatus",
        success=_states("Completed"),
        failure=_states("Failed", "Stopped"),
        reason_paths=("FailureReason",),
        cancel=CancelSpec("stop_training_job", "TrainingJobName"),
    ),
):
    register_job_kind(_kind)

# The kinds of the Amazon provider's other triggers (``_catalog.py``).
for _kind in catalog():
    register_job_kind(_kind)
