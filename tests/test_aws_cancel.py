"""``AsyncAwsHook.cancel_job``: each kind stopped through its own API (what an Airflow trigger's
``on_kill`` calls), on moto where moto implements the stop operation, else on an endpoint that
speaks the service's protocol; refusals inside a 200 answer are errors, and a kind whose API
cannot stop a job says so."""

from __future__ import annotations

import asyncio

import pytest

from async_hooks import AsyncAwsHook, HookConfigError, JobFailedError, NotFoundError, ServiceError
from async_hooks.aws import job_kinds
from async_hooks.aws._cancel import CANCEL_REASON
from async_hooks.testing.aws_endpoint import AwsEndpoint
from async_hooks.testing.aws_jobs import launch, start_executions

QUICK = {"poll_interval": 0.01, "jitter": 0.0}

#: The stop operation of each kind (botocore's snake_case name), as the issue lists them.
STOPS = {
    "batch": "terminate_job",
    "glue": "batch_stop_job_run",
    "athena": "stop_query_execution",
    "ecs": "stop_task",
    "stepfunctions": "stop_execution",
    "emr-step": "cancel_steps",
    "sagemaker-training": "stop_training_job",
    "codebuild": "stop_build",
    "emr-serverless": "cancel_job_run",
    "emr-containers": "cancel_job_run",
    "redshift-data": "cancel_statement",
    "sagemaker-processing": "stop_processing_job",
    "sagemaker-transform": "stop_transform_job",
    "sagemaker-pipeline": "stop_pipeline_execution",
    "ssm-command": "cancel_command",
    "databrew": "stop_job_run",
    "bedrock-customization": "stop_model_customization_job",
    "bedrock-batch-inference": "stop_model_invocation_job",
    "comprehend-pii": "stop_pii_entities_detection_job",
    "glue-crawler": "stop_crawler",
    "datasync": "cancel_task_execution",
}


