"""The AWS job kinds of the Amazon provider's triggers: each kind's success, failure with its
reason and time-out against a local endpoint that speaks the service's real protocol
(``AwsEndpoint``, from botocore's model), and the shared polls (CodeBuild's BatchGetBuilds, EMR's
ListSteps, one poll for concurrent waits on one id). moto runs: tests/test_aws_kinds_moto.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from async_hooks import AsyncAwsHook, JobFailedError, JobTimeoutError
from async_hooks.aws import job_kinds
from async_hooks.testing.aws_endpoint import AwsEndpoint

QUICK = {"poll_interval": 0.01, "jitter": 0.0}
SERVICES = (
    "emr-serverless",
    "emr-containers",
    "glue",
    "sagemaker",
    "redshift-data",
    "bedrock",
    "comprehend",
    "ssm",
    "dynamodb",
    "databrew",
    "codebuild",
    "datasync",
    "emr",
)

COMMAND_ID = "0b6c5a61-4d2e-4c6a-9d55-0f6a2f1c9e01"  # SSM command ids are UUIDs
Item = Callable[[str, str, str | None], dict[str, Any]]


@dataclass
class Case:
    """A kind as its API shows it: the describe operations (single, and batch if any), the
    item of a job in a state, how the answer wraps it, and the states and reason to expect."""

    kind: str
    service: str
    job_id: str
    item: Item
    ops: dict[str, Callable[[list[dict[str, Any]]], dict[str, Any]]]
    running: str
    success: str
    failure: str
    reason: str
    identifiers: dict[str, Any] = field(default_factory=dict)


def _without_nulls(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _without_nulls(v) if isinstance(v, dict) else v for k, v in item.items() if v is not None
    }


def _flat(items: list[dict[str, Any]]) -> dict[str, Any]:
    return items[0]


CASES = [
    Case(
        "emr-serverless",
        "emr-serverless",
        "run-1",
        lambda i, s, r: {"applicationId": "app-1", "jobRunId": i, "state": s, "stateDetails": r},
        {"GetJobRun": lambda items: {"jobRun": items[0]}},
        "RUNNING",
        "SUCCESS",
        "FAILED",
        "Job failed: exit 1",
        {"application_id": "app-1"},
    ),
    Case(
        "emr-containers",
        "emr-containers",
        "run-1",
        lambda i, s, r: (
            {"id": i, "virtualClusterId": "vc-1", "state": s, "stateDetails": r}
            | ({"failureReason": "USER_ERROR"} if r else {})
        ),
        {"DescribeJobRun": lambda items: {"jobRun": items[0]}},
        "RUNNING",
        "COMPLETED",
        "FAILED",
        "USER_ERROR: driver exited 1",
        {"virtual_cluster_id": "vc-1"},
    ),
    Case(
        "glue-crawler",
        "glue",
        "crawler-1",
        lambda i, s, r: (
            {"Name": i, "State": "RUNNING" if s == "RUNNING" else "READY"}
            | ({} if s == "RUNNING" else {"LastCrawl": {"Status": s, "ErrorMessage": r}})
        ),
        {
            "GetCrawler": lambda items: {"Crawler": items[0]},
            "BatchGetCrawlers": lambda items: {"Crawlers": items, "CrawlersNotFound": []},
        },
        "RUNNING",
        "READY",
        "READY",
        "FAILED: Internal service error",
    ),
    Case(
        "sagemaker-processing",
        "sagemaker",
        "proc-1",
        lambda i, s, r: {"ProcessingJobName": i, "ProcessingJobStatus": s, "FailureReason": r},
        {"DescribeProcessingJob": _flat},
        "InProgress",
        "Completed",
        "Failed",
        "AlgorithmError: exit 2",
    ),
    Case(
        "sagemaker-transform",
        "sagemaker",
        "tr-1",
        lambda i, s, r: {"TransformJobName": i, "TransformJobStatus": s, "FailureReason": r},
        {"DescribeTransformJob": _flat},
        "InProgress",
        "Completed",
        "Stopped",
        "ClientError: bad input",
    ),
    Case(
        "sagemaker-pipeline",
        "sagemaker",
        "arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/e1",
        lambda i, s, r: {
            "PipelineExecutionArn": i,
            "PipelineExecutionStatus": s,
            "FailureReason": r,
        },
        {"DescribePipelineExecution": _flat},
        "Executing",
        "Succeeded",
        "CompletedWithFailures",
        "Step train failed",
    ),
    Case(
        "redshift-data",
        "redshift-data",
        "stmt-1",
        lambda i, s, r: {"Id": i, "Status": s, "Error": r},
        {"DescribeStatement": _flat},
        "STARTED",
        "FINISHED",
        "FAILED",
        'ERROR: relation "t" does not exist',
    ),
    Case(
        "bedrock-customization",
        "bedrock",
        "job-1",
        lambda i, s, r: (
            {"jobArn": f"arn:aws:bedrock:us-east-1:1:model-customization-job/{i}"}
            | {"status": s, "failureMessage": r}
        ),
        {"GetModelCustomizationJob": _flat},
        "InProgress",
        "Completed",
        "Failed",
        "Validation data is empty",
    ),
    Case(
        "bedrock-batch-inference",
        "bedrock",
        "job-1",
        lambda i, s, r: (
            {"jobArn": f"arn:aws:bedrock:us-east-1:1:model-invocation-job/{i}"}
            | {"status": s, "message": r}
        ),
        {"GetModelInvocationJob": _flat},
        "InProgress",
        "Completed",
        "PartiallyCompleted",
        "12 records failed",
    ),
    Case(
        "comprehend-pii",
        "comprehend",
        "job-1",
        lambda i, s, r: {"JobId": i, "JobStatus": s, "Message": r},
        {
            "DescribePiiEntitiesDetectionJob": lambda items: {
                "PiiEntitiesDetectionJobProperties": items[0]
            }
        },
        "IN_PROGRESS",
        "COMPLETED",
        "FAILED",
        "NO_READ_ACCESS_TO_INPUT",
    ),
    Case(
        "ssm-command",
        "ssm",
        COMMAND_ID,
        lambda i, s, r: {"CommandId": i, "InstanceId": "i-1", "Status": s, "StatusDetails": r},
        {"GetCommandInvocation": _flat},
        "InProgress",
        "Success",
        "Failed",
        "Failed",
        {"instance_id": "i-1"},
    ),
    Case(
        "dynamodb-export",
        "dynamodb",
        "arn:aws:dynamodb:us-east-1:1:table/t/export/e1",
        lambda i, s, r: (
            {"ExportArn": i, "ExportStatus": s}
            | ({"FailureCode": "S3NoSuchBucket", "FailureMessage": r} if r else {})
        ),
        {"DescribeExport": lambda items: {"ExportDescription": items[0]}},
        "IN_PROGRESS",
        "COMPLETED",
        "FAILED",
        "S3NoSuchBucket: The specified bucket does not exist",
    ),
    Case(
        "databrew",
        "databrew",
        "run-1",
        lambda i, s, r: {"JobName": "brew", "RunId": i, "State": s, "ErrorMessage": r},
        {"DescribeJobRun": _flat},
        "RUNNING",
        "SUCCEEDED",
        "TIMEOUT",
        "Job exceeded 60 minutes",
        {"job_name": "brew"},
    ),
    Case(
        "codebuild",
        "codebuild",
        "proj:0001",
        lambda i, s, r: (
            {"id": i, "buildStatus": s}
            | (
                {
                    "phases": [
                        {"phaseType": "INSTALL", "phaseStatus": "SUCCEEDED"},
                        {
                            "phaseType": "BUILD",
                            "phaseStatus": "FAILED",
                            "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": r}],
                        },
                    ]
                }
                if r
                else {}
            )
        ),
        {"BatchGetBuilds": lambda items: {"builds": items, "buildsNotFound": []}},
        "IN_PROGRESS",
        "SUCCEEDED",
        "FAILED",
        "BUILD: Error while executing command: make. Reason: exit status 2",
    ),
    Case(
        "datasync",
        "datasync",
        "arn:aws:datasync:us-east-1:1:task/task-1/execution/exec-1",
        lambda i, s, r: (
            {"TaskExecutionArn": i, "Status": s}
            | (
                {"Result": {"ErrorCode": "SyncTaskErrorLocationNotAdded", "ErrorDetail": r}}
                if r
                else {}
            )
        ),
        {"DescribeTaskExecution": _flat},
        "TRANSFERRING",
        "SUCCESS",
        "ERROR",
        "SyncTaskErrorLocationNotAdded: the agent is offline",
    ),
]

#: The reason each failure above gives: what the kind's reason paths read from it.
RAW_REASON = {
    "emr-containers": "driver exited 1",
    "glue-crawler": "Internal service error",
    "ssm-command": "Failed",
    "dynamodb-export": "The specified bucket does not exist",
    "codebuild": "Error while executing command: make. Reason: exit status 2",
    "datasync": "the agent is offline",
}


def _script(endpoint: AwsEndpoint, case: Case, states: list[str], reason: str | None) -> None:
    """Every describe operation of ``case`` answers the next state (the last one repeats)."""
    left = list(states)

    def answer(op: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def respond(params: dict[str, Any]) -> dict[str, Any]:
            state = left.pop(0) if len(left) > 1 else left[0]
            why = None if state == case.running else reason
            ids = params.get("ids") or params.get("CrawlerNames") or [case.job_id]
            items = [case.item(job_id, state, why) for job_id in ids]
            return case.ops[op]([_without_nulls(item) for item in items])

        return respond

    for op in case.ops:
        endpoint.script(case.service, op, then=answer(op))


def _hook(url: str) -> AsyncAwsHook:
    return AsyncAwsHook(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def aws_endpoint(threaded_server) -> Callable[..., tuple[str, AwsEndpoint]]:
    def start(*services: str) -> tuple[str, AwsEndpoint]:
        endpoint = AwsEndpoint(*(services or SERVICES))
        return threaded_server(endpoint.app()).url, endpoint

    return start


def test_every_kind_of_the_issue_is_registered_with_its_identifiers():
    kinds = job_kinds()
    for case in CASES:
        assert set(kinds[case.kind].identifiers) == set(case.identifiers), case.kind


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
async def test_kind_succeeds(aws_endpoint, case):
    url, endpoint = aws_endpoint(case.service)
    crawler_done = "SUCCEEDED" if case.kind == "glue-crawler" else case.success
    _script(endpoint, case, [case.running, case.running, crawler_done], None)
    async with _hook(url) as hook:
        result = await hook.wait_for_job(case.kind, case.job_id, **case.identifiers, **QUICK)
    assert result.succeeded and result.status == case.success
    assert result.polls >= 3
    # The id went where the model wants it, with the identifiers.
    call = endpoint.calls[0]
    sent = call.params
    spec = job_kinds()[case.kind]
    id_param = spec.batch_id_param if call.operation.startswith("Batch") else spec.id_param
    assert case.job_id in str(sent[id_param or spec.id_param])
    for keyword, api_name in spec.identifiers.items():
        assert sent[api_name] == case.identifiers[keyword]


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
async def test_kind_fails_with_its_reason(aws_endpoint, case):
    url, endpoint = aws_endpoint(case.service)
    crawler_failed = "FAILED" if case.kind == "glue-crawler" else case.failure
    raw = RAW_REASON.get(case.kind, case.reason)
    _script(endpoint, case, [case.running, crawler_failed], raw)
    async with _hook(url) as hook:
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job(case.kind, case.job_id, **case.identifiers, **QUICK)
    assert caught.value.reason == case.reason
    assert caught.value.result is not None and caught.value.result.status == case.failure


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
async def test_kind_times_out(aws_endpoint, case):
    url, endpoint = aws_endpoint(case.service)
    _script(endpoint, case, [case.running], None)
    async with _hook(url) as hook:
        with pytest.raises(JobTimeoutError) as caught:
            # long enough for a poll to be answered on a busy machine (it polls every 0.01 s)
            await hook.wait_for_job(
                case.kind, case.job_id, **case.identifiers, timeout=2.0, **QUICK
            )
    assert caught.value.last_status == case.running


async def test_an_ssm_invocation_not_there_yet_is_pending(aws_endpoint):
    """Right after SendCommand, GetCommandInvocation answers InvocationDoesNotExist: not yet
    (botocore's CommandExecuted waiter retries on it too)."""
    url, endpoint = aws_endpoint("ssm")
    missing = AwsEndpoint.error("InvocationDoesNotExist", "")
    endpoint.script(
        "ssm",
        "GetCommandInvocation",
        missing,
        missing,
        then={"CommandId": COMMAND_ID, "InstanceId": "i-1", "Status": "Success"},
    )
    async with _hook(url) as hook:
        result = await hook.wait_for_job("ssm-command", COMMAND_ID, instance_id="i-1", **QUICK)
    assert result.succeeded and result.polls == 3


async def test_200_concurrent_codebuild_waits_make_at_most_two_batch_calls_per_tick(
    aws_endpoint,
):
    """BatchGetBuilds takes 100 ids: 200 waits started together are two calls a tick. Each
    build succeeds at its third description, so three ticks: six calls, each of 100 ids."""
    url, endpoint = aws_endpoint("codebuild")
    seen: dict[str, int] = {}

    def builds(params: dict[str, Any]) -> dict[str, Any]:
        answer = []
        for build_id in params["ids"]:
            seen[build_id] = seen.get(build_id, 0) + 1
            status = "SUCCEEDED" if seen[build_id] >= 3 else "IN_PROGRESS"
            answer.append({"id": build_id, "buildStatus": status})
        return {"builds": answer}

    endpoint.script("codebuild", "BatchGetBuilds", then=builds)
    ids = [f"proj:{n:04}" for n in range(200)]
    async with _hook(url) as hook:
        results = await asyncio.gather(
            *(hook.wait_for_job("codebuild", i, poll_interval=0.5, jitter=0.0) for i in ids)
        )
    assert all(r.succeeded for r in results)
    calls = endpoint.calls_of("codebuild", "BatchGetBuilds")
    assert set(seen.values()) == {3}  # every build described once per tick, never alone
    assert [len(c.params["ids"]) for c in calls] == [100] * 6


async def test_emr_step_waits_share_list_steps_calls_of_at_most_10(aws_endpoint):
    url, endpoint = aws_endpoint("emr")
    seen: dict[str, int] = {}

    def steps(params: dict[str, Any]) -> dict[str, Any]:
        answer = []
        for step_id in params["StepIds"]:
            seen[step_id] = seen.get(step_id, 0) + 1
            state = "COMPLETED" if seen[step_id] >= 2 else "RUNNING"
            answer.append({"Id": step_id, "Status": {"State": state}})
        return {"Steps": answer}

    endpoint.script("emr", "ListSteps", then=steps)
    ids = [f"s-{n:03}" for n in range(25)]
    async with _hook(url) as hook:
        results = await asyncio.gather(
            *(
                hook.wait_for_job("emr-step", i, cluster_id="j-1", poll_interval=0.5, jitter=0.0)
                for i in ids
            )
        )
    assert all(r.status == "COMPLETED" for r in results)
    calls = endpoint.calls_of("emr", "ListSteps")
    assert sorted(len(c.params["StepIds"]) for c in calls) == [5, 5, 10, 10, 10, 10]
    assert {c.params["ClusterId"] for c in calls} == {"j-1"}
    assert endpoint.count("emr", "DescribeStep") == 0


async def test_concurrent_waits_on_one_id_of_a_kind_without_batch_share_one_poll(aws_endpoint):
    """DescribeProcessingJob takes one name: five waits on it still make one call per tick."""
    url, endpoint = aws_endpoint("sagemaker")
    answers = [{"ProcessingJobName": "p", "ProcessingJobStatus": "InProgress"}] * 2
    endpoint.script(
        "sagemaker",
        "DescribeProcessingJob",
        *answers,
        then={"ProcessingJobName": "p", "ProcessingJobStatus": "Completed"},
    )
    async with _hook(url) as hook:
        results = await asyncio.gather(
            *(
                hook.wait_for_job("sagemaker-processing", "p", poll_interval=0.5, jitter=0.0)
                for _ in range(5)
            )
        )
    assert {r.status for r in results} == {"Completed"}
    assert endpoint.count("sagemaker", "DescribeProcessingJob") == 3


async def test_distinct_ids_of_a_kind_without_batch_are_each_described(aws_endpoint):
    url, endpoint = aws_endpoint("sagemaker")

    def describe(params: dict[str, Any]) -> dict[str, Any]:
        name = params["TransformJobName"]
        if name == "missing":
            return AwsEndpoint.error("ValidationException", "Could not find job", 400)
        return {"TransformJobName": name, "TransformJobStatus": "Completed"}

    endpoint.script("sagemaker", "DescribeTransformJob", then=describe)
    names = [f"t{n}" for n in range(30)]
    async with _hook(url) as hook:
        results = await asyncio.gather(
            *(hook.wait_for_job("sagemaker-transform", n, **QUICK) for n in names),
            hook.wait_for_job("sagemaker-transform", "missing", **QUICK),
            return_exceptions=True,
        )
    assert [r.status for r in results[:-1]] == ["Completed"] * 30
    assert "Could not find job" in str(results[-1])  # its own error, nobody else's
    assert {c.params["TransformJobName"] for c in endpoint.calls} == {*names, "missing"}


def test_the_sync_facade_waits_on_a_new_kind(aws_endpoint):
    url, endpoint = aws_endpoint("databrew")
    endpoint.script(
        "databrew",
        "DescribeJobRun",
        {"JobName": "brew", "RunId": "r1", "State": "RUNNING"},
        then={"JobName": "brew", "RunId": "r1", "State": "SUCCEEDED"},
    )
    hook = _hook(url)
    try:
        result = hook.sync.wait_for_job("databrew", "r1", job_name="brew", **QUICK)
    finally:
        hook.sync.close()
    assert result.succeeded and result.status == "SUCCEEDED"
    assert endpoint.calls[0].params == {"Name": "brew", "RunId": "r1"}  # sent in the path


def test_the_new_kind_modules_talk_to_a_context_not_to_the_hook():
    import ast
    from pathlib import Path

    import async_hooks.aws

    package = Path(async_hooks.aws.__file__).parent
    for name in ("_catalog.py", "_cancel.py"):
        tree = ast.parse((package / name).read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {
            m for m in imported if m.startswith(("async_hooks.aws.hook", "async_hooks.aws._waits"))
        }, name


def test_a_batch_answer_is_matched_to_short_ids_arns_and_partial_paths():
    """A chunk of 1,000 ECS tasks asked for by short id, full ARN or cluster/id: each matched
    to its own item through an index of the ARNs' parts (not a scan of the answer per id)."""
    from async_hooks.aws.kinds import get_job_kind

    ecs = get_job_kind("ecs")
    arns = [f"arn:aws:ecs:us-east-1:123456789012:task/prod/{n:032x}" for n in range(1000)]
    answer = {"tasks": [{"taskArn": arn, "lastStatus": "RUNNING"} for arn in reversed(arns)]}
    asked = [
        arn if n % 3 == 0 else arn.rsplit("/", 1)[1] if n % 3 == 1 else arn.split("task/")[1]
        for n, arn in enumerate(arns)
    ]
    found = ecs.batch_items(answer, [*asked, "missing"])
    assert set(found) == set(asked)  # "missing" is left out: the schedule describes it alone
    assert all(found[job_id]["taskArn"].endswith(job_id) for job_id in asked)
    assert len({id(item) for item in found.values()}) == 1000  # each id its own item
