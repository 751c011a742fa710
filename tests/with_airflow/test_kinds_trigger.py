"""New AWS kinds through ``WaitForJobTrigger``, unchanged: an SSM command on moto through an
Airflow connection, and a failed CodeBuild build (on an endpoint speaking CodeBuild's JSON 1.1)
with its failing phase's message as the event's reason."""

from __future__ import annotations

from async_hooks.airflow import WaitForJobTrigger
from async_hooks.aws import AsyncAwsHook
from async_hooks.testing.aws_endpoint import AwsEndpoint

from ._support import only_event, rebuilt

QUICK = {"poll_interval": 0.05, "jitter": 0.0}


async def test_an_ssm_command_through_the_trigger(aws_conn, moto_server):
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        sent = await hook.call(
            "ssm", "send_command", DocumentName="AWS-RunShellScript", InstanceIds=["i-0abc"]
        )
    command_id = sent["Command"]["CommandId"]
    trigger = rebuilt(
        WaitForJobTrigger(
            "aws",
            hook_kwargs={"conn_id": aws_conn},
            wait_args=["ssm-command", command_id],
            wait_kwargs={"instance_id": "i-0abc", **QUICK},
        )
    )
    payload = await only_event(trigger)
    assert payload["status"] == "success"
    assert (payload["result"]["kind"], payload["result"]["status"]) == ("ssm-command", "Success")


async def test_a_failed_codebuild_build_through_the_trigger(threaded_server):
    endpoint = AwsEndpoint("codebuild")
    failed = {
        "id": "proj:42",
        "buildStatus": "FAILED",
        "phases": [
            {
                "phaseType": "BUILD",
                "phaseStatus": "FAILED",
                "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": "exit 2"}],
            }
        ],
    }
    endpoint.script(
        "codebuild",
        "BatchGetBuilds",
        {"builds": [{"id": "proj:42", "buildStatus": "IN_PROGRESS"}]},
        then={"builds": [failed]},
    )
    url = threaded_server(endpoint.app()).url
    trigger = rebuilt(
        WaitForJobTrigger(
            "aws",
            hook_kwargs={
                "endpoint_url": url,
                "region_name": "us-east-1",
                "aws_access_key_id": "testing",
                "aws_secret_access_key": "s3cr3t-k3y",
            },
            wait_args=["codebuild", "proj:42"],
            wait_kwargs=QUICK,
        )
    )
    payload = await only_event(trigger)
    assert payload["status"] == "failed"
    assert payload["reason"] == "BUILD: exit 2"
    assert payload["result"]["polls"] == 2
    assert endpoint.count("codebuild", "BatchGetBuilds") == 2
    assert "s3cr3t-k3y" not in repr(trigger) + str(payload)