def _hook(url: str) -> AsyncAwsHook:
    return AsyncAwsHook(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_every_stop_operation_exists_in_botocores_model():
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    loader = Loader()
    for name, operation in STOPS.items():
        kind = job_kinds()[name]
        assert kind.cancel is not None and kind.cancel.operation == operation, name
        model = ServiceModel(loader.load_service_model(kind.service, "service-2"), kind.service)
        pascal = {model.operation_model(o).name: o for o in model.operation_names}
        names = {_snake(o): o for o in pascal}
        assert operation in names, f"{kind.service} has no {operation}"
        # Every parameter the spec builds is a member of the operation's input.
        params = kind.cancel.params("j-1", dict.fromkeys(kind.identifiers, "x"), kind.identifiers)
        members = model.operation_model(names[operation]).input_shape.members
        assert set(params) <= set(members), (name, set(params) - set(members))
        required = set(model.operation_model(names[operation]).input_shape.required_members)
        assert required <= set(params), (name, required - set(params))
    assert job_kinds()["dynamodb-export"].cancel is None  # DynamoDB cannot stop an export


def _snake(pascal: str) -> str:
    from botocore import xform_name

    return str(xform_name(pascal))


async def test_a_kind_without_a_stop_operation_is_a_config_error(moto_server):
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        with pytest.raises(HookConfigError, match="'dynamodb-export' has no cancel operation"):
            await hook.cancel_job(
                "dynamodb-export", "arn:aws:dynamodb:us-east-1:1:table/t/export/e"
            )
        with pytest.raises(HookConfigError, match="job_name"):
            await hook.cancel_job("glue", "run-1")  # its identifiers are checked as a wait's
        with pytest.raises(HookConfigError, match="unknown AWS job kind"):
            await hook.cancel_job("nope", "1")


async def test_cancel_a_batch_job_on_moto(moto_server):
    """moto's Batch without Docker ends a job as it is submitted: TerminateJob then only
    records its reason, which is what the call is checked by."""
    moto_server.set_config({"batch": {"use_docker": False}})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        (job_id,) = (await launch(hook, "batch", 1, "c")).ids
        await hook.cancel_job("batch", job_id)
        (job,) = (await hook.call("batch", "describe_jobs", jobs=[job_id]))["jobs"]
    assert job["statusReason"] == CANCEL_REASON


async def test_cancel_a_step_functions_execution_on_moto(moto_server):
    # moto's config outlives its reset: say so (another test may have set it True).
    moto_server.set_config({"stepfunctions": {"execute_state_machine": False}})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        # moto without execute_state_machine: an execution stays RUNNING until stopped.
        runs = await start_executions(hook, {"long": None})
        await hook.cancel_job("stepfunctions", runs["long"])
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("stepfunctions", runs["long"], **QUICK)
    assert caught.value.result.status == "ABORTED"


async def test_cancel_an_athena_query_on_moto(moto_server):
    moto_server.set_transition("athena::execution", {"progression": "manual", "times": 10_000})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        query = await hook.call(
            "athena",
            "start_query_execution",
            QueryString="select 1",
            ResultConfiguration={"OutputLocation": "s3://results/"},
        )
        await hook.cancel_job("athena", query["QueryExecutionId"])
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("athena", query["QueryExecutionId"], coalesce=False, **QUICK)
    assert caught.value.result.status == "CANCELLED"


async def test_cancel_an_ecs_task_on_moto(moto_server):
    moto_server.set_transition("ecs::task", {"progression": "manual", "times": 10_000})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        tasks = await launch(hook, "ecs", 1, "c")
        await hook.cancel_job("ecs", tasks.ids[0], **tasks.identifiers)
        # moto's stopped containers exited 0 (AWS's would have been killed): a success there.
        result = await hook.wait_for_job("ecs", tasks.ids[0], **tasks.identifiers, **QUICK)
    assert result.status == "STOPPED"
    assert result.response["stoppedReason"] == CANCEL_REASON


async def test_cancel_a_glue_run_sends_batch_stop_job_run(threaded_server):
    """moto 5.2 has no BatchStopJobRun: an endpoint speaking Glue's JSON 1.1 answers it."""
    endpoint = AwsEndpoint("glue")
    endpoint.script(
        "glue",
        "BatchStopJobRun",
        then=lambda params: {
            "SuccessfulSubmissions": [{"JobName": params["JobName"], "JobRunId": "jr_1"}],
            "Errors": [],
        },
    )
    url = threaded_server(endpoint.app()).url
    async with _hook(url) as hook:
        await hook.cancel_job("glue", "jr_1", job_name="etl")
    assert [c.params for c in endpoint.calls] == [{"JobName": "etl", "JobRunIds": ["jr_1"]}]


async def test_a_stop_refused_inside_a_200_answer_is_an_error(threaded_server):
    endpoint = AwsEndpoint("glue", "emr")
    endpoint.script(
        "glue",
        "BatchStopJobRun",
        then={
            "SuccessfulSubmissions": [],
            "Errors": [
                {
                    "JobName": "etl",
                    "JobRunId": "jr_1",
                    "ErrorDetail": {
                        "ErrorCode": "InvalidInputException",
                        "ErrorMessage": "Job run jr_1 is not running",
                    },
                }
            ],
        },
    )
    endpoint.script(
        "emr",
        "CancelSteps",
        then={"CancelStepsInfoList": [{"StepId": "s-1", "Status": "FAILED", "Reason": "done"}]},
    )
    url = threaded_server(endpoint.app()).url
    async with _hook(url) as hook:
        with pytest.raises(ServiceError, match="not running") as glue:
            await hook.cancel_job("glue", "jr_1", job_name="etl")
        with pytest.raises(ServiceError, match="CancelStepsFailed: done"):
            await hook.cancel_job("emr-step", "s-1", cluster_id="j-1")
    assert glue.value.code == "InvalidInputException"
    assert endpoint.calls_of("emr", "CancelSteps")[0].params == {
        "ClusterId": "j-1",
        "StepIds": ["s-1"],
    }


async def test_cancel_errors_go_through_the_hooks_error_mapping(threaded_server):
    endpoint = AwsEndpoint("codebuild", "ssm", "sagemaker")
    endpoint.script(
        "codebuild", "StopBuild", then=AwsEndpoint.error("ResourceNotFoundException", "no build")
    )
    endpoint.script("ssm", "CancelCommand", then={})
    endpoint.script("sagemaker", "StopPipelineExecution", then={"PipelineExecutionArn": "a"})
    url = threaded_server(endpoint.app()).url
    async with _hook(url) as hook:
        with pytest.raises(NotFoundError, match="no build"):
            await hook.cancel_job("codebuild", "proj:1")
        await hook.cancel_job(
            "ssm-command", "0b6c5a61-4d2e-4c6a-9d55-0f6a2f1c9e01", instance_id="i-1"
        )
        await asyncio.gather(
            hook.cancel_job("sagemaker-pipeline", "arn:aws:sagemaker:us-east-1:1:pipeline/p/e/1"),
            hook.cancel_job("sagemaker-pipeline", "arn:aws:sagemaker:us-east-1:1:pipeline/p/e/2"),
        )
    (ssm,) = endpoint.calls_of("ssm", "CancelCommand")
    assert ssm.params["InstanceIds"] == ["i-1"]
    tokens = {
        c.params["ClientRequestToken"]
        for c in endpoint.calls_of("sagemaker", "StopPipelineExecution")
    }
    assert len(tokens) == 2  # a fresh idempotency token per stop


def test_cancel_through_the_sync_facade(threaded_server):
    endpoint = AwsEndpoint("emr-serverless")
    endpoint.script("emr-serverless", "CancelJobRun", then={"applicationId": "a", "jobRunId": "r"})
    url = threaded_server(endpoint.app()).url
    hook = _hook(url)
    try:
        hook.sync.cancel_job("emr-serverless", "r", application_id="a")
    finally:
        hook.sync.close()
    assert endpoint.calls[0].params == {"applicationId": "a", "jobRunId": "r"}
