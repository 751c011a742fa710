"""The new AWS job kinds on moto, where moto implements the describe operation and a way to a
terminal state (its answers are moto's, not ours: each test says what moto does). The rest of
each kind's outcomes run against a protocol endpoint: tests/test_aws_kinds.py."""

from __future__ import annotations

import pytest

from async_hooks import AsyncAwsHook, JobFailedError, JobTimeoutError

QUICK = {"poll_interval": 0.01, "jitter": 0.0}
ROLE = "arn:aws:iam::123456789012:role/jobs"


def _hook(moto_server) -> AsyncAwsHook:
    return AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1")


async def test_ssm_command_succeeds(moto_server):
    async with _hook(moto_server) as hook:
        sent = await hook.call(
            "ssm", "send_command", DocumentName="AWS-RunShellScript", InstanceIds=["i-0abc"]
        )
        command_id = sent["Command"]["CommandId"]
        result = await hook.wait_for_job("ssm-command", command_id, instance_id="i-0abc", **QUICK)
    assert result.status == "Success"


async def test_codebuild_build_succeeds(moto_server):
    async with _hook(moto_server) as hook:
        await hook.call(
            "codebuild",
            "create_project",
            name="proj",
            source={"type": "S3", "location": "bucket/src.zip"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_SMALL",
            },
            serviceRole=ROLE,
        )
        build = (await hook.call("codebuild", "start_build", projectName="proj"))["build"]
        result = await hook.wait_for_job("codebuild", build["id"], **QUICK)
    assert result.status == "SUCCEEDED"


