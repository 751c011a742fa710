"""AsyncAwsHook against a real moto server, and a small AWS JSON endpoint for what moto cannot
do (throttling answers, ECS exit codes)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError
from conftest import in_forked_child

from async_hooks import (
    AsyncAwsHook,
    HookConfigError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    RetryPolicy,
    ThrottledError,
)
from async_hooks.testing.aws_jobs import launch, start_executions
from async_hooks.testing.jobserver import until

QUICK = {"poll_interval": 0.01, "jitter": 0.0}
FAST_RETRY = RetryPolicy(initial_backoff=0.001, max_backoff=0.002)


def _hook(moto_server, **kwargs) -> AsyncAwsHook:
    return AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1", **kwargs)


def _endpoint_hook(endpoint, **kwargs) -> AsyncAwsHook:
    return AsyncAwsHook(
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **kwargs,
    )


async def test_call_runs_an_operation_and_two_hooks_share_one_client(moto_server):
    first, second = _hook(moto_server), _hook(moto_server)
    async with first, second:
        await first.call("s3", "create_bucket", Bucket="bucket-one")
        answer = await second.call("s3", "list_buckets")
        assert [b["Name"] for b in answer["Buckets"]] == ["bucket-one"]
        assert await first.get_client("s3") is await second.get_client("s3")
        created = first.stats()["clients_created"] + second.stats()["clients_created"]
    assert created == 1


async def test_other_settings_get_another_client(moto_server):
    async with (
        _hook(moto_server) as east,
        AsyncAwsHook(endpoint_url=moto_server.url, region_name="eu-west-1") as west,
    ):
        assert await east.get_client("s3") is not await west.get_client("s3")


async def test_not_found_is_also_a_client_error(moto_server):
    async with _hook(moto_server) as hook:
        await hook.call("s3", "create_bucket", Bucket="bucket")
        with pytest.raises(NotFoundError) as caught:
            await hook.call("s3", "get_object", Bucket="bucket", Key="missing")
    error = caught.value
    assert isinstance(error, ClientError)
    assert error.response["Error"]["Code"] == "NoSuchKey"
    assert error.code == "NoSuchKey" and error.status == 404
    assert error.operation_name == "GetObject"  # botocore's own name, as its ClientError has
    assert isinstance(error.__cause__, ClientError)


async def test_unknown_service_operation_and_kind_are_config_errors(moto_server):
    async with _hook(moto_server) as hook:
        with pytest.raises(HookConfigError, match="no operation 'nope'"):
            await hook.call("s3", "nope")
        with pytest.raises(HookConfigError, match="unknown AWS service"):
            await hook.call("not-a-service", "list")
        with pytest.raises(HookConfigError, match="unknown AWS job kind"):
            await hook.wait_for_job("nope", "1")
        with pytest.raises(HookConfigError, match="job_name"):
            await hook.wait_for_job("glue", "run-1")
        with pytest.raises(HookConfigError, match="Bucket"):
            await hook.call("s3", "list_objects_v2")  # Bucket is required


def _logged(caplog, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records)


async def test_wait_for_s3_key_waits_for_the_object(moto_server, caplog):
    caplog.set_level(logging.INFO, logger="async_hooks")
    async with _hook(moto_server) as hook:
        await hook.call("s3", "create_bucket", Bucket="bucket")

        async def put_later() -> None:
            await until(lambda: _logged(caplog, "-> ABSENT"))  # a poll found no key yet
            await hook.call("s3", "put_object", Bucket="bucket", Key="k", Body=b"x")

        writer = asyncio.create_task(put_later())
        result = await hook.wait_for_s3_key("bucket", "k", poll_interval=0.02)
        await writer
    assert result.succeeded and result.status == "PRESENT" and result.polls >= 2
    assert result.job_id == "s3://bucket/k"


async def test_wait_for_s3_key_times_out(moto_server):
    async with _hook(moto_server) as hook:
        await hook.call("s3", "create_bucket", Bucket="bucket")
        with pytest.raises(JobTimeoutError) as caught:
            # long enough for a poll to be answered on a busy machine (it polls every 0.02 s)
            await hook.wait_for_s3_key("bucket", "never", poll_interval=0.02, timeout=2.0)
    assert caught.value.last_status == "ABSENT"


async def test_batch_job_succeeds(moto_server):
    moto_server.set_config({"batch": {"use_docker": False}})
    async with _hook(moto_server) as hook:
        (job_id,) = (await launch(hook, "batch", 1, "t")).ids
        result = await hook.wait_for_job("batch", job_id, **QUICK)
    assert result.succeeded and result.status == "SUCCEEDED"
    assert result.response["jobId"] == job_id


async def test_batch_unknown_job_is_not_found(moto_server):
    async with _hook(moto_server) as hook:
        with pytest.raises(NotFoundError) as caught:
            await hook.wait_for_job("batch", "no-such-job", **QUICK)
    assert isinstance(caught.value, ClientError)
    assert caught.value.response["Error"]["Code"] == "NotFound"


async def test_glue_run_logs_each_status_change_once(moto_server, caplog):
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 2})
    caplog.set_level(logging.INFO, logger="async_hooks")
    async with _hook(moto_server) as hook:
        await hook.call("glue", "create_job", Name="etl", Role="r", Command={"Name": "glueetl"})
        run = await hook.call("glue", "start_job_run", JobName="etl")
        result = await hook.wait_for_job("glue", run["JobRunId"], job_name="etl", **QUICK)
    assert result.status == "SUCCEEDED"
    changes = [r.getMessage() for r in caplog.records if " -> " in r.getMessage()]
    states = [line.rsplit(" -> ", 1)[1] for line in changes]
    assert states == sorted(set(states), key=states.index)  # each state logged once
    assert states[-1] == "SUCCEEDED"


async def test_glue_wait_times_out_and_can_be_cancelled(moto_server, caplog):
    caplog.set_level(logging.INFO, logger="async_hooks")
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 10_000})
    async with _hook(moto_server) as hook:
        await hook.call("glue", "create_job", Name="etl", Role="r", Command={"Name": "glueetl"})
        run_id = (await hook.call("glue", "start_job_run", JobName="etl"))["JobRunId"]
        with pytest.raises(JobTimeoutError) as caught:
            # long enough for a poll to be answered on a busy machine (it polls every 0.01 s)
            await hook.wait_for_job("glue", run_id, job_name="etl", timeout=2.0, **QUICK)
        assert caught.value.last_status in ("STARTING", "RUNNING")
        task = asyncio.create_task(
            hook.wait_for_job("glue", run_id, job_name="etl", poll_interval=3600)
        )
        # Its first poll answered (each wait logs its first status): it sleeps for an hour.
        await until(lambda: _logged(caplog, "(new) -> ") == 2)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 30  # at once, not at the next poll an hour away


async def test_athena_query_succeeds(moto_server):
    moto_server.set_transition("athena::execution", {"progression": "manual", "times": 1})
    async with _hook(moto_server, retry=FAST_RETRY) as hook:
        query = await hook.call(
            "athena",
            "start_query_execution",
            QueryString="select 1",
            ResultConfiguration={"OutputLocation": "s3://results/"},
        )
        # moto answers BatchGetQueryExecution with 500: coalesced (the default), the wait polls
        # alone after three failed batch calls, and succeeds (tests/test_waits_end_early.py).
        result = await hook.wait_for_job("athena", query["QueryExecutionId"], **QUICK)
    assert result.status == "SUCCEEDED"


async def test_stepfunctions_success_and_failure_with_reason(moto_server):
    moto_server.set_config({"stepfunctions": {"execute_state_machine": True}})
    async with _hook(moto_server) as hook:
        runs = await start_executions(hook, {"ok": None, "bad": ("Boom", "disk full")})
        result = await hook.wait_for_job("stepfunctions", runs["ok"], **QUICK)
        assert result.status == "SUCCEEDED"
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("stepfunctions", runs["bad"], **QUICK)
    assert caught.value.reason == "Boom: disk full"
    assert caught.value.result is not None and caught.value.result.status == "FAILED"


async def test_sagemaker_training_job_completes(moto_server):
    async with _hook(moto_server) as hook:
        await hook.call(
            "sagemaker",
            "create_training_job",
            TrainingJobName="tj",
            AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
            RoleArn="arn:aws:iam::123456789012:role/r",
            OutputDataConfig={"S3OutputPath": "s3://b/o"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
        result = await hook.wait_for_job("sagemaker-training", "tj", **QUICK)
    assert result.status == "Completed" and result.succeeded


async def test_emr_step_is_polled_until_the_deadline(moto_server):
    async with _hook(moto_server) as hook:
        cluster = await hook.call(
            "emr",
            "run_job_flow",
            Name="c",
            ReleaseLabel="emr-6.0.0",
            JobFlowRole="r",
            ServiceRole="s",
            Instances={
                "MasterInstanceType": "m5.xlarge",
                "SlaveInstanceType": "m5.xlarge",
                "InstanceCount": 1,
                "KeepJobFlowAliveWhenNoSteps": True,
            },
        )
        step = await hook.call(
            "emr",
            "add_job_flow_steps",
            JobFlowId=cluster["JobFlowId"],
            Steps=[{"Name": "s", "ActionOnFailure": "CONTINUE", "HadoopJarStep": {"Jar": "x"}}],
        )
        with pytest.raises(JobTimeoutError) as caught:
            await hook.wait_for_job(
                "emr-step",
                step["StepIds"][0],
                cluster_id=cluster["JobFlowId"],
                timeout=0.2,
                **QUICK,
            )
    assert caught.value.last_status in ("PENDING", "RUNNING")


async def test_ecs_task_succeeds_when_stopped_with_exit_code_zero(moto_server):
    moto_server.set_transition("ecs::task", {"progression": "manual", "times": 1})
    async with _hook(moto_server) as hook:
        tasks = await launch(hook, "ecs", 1, "t")
        result = await hook.wait_for_job("ecs", tasks.ids[0], **tasks.identifiers, **QUICK)
    assert result.status == "STOPPED" and result.succeeded
    assert result.polls > 2


def _ecs_answer(status: str, containers: list[dict], reason: str | None = None) -> dict:
    task = {
        "taskArn": "arn:aws:ecs:us-east-1:1:task/c/t1",
        "lastStatus": status,
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/f:1",
        "containers": containers,
    }
    if reason:
        task["stoppedReason"] = reason
    return {"tasks": [task], "failures": []}


DEFINITION = {
    "taskDefinition": {
        "containerDefinitions": [
            {"name": "main", "essential": True},
            {"name": "sidecar", "essential": False},
        ]
    }
}


async def test_ecs_failure_of_an_essential_container(aws_json_endpoint):
    endpoint = aws_json_endpoint(
        {"DescribeTasks": [(200, _ecs_answer("RUNNING", [{"name": "main"}]))]},
        default={
            "DescribeTasks": (
                200,
                _ecs_answer(
                    "STOPPED",
                    [{"name": "main", "exitCode": 137}, {"name": "sidecar", "exitCode": 0}],
                    "Essential container in task exited",
                ),
            ),
            "DescribeTaskDefinition": (200, DEFINITION),
        },
    )
    async with _endpoint_hook(endpoint) as hook:
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("ecs", "t1", cluster="c", **QUICK)
    assert caught.value.reason == "Essential container in task exited: main exit 137"


async def test_ecs_non_essential_container_failure_is_still_success(aws_json_endpoint):
    endpoint = aws_json_endpoint(
        default={
            "DescribeTasks": (
                200,
                _ecs_answer(
                    "STOPPED", [{"name": "main", "exitCode": 0}, {"name": "sidecar", "exitCode": 1}]
                ),
            ),
            "DescribeTaskDefinition": (200, DEFINITION),
        },
    )
    async with _endpoint_hook(endpoint) as hook:
        result = await hook.wait_for_job("ecs", "t1", cluster="c", **QUICK)
    assert result.succeeded


THROTTLED = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})


async def test_throttling_n_times_then_ok_makes_exactly_n_plus_one_requests(aws_json_endpoint):
    endpoint = aws_json_endpoint(
        {"ListClusters": [THROTTLED] * 3}, default={"ListClusters": (200, {"clusterArns": []})}
    )
    async with _endpoint_hook(endpoint, retry=FAST_RETRY) as hook:
        answer = await hook.call("ecs", "list_clusters")
        stats = hook.stats()
    assert answer["clusterArns"] == []
    assert endpoint.count("ListClusters") == 4
    assert stats["throttled"] == 3 and stats["retries"] == 3


async def test_persistent_throttling_ends_in_throttled_error(aws_json_endpoint):
    endpoint = aws_json_endpoint(default={"ListClusters": THROTTLED})
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)
    async with _endpoint_hook(endpoint, retry=policy) as hook:
        with pytest.raises(ThrottledError) as caught:
            await hook.call("ecs", "list_clusters")
    assert endpoint.count("ListClusters") == 3
    assert isinstance(caught.value, ClientError)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"


def test_the_sync_facade_from_plain_threads(moto_server):
    from concurrent.futures import ThreadPoolExecutor

    hook = _hook(moto_server)
    hook.sync.call("s3", "create_bucket", Bucket="bucket")

    def put(n: int) -> str:
        hook.sync.call("s3", "put_object", Bucket="bucket", Key=f"k{n}", Body=b"x")
        return hook.sync.wait_for_s3_key("bucket", f"k{n}", poll_interval=0.01).status

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(put, range(8))) == {"PRESENT"}
    assert hook.run_sync(hook.call, "s3", "list_objects_v2", Bucket="bucket")["KeyCount"] == 8
    # One client for every thread: none at all when an earlier test's hook of the same identity
    # left its client lingering on the shared loop (idle_close_after).
    assert hook.stats()["clients_created"] <= 1
    hook.sync.close()


def test_the_sync_facade_across_fork(moto_server):
    hook = _hook(moto_server)
    hook.sync.call("s3", "create_bucket", Bucket="bucket")
    # 0 when an earlier test's hook of the same identity left its client lingering on the
    # shared loop (idle_close_after), 1 otherwise: the child adds one, the parent none.
    created = hook.stats()["clients_created"]

    def child() -> bool:
        hook.sync.call("s3", "put_object", Bucket="bucket", Key="child", Body=b"x")
        return hook.stats()["clients_created"] == created + 1

    code, reported = in_forked_child(child)
    assert code == 0, reported
    assert hook.sync.wait_for_s3_key("bucket", "child", poll_interval=0.01).succeeded
    assert hook.stats()["clients_created"] == created
    hook.sync.close()


async def test_airflow_connection_with_a_planted_secret(moto_server, monkeypatch, caplog):
    secret = "pl4nted/AWS+secret-key"
    quoted = secret.replace("/", "%2F").replace("+", "%2B")
    extra = quote(json.dumps({"region_name": "us-east-1", "endpoint_url": moto_server.url}))
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_PLANTED", f"aws://AKIAPLANTED:{quoted}@/?__extra__={extra}"
    )
    caplog.set_level(logging.DEBUG)
    hook = AsyncAwsHook(conn_id="aws_planted", retry=FAST_RETRY)
    async with hook:
        assert hook.region_name == "us-east-1" and hook.endpoint_url == moto_server.url
        await hook.call("s3", "create_bucket", Bucket="bucket")
        with pytest.raises(NotFoundError) as caught:
            await hook.call("s3", "get_object", Bucket="bucket", Key="nope")
    texts = [
        repr(hook),
        str(caught.value),
        repr(caught.value),
        "".join(traceback.format_exception(caught.value)),
        caplog.text,
        repr(hook.stats()),
    ]
    for text in texts:
        assert secret not in text and quoted not in text


async def test_assumed_role_credentials_refresh_once_in_the_loop(moto_server):
    role_arn = "arn:aws:iam::123456789012:role/reader"
    async with _hook(moto_server, role_arn=role_arn) as hook:
        await hook.call("s3", "list_buckets")  # build the client and assume the role once
        credentials = await (await hook._session()).get_credentials()
        assert credentials.method == "assume-role"
        first = (await credentials.get_frozen_credentials()).access_key
        assert first != "testing"
        # No server can make credentials expire on demand: age them, and count the refreshes
        # (last resort: botocore's private attributes).
        credentials._expiry_time -= timedelta(hours=2)
        refreshes = 0
        fetch = credentials._refresh_using

        async def counting_fetch() -> dict:
            nonlocal refreshes
            refreshes += 1
            return await fetch()

        credentials._refresh_using = counting_fetch
        lags: list[float] = []
        stop = asyncio.Event()

        async def monitor() -> None:
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                expected = loop.time() + 0.002
                await asyncio.sleep(0.002)
                lags.append(loop.time() - expected)

        watcher = asyncio.create_task(monitor())
        await asyncio.sleep(0.01)
        await asyncio.gather(*(hook.call("s3", "list_buckets") for _ in range(50)))
        stop.set()
        await watcher
        expiry = credentials._expiry_time
    assert refreshes == 1  # once for all 50 concurrent callers
    assert expiry > datetime.now(timezone.utc) + timedelta(minutes=30)
    lags.sort()
    print(
        f"loop lag during an assume-role refresh under 50 callers: p50"
        f" {lags[len(lags) // 2] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms ({len(lags)} samples)"
    )


async def test_json_connection_and_profile_credentials(moto_server, monkeypatch, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[jobs]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = s3cr3t\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_JSON",
        json.dumps(
            {
                "conn_type": "aws",
                "extra": {
                    "region_name": "eu-central-1",
                    "endpoint_url": moto_server.url,
                    "profile_name": "jobs",
                    "config_kwargs": {"connect_timeout": 5},
                },
            }
        ),
    )
    async with AsyncAwsHook(conn_id="aws_json") as hook:
        assert hook.region_name == "eu-central-1"
        assert hook.profile_name == "jobs"
        assert hook.config_kwargs == {"connect_timeout": 5}
        await hook.call("s3", "list_buckets")
        client = await hook.get_client("s3")
        session = await hook._session()
        resolved = await session.get_credentials()
        assert resolved.access_key == "AKIAPROFILE"
        assert client.meta.config.retries["total_max_attempts"] == 1
        assert client.meta.config.max_pool_connections >= 100


def test_explicit_settings_win_and_half_a_key_pair_is_refused(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AWS_X", "aws://AKIACONN:connsecret@/?region_name=eu-west-1")
    hook = AsyncAwsHook(conn_id="aws_x", region_name="us-west-2")
    assert hook.region_name == "us-west-2"
    assert "connsecret" not in repr(hook)
    with pytest.raises(HookConfigError, match="go together"):
        AsyncAwsHook(aws_access_key_id="AKIAONLY")
    with pytest.raises(HookConfigError, match="endpoint_url"):
        AsyncAwsHook(endpoint_url="not a url")


async def test_a_services_models_are_read_off_the_loop_once(moto_server, monkeypatch):
    """The first client of a service parses its JSON models in a worker thread (else ~65 ms
    of blocked loop for Glue); later clients of that service find them in the shared loader."""
    import threading

    from async_hooks.aws import _session as aws_hook

    threads = []
    original = aws_hook._load_models

    def load(service):
        threads.append((service, threading.current_thread() is threading.main_thread()))
        original(service)

    monkeypatch.setattr(aws_hook, "_load_models", load)
    monkeypatch.setattr(aws_hook, "_loaded", set())
    for endpoint in (moto_server.url, moto_server.url + "/"):
        async with AsyncAwsHook(endpoint_url=endpoint, region_name="us-east-1") as hook:
            await hook.call("sqs", "list_queues")
    assert threads == [("sqs", False)]


def test_job_kinds_talk_to_a_context_not_to_the_hook():
    """kinds.py and the kinds' own modules (ECS's task definitions, Glue's pages) import no
    hook: they call through a ``KindContext``, so neither side reaches into the other."""
    import ast
    from pathlib import Path

    import async_hooks.aws

    package = Path(async_hooks.aws.__file__).parent
    for name in ("kinds.py", "_ecs.py", "_glue.py", "_context.py"):
        tree = ast.parse((package / name).read_text(encoding="utf-8"))
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not {
            m for m in imported if m.startswith(("async_hooks.aws.hook", "async_hooks.aws._waits"))
        }, name


async def test_a_session_goes_when_the_last_hook_of_its_identity_closes(monkeypatch):
    # Rotated credentials make new identities: their sessions must not pile up on the loop.
    # Closed at once here; by default they first linger idle_close_after (test_lifecycle.py).
    from async_hooks._core.loopstate import current_state

    monkeypatch.setattr(AsyncAwsHook, "idle_close_after", 0.0)

    keys = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "rotating-1"}
    first = AsyncAwsHook(region_name="us-east-1", **keys)
    second = AsyncAwsHook(region_name="us-east-1", **keys)
    assert await first._session() is await second._session()

    def sessions() -> list[object]:
        return [key for key in current_state()._memo if key[0] == "aws-session"]

    assert len(sessions()) == 1
    await first.close()
    assert len(sessions()) == 1
    await second.close()
    assert sessions() == []
