"""The job kinds of the Amazon provider's deferrable triggers beyond the first seven, judged as
the provider judges them (its waiters' acceptors; ``tests/with_airflow/test_verdict_drift.py``
checks they agree). Each shape follows botocore's service model: the describe operation, its id
parameter, where the job, its status and its failure reason sit. ``kinds.py`` registers them.
"""

from __future__ import annotations

from typing import Any

from async_hooks.aws._cancel import CancelSpec
from async_hooks.aws._context import KindContext
from async_hooks.aws._jobkind import JobKind

__all__ = ["catalog", "codebuild_reason", "crawler_verdict"]

#: CodeBuild's states that end a build, and the phase states that say which phase failed.
_CODEBUILD_FAILED = frozenset({"FAILED", "FAULT", "STOPPED", "TIMED_OUT"})


def crawler_verdict(crawler: dict[str, Any], status: str) -> bool | None:
    """A crawler is done when READY again: its last crawl FAILED or CANCELLED is a failure
    (Airflow's ``crawler_ready`` waiter), any other last crawl a success."""
    if status != "READY":
        return None
    last = (crawler.get("LastCrawl") or {}).get("Status")
    return last not in ("FAILED", "CANCELLED")


async def codebuild_reason(context: KindContext, build: dict[str, Any]) -> dict[str, Any]:
    """An ended build with ``_failing``: the failing phases' ``contexts[].message`` (a copy)."""
    del context  # nothing to fetch: the reason is in the build
    failing = []
    for phase in build.get("phases") or []:
        if phase.get("phaseStatus") in _CODEBUILD_FAILED:
            messages = [
                str(c.get("message"))
                for c in phase.get("contexts") or []
                if c.get("message") not in (None, "")
            ]
            text = "; ".join(messages) or str(phase.get("phaseStatus"))
            failing.append(f"{phase.get('phaseType')}: {text}")
    build = dict(build)
    if failing:
        build["_failing"] = ", ".join(failing)
    return build


def _states(*names: str) -> frozenset[str]:
    return frozenset(names)