async def _table(hook: AsyncAwsHook) -> str:
    table = await hook.call(
        "dynamodb",
        "create_table",
        TableName="t",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    await hook.call(
        "dynamodb",
        "update_continuous_backups",
        TableName="t",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    return str(table["TableDescription"]["TableArn"])


async def test_dynamodb_export_completes(moto_server):
    async with _hook(moto_server) as hook:
        table = await _table(hook)
        await hook.call("s3", "create_bucket", Bucket="exports")
        export = await hook.call(
            "dynamodb",
            "export_table_to_point_in_time",
            TableArn=table,
            S3Bucket="exports",
            S3Prefix="t",
        )
        arn = export["ExportDescription"]["ExportArn"]
        result = await hook.wait_for_job("dynamodb-export", arn, **QUICK)
    assert result.status == "COMPLETED"


async def test_dynamodb_export_to_a_missing_bucket_fails_with_its_reason(moto_server):
    async with _hook(moto_server) as hook:
        table = await _table(hook)
        export = await hook.call(
            "dynamodb",
            "export_table_to_point_in_time",
            TableArn=table,
            S3Bucket="missing",
            S3Prefix="t",
        )
        arn = export["ExportDescription"]["ExportArn"]
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("dynamodb-export", arn, **QUICK)
    assert caught.value.reason == "S3NoSuchBucket: The specified bucket does not exist"


async def _datasync_execution(hook: AsyncAwsHook) -> str:
    source = await hook.call(
        "datasync",
        "create_location_s3",
        S3BucketArn="arn:aws:s3:::src",
        S3Config={"BucketAccessRoleArn": ROLE},
    )
    target = await hook.call(
        "datasync",
        "create_location_s3",
        S3BucketArn="arn:aws:s3:::dst",
        S3Config={"BucketAccessRoleArn": ROLE},
    )
    task = await hook.call(
        "datasync",
        "create_task",
        SourceLocationArn=source["LocationArn"],
        DestinationLocationArn=target["LocationArn"],
    )
    run = await hook.call("datasync", "start_task_execution", TaskArn=task["TaskArn"])
    return str(run["TaskExecutionArn"])


async def test_datasync_execution_succeeds(moto_server):
    """moto moves an execution one state on per describe: INITIALIZING ... SUCCESS."""
    async with _hook(moto_server) as hook:
        arn = await _datasync_execution(hook)
        result = await hook.wait_for_job("datasync", arn, **QUICK)
    assert result.status == "SUCCESS" and result.polls >= 4


async def test_datasync_cancelled_execution_fails(moto_server):
    async with _hook(moto_server) as hook:
        arn = await _datasync_execution(hook)
        await hook.cancel_job("datasync", arn)
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("datasync", arn, **QUICK)
    assert caught.value.result is not None and caught.value.result.status == "ERROR"


async def _emr_serverless_run(hook: AsyncAwsHook) -> tuple[str, str]:
    app = await hook.call(
        "emr-serverless", "create_application", name="a", releaseLabel="emr-6.6.0", type="SPARK"
    )
    run = await hook.call(
        "emr-serverless",
        "start_job_run",
        applicationId=app["applicationId"],
        executionRoleArn=ROLE,
        jobDriver={"sparkSubmit": {"entryPoint": "s3://b/job.py"}},
    )
    return str(app["applicationId"]), str(run["jobRunId"])


async def test_emr_serverless_run_succeeds(moto_server):
    async with _hook(moto_server) as hook:
        app, run = await _emr_serverless_run(hook)
        result = await hook.wait_for_job("emr-serverless", run, application_id=app, **QUICK)
    assert result.status == "SUCCESS"


async def test_emr_serverless_cancelled_run_fails(moto_server):
    async with _hook(moto_server) as hook:
        app, run = await _emr_serverless_run(hook)
        await hook.cancel_job("emr-serverless", run, application_id=app)
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("emr-serverless", run, application_id=app, **QUICK)
    assert caught.value.result is not None and caught.value.result.status == "CANCELLED"


async def _emr_containers_run(hook: AsyncAwsHook) -> tuple[str, str]:
    cluster = await hook.call(
        "emr-containers",
        "create_virtual_cluster",
        name="vc",
        containerProvider={
            "type": "EKS",
            "id": "eks-1",
            "info": {"eksInfo": {"namespace": "jobs"}},
        },
    )
    run = await hook.call(
        "emr-containers",
        "start_job_run",
        virtualClusterId=cluster["id"],
        executionRoleArn=ROLE,
        releaseLabel="emr-6.6.0-latest",
        jobDriver={"sparkSubmitJobDriver": {"entryPoint": "s3://b/job.py"}},
    )
    return str(cluster["id"]), str(run["id"])


async def test_emr_containers_run_is_polled_until_the_deadline(moto_server):
    """moto's runs stay RUNNING."""
    async with _hook(moto_server) as hook:
        cluster, run = await _emr_containers_run(hook)
        with pytest.raises(JobTimeoutError) as caught:
            await hook.wait_for_job(
                "emr-containers", run, virtual_cluster_id=cluster, timeout=2.0, **QUICK
            )
    assert caught.value.last_status == "RUNNING"


async def test_emr_containers_cancelled_run_fails_with_its_state_details(moto_server):
    async with _hook(moto_server) as hook:
        cluster, run = await _emr_containers_run(hook)
        await hook.cancel_job("emr-containers", run, virtual_cluster_id=cluster)
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("emr-containers", run, virtual_cluster_id=cluster, **QUICK)
    assert caught.value.result is not None and caught.value.result.status == "CANCELLED"
    assert caught.value.reason == "JobRun CANCELLED successfully."


async def test_glue_crawler_succeeds_when_ready_again_and_can_time_out(moto_server):
    """moto advances a crawl only in ListCrawls, or at once: READY again with its last crawl
    COMPLETED (moto's word; AWS says SUCCEEDED), a success as Airflow's waiter judges it."""
    moto_server.set_transition("glue::crawl", {"progression": "immediate"})
    async with _hook(moto_server) as hook:
        for name in ("c1", "c2"):
            await hook.call(
                "glue",
                "create_crawler",
                Name=name,
                Role=ROLE,
                Targets={"S3Targets": [{"Path": "s3://b/"}]},
            )
        await hook.call("glue", "start_crawler", Name="c1")
        result = await hook.wait_for_job("glue-crawler", "c1", **QUICK)
        assert result.status == "READY"
        moto_server.set_transition("glue::crawl", {"progression": "manual", "times": 10_000})
        await hook.call("glue", "start_crawler", Name="c2")
        with pytest.raises(JobTimeoutError) as caught:
            await hook.wait_for_job("glue-crawler", "c2", timeout=2.0, **QUICK)
    assert caught.value.last_status == "RUNNING"


async def test_sagemaker_processing_job_completes(moto_server):
    async with _hook(moto_server) as hook:
        await hook.call(
            "sagemaker",
            "create_processing_job",
            ProcessingJobName="proc",
            ProcessingResources={
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 1,
                }
            },
            AppSpecification={"ImageUri": "img"},
            RoleArn=ROLE,
        )
        result = await hook.wait_for_job("sagemaker-processing", "proc", **QUICK)
    assert result.status == "Completed"


async def test_comprehend_stopped_job_fails(moto_server):
    """moto's jobs stay SUBMITTED until stopped; STOP_REQUESTED is a failure (Airflow's)."""
    async with _hook(moto_server) as hook:
        job = await hook.call(
            "comprehend",
            "start_pii_entities_detection_job",
            InputDataConfig={"S3Uri": "s3://b/in"},
            OutputDataConfig={"S3Uri": "s3://b/out"},
            Mode="ONLY_OFFSETS",
            DataAccessRoleArn=ROLE,
            LanguageCode="en",
        )
        with pytest.raises(JobTimeoutError) as caught:
            await hook.wait_for_job("comprehend-pii", job["JobId"], timeout=2.0, **QUICK)
        assert caught.value.last_status == "SUBMITTED"
        await hook.cancel_job("comprehend-pii", job["JobId"])
        with pytest.raises(JobFailedError) as failed:
            await hook.wait_for_job("comprehend-pii", job["JobId"], **QUICK)
    assert failed.value.result is not None and failed.value.result.status == "STOP_REQUESTED"


async def test_redshift_data_cancelled_statement_fails(moto_server):
    """moto's statements stay STARTED until cancelled (then ABORTED)."""
    async with _hook(moto_server) as hook:
        statement = await hook.call(
            "redshift-data",
            "execute_statement",
            Sql="select 1",
            Database="db",
            ClusterIdentifier="c",
        )
        with pytest.raises(JobTimeoutError) as caught:
            await hook.wait_for_job("redshift-data", statement["Id"], timeout=2.0, **QUICK)
        assert caught.value.last_status == "STARTED"
        await hook.cancel_job("redshift-data", statement["Id"])
        with pytest.raises(JobFailedError) as failed:
            await hook.wait_for_job("redshift-data", statement["Id"], **QUICK)
    assert failed.value.result is not None and failed.value.result.status == "ABORTED"
