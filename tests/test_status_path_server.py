"""The status path against a real server (an aiohttp app speaking ECS's JSON protocol): a wait
ends with the very dict the client parses, datetimes included; throttled answers are counted and
retried by the pipeline, and an error answer is botocore's ``ClientError``, mapped once; an
answer the decoder refuses is read by botocore. tests/test_status_path.py compares the two
parsers on generated answers."""

from __future__ import annotations

import gc

import pytest
from botocore.exceptions import ClientError
from botocore.session import get_session

from async_hooks import AsyncAwsHook, ServiceError
from async_hooks._core.plan import Deferred
from async_hooks.aws import job_kinds
from async_hooks.aws._capture import Captured, capture_body

CLUSTER = "etl"
ARN = f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/"
DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition/etl:3"


def _hook(url: str) -> AsyncAwsHook:
    return AsyncAwsHook(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _task(task_id: str, status: str, **extra: object) -> dict[str, object]:
    task: dict[str, object] = {
        "taskArn": ARN + task_id,
        "clusterArn": f"arn:aws:ecs:us-east-1:123456789012:cluster/{CLUSTER}",
        "taskDefinitionArn": DEFINITION,
        "lastStatus": status,
        "createdAt": 1764090000.25,
        "tags": [{"key": "team", "value": "données"}],
        "containers": [{"name": "app", "lastStatus": status}],
    }
    if status == "STOPPED":
        task.update(stoppedAt=1764090300.5, stoppedReason="Essential container exited")
        task["containers"] = [{"name": "app", "lastStatus": "STOPPED", "exitCode": 0}]
    task.update(extra)
    return task


def _scripted(statuses: list[str], **extra: object):
    """DescribeTasks answers each asked task in the next of ``statuses`` (then the last)."""
    seen: dict[str, int] = {}

    def answer(body: dict[str, object]) -> tuple[int, dict[str, object]]:
        tasks = []
        for task_id in body["tasks"]:  # type: ignore[union-attr]
            n = seen[task_id] = seen.get(task_id, -1) + 1
            tasks.append(_task(task_id, statuses[min(n, len(statuses) - 1)], **extra))
        return 200, {"tasks": tasks, "failures": []}

    return answer


DEFINITION_ANSWER = (
    200,
    {"taskDefinition": {"containerDefinitions": [{"name": "app", "essential": True}]}},
)


async def test_a_wait_ends_with_the_clients_own_response(aws_json_endpoint):
    throttled = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
    endpoint = aws_json_endpoint(
        {"DescribeTasks": [throttled]},
        default={
            "DescribeTasks": _scripted(["RUNNING", "RUNNING", "STOPPED"]),
            "DescribeTaskDefinition": DEFINITION_ANSWER,
        },
    )
    seen = []
    async with _hook(endpoint.url) as hook:
        result = await hook.wait_for_job(
            "ecs",
            "t-1",
            cluster=CLUSTER,
            poll_interval=0.01,
            jitter=0.0,
            on_status=lambda r: seen.append((r.status, r.response)),
        )
        stats = hook.stats()["operations"]["aws:ecs:describe_tasks"]
        answer = await hook.call("ecs", "describe_tasks", cluster=CLUSTER, tasks=["t-1"])
    assert result.succeeded and result.status == "STOPPED"
    parsed = answer["tasks"][0]  # the client's own parse of the same item
    assert {k: v for k, v in result.response.items() if not k.startswith("_")} == parsed
    assert parsed["createdAt"].year == 2025  # a datetime, on both sides
    assert [status for status, _ in seen] == ["RUNNING", "STOPPED"]
    assert seen[0][1]["createdAt"] == parsed["createdAt"]
    assert stats["throttled"] == 1 and stats["retries"] == 1 and stats["errors"] == 0


async def test_a_batch_answer_is_read_as_briefs_and_an_error_stays_botocores(aws_json_endpoint):
    refused = (400, {"__type": "ClientException", "message": "no such cluster"})
    endpoint = aws_json_endpoint(
        {"DescribeTasks": [(200, {"tasks": [_task("t-1", "RUNNING")]}), refused]}
    )
    async with _hook(endpoint.url) as hook:
        spec = job_kinds()["ecs"]
        batch = hook._plans().plan(spec, "t-1", {"cluster": CLUSTER}, coalesce=True).batch
        assert batch is not None and batch.fetch_many is not None
        found = await batch.fetch_many(["t-1", "t-2"])
        assert list(found) == ["t-1"]  # t-2 is not listed: described alone by the tick
        item = found["t-1"]
        assert type(item) is Deferred and item.brief["lastStatus"] == "RUNNING"
        assert "tags" not in item.brief  # what the verdict does not read is not built
        with pytest.raises(ServiceError) as caught:
            await batch.fetch_many(["t-1"])
        stats = hook.stats()["operations"]["aws:ecs:describe_tasks"]
    assert isinstance(caught.value, ClientError)
    assert caught.value.operation_name == "DescribeTasks"
    assert caught.value.code == "ClientException"
    assert stats["calls"] == 2 and stats["errors"] == 1


async def test_an_answer_the_decoder_refuses_is_read_by_botocore(aws_json_endpoint):
    """aiohttp's json.dumps writes a float NaN as ``NaN``: Python's json (botocore's) reads it,
    msgspec refuses it, so the answer takes botocore's parse and the wait goes on."""
    endpoint = aws_json_endpoint(
        default={
            "DescribeTasks": _scripted(["RUNNING", "STOPPED"], cpu=float("nan")),
            "DescribeTaskDefinition": DEFINITION_ANSWER,
        },
    )
    async with _hook(endpoint.url) as hook:
        spec = job_kinds()["ecs"]
        batch = hook._plans().plan(spec, "t-9", {"cluster": CLUSTER}, coalesce=True).batch
        assert batch is not None and batch.fetch_many is not None
        found = await batch.fetch_many(["t-9"])
        assert type(found["t-9"]) is dict  # botocore's parse
        result = await hook.wait_for_job("ecs", "t-9", cluster=CLUSTER, poll_interval=0.01)
    assert result.succeeded
    assert result.response["createdAt"].year == 2025


async def test_no_answer_is_held_after_its_call_by_the_contexts_copied_during_it(
    aws_json_endpoint,
):
    """Contexts copied inside a captured call outlive it: the pooled connection's read handle
    (opened by that call) and each cancelled timeout's ``TimerHandle`` keep theirs. Holding the
    body there kept one page per pooled connection and per timer: 47 pages (7 MiB) at the
    last tick of 20,000 waits with full details, more than the hand-written poller's peak."""
    endpoint = aws_json_endpoint(
        default={
            "DescribeTasks": _scripted(["RUNNING", "STOPPED"]),
            "DescribeTaskDefinition": DEFINITION_ANSWER,
        },
    )
    async with _hook(endpoint.url) as hook:
        result = await hook.wait_for_job("ecs", "t-3", cluster=CLUSTER, poll_interval=0.01)
        assert result.succeeded  # the connection it opened is still pooled here
        gc.collect()
        held = [o for o in gc.get_objects() if type(o) is Captured and o.body is not None]
    assert held == []


def test_the_capture_leaves_an_answer_of_another_protocol_to_botocore():
    model = get_session().get_service_model("elbv2")  # query protocol: XML answers
    operation = model.operation_model("DescribeTargetGroups")
    answer = {"status_code": 200, "body": b"<DescribeTargetGroupsResponse/>", "headers": {}}
    with Captured() as captured:
        capture_body(operation_model=operation, response_dict=answer)
    assert captured.body is None and answer["body"] == b"<DescribeTargetGroupsResponse/>"
    json_operation = get_session().get_service_model("ecs").operation_model("DescribeTasks")
    error = {"status_code": 400, "body": b'{"__type": "ClientException"}', "headers": {}}
    with Captured() as captured:
        capture_body(operation_model=json_operation, response_dict=error)
    assert captured.body is None and error["body"] == b'{"__type": "ClientException"}'
    outside = {"status_code": 200, "body": b'{"tasks": []}', "headers": {}}
    capture_body(operation_model=json_operation, response_dict=outside)  # no capture() here
    assert outside["body"] == b'{"tasks": []}'


async def test_a_kind_on_a_query_protocol_is_parsed_by_botocore(moto_server, monkeypatch):
    """A kind registered on an XML (query protocol) service waits as before: the capture leaves
    its answers to botocore, and no status reader is built for it (moto's ELBv2)."""
    from async_hooks.aws import JobKind, kinds

    kind = JobKind(
        name="target-group",
        service="elbv2",
        describe="describe_target_groups",
        id_param="TargetGroupArns",
        id_is_list=True,
        item_path="TargetGroups",
        item_id_path="TargetGroupArn",
        status_path="TargetType",
        success=frozenset({"instance"}),
        failure=frozenset({"lambda"}),
        batch_describe="describe_target_groups",
        batch_max=20,
    )
    monkeypatch.setitem(kinds._REGISTRY, kind.name, kind)
    async with _hook(moto_server.url) as hook:
        vpc = (await hook.call("ec2", "create_vpc", CidrBlock="10.0.0.0/16"))["Vpc"]["VpcId"]
        arns = []
        for n in range(3):
            made = await hook.call(
                "elbv2", "create_target_group", Name=f"tg-{n}", Protocol="HTTP", Port=80,
                VpcId=vpc,
            )  # fmt: skip
            arns.append(made["TargetGroups"][0]["TargetGroupArn"])
        results = [
            await hook.wait_for_job("target-group", arn, poll_interval=0.01, timeout=30)
            for arn in arns
        ]
        answer = await hook.call("elbv2", "describe_target_groups", TargetGroupArns=arns[:1])
        readers = hook._plans()._readers._cache
    assert all(r.succeeded for r in results)
    assert results[0].response == answer["TargetGroups"][0]
    assert not readers  # every answer was botocore's