def catalog() -> tuple[JobKind, ...]:
    """The kinds, registered by ``kinds.py``."""
    return (
        JobKind(
            name="emr-serverless",
            service="emr-serverless",
            describe="get_job_run",
            id_param="jobRunId",
            identifiers={"application_id": "applicationId"},
            item_path="jobRun",
            status_path="state",
            success=_states("SUCCESS"),
            failure=_states("FAILED", "CANCELLED"),
            reason_paths=("stateDetails",),
            cancel=CancelSpec("cancel_job_run", "jobRunId"),
        ),
        JobKind(
            name="emr-containers",
            service="emr-containers",
            describe="describe_job_run",
            id_param="id",
            identifiers={"virtual_cluster_id": "virtualClusterId"},
            item_path="jobRun",
            status_path="state",
            success=_states("COMPLETED"),
            failure=_states("FAILED", "CANCELLED"),
            reason_paths=("failureReason", "stateDetails"),
            cancel=CancelSpec("cancel_job_run", "id"),
        ),
        JobKind(
            name="glue-crawler",
            service="glue",
            describe="get_crawler",
            id_param="Name",
            item_path="Crawler",
            item_id_path="Name",
            status_path="State",
            success=frozenset(),
            failure=frozenset(),
            verdict=crawler_verdict,
            brief_paths=("LastCrawl.Status",),
            reason_paths=("LastCrawl.Status", "LastCrawl.ErrorMessage"),
            batch_describe="batch_get_crawlers",
            batch_max=100,
            batch_id_param="CrawlerNames",
            batch_item_path="Crawlers",
            batch_item_id_path="Name",
            cancel=CancelSpec("stop_crawler", "Name"),
        ),
        JobKind(
            name="sagemaker-processing",
            service="sagemaker",
            describe="describe_processing_job",
            id_param="ProcessingJobName",
            item_path="",
            status_path="ProcessingJobStatus",
            success=_states("Completed"),
            failure=_states("Failed", "Stopped"),
            reason_paths=("FailureReason",),
            cancel=CancelSpec("stop_processing_job", "ProcessingJobName"),
        ),
        JobKind(
            name="sagemaker-transform",
            service="sagemaker",
            describe="describe_transform_job",
            id_param="TransformJobName",
            item_path="",
            status_path="TransformJobStatus",
            success=_states("Completed"),
            failure=_states("Failed", "Stopped"),
            reason_paths=("FailureReason",),
            cancel=CancelSpec("stop_transform_job", "TransformJobName"),
        ),
        JobKind(
            name="sagemaker-pipeline",
            service="sagemaker",
            describe="describe_pipeline_execution",
            id_param="PipelineExecutionArn",
            item_path="",
            status_path="PipelineExecutionStatus",
            success=_states("Succeeded"),
            failure=_states("Failed", "Stopped", "CompletedWithFailures"),
            reason_paths=("FailureReason",),
            cancel=CancelSpec(
                "stop_pipeline_execution", "PipelineExecutionArn", token_param="ClientRequestToken"
            ),
        ),
        JobKind(
            name="redshift-data",
            service="redshift-data",
            describe="describe_statement",
            id_param="Id",
            item_path="",
            status_path="Status",
            success=_states("FINISHED"),
            failure=_states("FAILED", "ABORTED"),
            reason_paths=("Error",),
            cancel=CancelSpec(
                "cancel_statement",
                "Id",
                refusal=lambda answer: (
                    ("CancelStatementRefused", "the statement was not cancelled")
                    if answer.get("Status") is False
                    else None
                ),
            ),
        ),
        JobKind(
            name="bedrock-customization",
            service="bedrock",
            describe="get_model_customization_job",
            id_param="jobIdentifier",
            item_path="",
            status_path="status",
            success=_states("Completed"),
            failure=_states("Failed", "Stopping", "Stopped"),
            reason_paths=("failureMessage",),
            cancel=CancelSpec("stop_model_customization_job", "jobIdentifier"),
        ),
        JobKind(
            name="bedrock-batch-inference",
            service="bedrock",
            describe="get_model_invocation_job",
            id_param="jobIdentifier",
            item_path="",
            status_path="status",
            success=_states("Completed"),
            failure=_states("Failed", "Stopping", "Stopped", "PartiallyCompleted", "Expired"),
            reason_paths=("message",),
            cancel=CancelSpec("stop_model_invocation_job", "jobIdentifier"),
        ),
        JobKind(
            name="comprehend-pii",
            service="comprehend",
            describe="describe_pii_entities_detection_job",
            id_param="JobId",
            item_path="PiiEntitiesDetectionJobProperties",
            status_path="JobStatus",
            success=_states("COMPLETED"),
            failure=_states("FAILED", "STOP_REQUESTED", "STOPPED"),
            reason_paths=("Message",),
            cancel=CancelSpec("stop_pii_entities_detection_job", "JobId"),
        ),
        JobKind(
            name="ssm-command",
            service="ssm",
            describe="get_command_invocation",
            id_param="CommandId",
            identifiers={"instance_id": "InstanceId"},
            item_path="",
            status_path="Status",
            success=_states("Success"),
            failure=_states("Failed", "Cancelled", "Cancelling", "TimedOut"),
            reason_paths=("StatusDetails",),
            not_yet={"InvocationDoesNotExist": {"Status": "Pending"}},
            cancel=CancelSpec(
                "cancel_command",
                "CommandId",
                identifiers={"instance_id": "InstanceIds"},
                list_identifiers=frozenset({"instance_id"}),
            ),
        ),
        JobKind(
            name="dynamodb-export",
            service="dynamodb",
            describe="describe_export",
            id_param="ExportArn",
            item_path="ExportDescription",
            status_path="ExportStatus",
            success=_states("COMPLETED"),
            failure=_states("FAILED"),
            reason_paths=("FailureCode", "FailureMessage"),
        ),
        JobKind(
            name="databrew",
            service="databrew",
            describe="describe_job_run",
            id_param="RunId",
            identifiers={"job_name": "Name"},
            item_path="",
            status_path="State",
            success=_states("SUCCEEDED"),
            failure=_states("FAILED", "STOPPED", "TIMEOUT"),
            reason_paths=("ErrorMessage",),
            cancel=CancelSpec("stop_job_run", "RunId"),
        ),
        JobKind(
            name="codebuild",
            service="codebuild",
            describe="batch_get_builds",
            id_param="ids",
            id_is_list=True,
            item_path="builds",
            item_id_path="id",
            status_path="buildStatus",
            success=_states("SUCCEEDED"),
            failure=_CODEBUILD_FAILED,
            reason_paths=("_failing",),
            batch_describe="batch_get_builds",
            batch_max=100,
            terminal=_CODEBUILD_FAILED,
            enrich=codebuild_reason,
            cancel=CancelSpec("stop_build", "id"),
        ),
        JobKind(
            name="datasync",
            service="datasync",
            describe="describe_task_execution",
            id_param="TaskExecutionArn",
            item_path="",
            status_path="Status",
            success=_states("SUCCESS"),
            failure=_states("ERROR"),
            reason_paths=("Result.ErrorCode", "Result.ErrorDetail"),
            cancel=CancelSpec("cancel_task_execution", "TaskExecutionArn"),
        ),
    )
