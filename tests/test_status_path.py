"""The status path (async_hooks/aws/_status.py) gives the same answer as botocore's parser.

For every kind on the status path, hypothesis generates pages of items from botocore's own
shape model of the kind's batch describe (tests/status_shapes.py): the same bytes go to
botocore's parser and to the status path, which must agree on each job's status, verdict and
failure reason, and build (from the job's own bytes) the very dict botocore parsed, datetimes
included; kept and unpacked, it is that dict again. A well-formed answer is never refused (a
decoder typed too strictly fails here), and one the decoder refuses is parsed by botocore.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.parsers import create_parser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from status_shapes import ODD_STATUSES, REASONS, answer_model, item_strategy

from async_hooks._core.plan import Deferred
from async_hooks._core.schedule.payloads import PayloadStore
from async_hooks.aws import job_kinds
from async_hooks.aws._readers import Readers, _api_name
from async_hooks.aws._status import reader_for

#: The kinds with a batch describe (all on JSON protocols), and the states they end in.
KINDS = ("batch", "athena", "ecs", "glue", "glue-crawler", "emr-step", "codebuild")
PROFILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _operation(kind: str) -> tuple[Any, Any, str]:
    spec = job_kinds()[kind]
    model = answer_model(spec.service)
    return spec, model, _api_name(model, spec.batch_describe)


def _leaves(spec: Any) -> dict[str, st.SearchStrategy[Any]]:
    """Odd values for what the kind reads: any status (its own, others', odd ones), reasons."""
    states = sorted(spec.success | spec.failure | spec.terminal | {"RUNNING", "READY", "STOPPED"})
    overrides: dict[str, st.SearchStrategy[Any]] = {
        spec.status_path: st.none() | st.sampled_from(states + list(ODD_STATUSES)),
    }
    for path in spec.reason_paths:
        overrides[path] = st.none() | REASONS
    return overrides


def _page(data: st.DataObject, kind: str) -> tuple[bytes, list[str], Any]:
    spec, model, api = _operation(kind)
    output = model.operation_model(api).output_shape
    list_key = spec.batch_item_path or spec.item_path
    item_shape = output.members[list_key].member
    id_path = spec.batch_item_id_path or spec.item_id_path
    items = data.draw(st.lists(item_strategy(item_shape, _leaves(spec)), max_size=4), "items")
    ids = []
    for n, item in enumerate(items):
        ids.append(f"id-{n}")
        long = kind == "ecs" and data.draw(st.booleans(), "arn")  # ARNs match their short ids
        item[id_path] = f"arn:aws:ecs:us-east-1:1:task/c/id-{n}" if long else f"id-{n}"
    page: dict[str, Any] = {list_key: items}
    if "NextToken" in output.members and data.draw(st.booleans(), "token"):
        page["NextToken"] = data.draw(st.text(max_size=8), "next token")
    ascii_only = data.draw(st.booleans(), "ascii")
    return json.dumps(page, ensure_ascii=ascii_only).encode(), [*ids, "not-listed"], output


def _judge(spec: Any, payload: Any) -> Any:
    """The verdict as ``PollPlan.judge`` gives it (or the error it raises)."""
    try:
        status = spec.status_of(payload)
        if spec.verdict is not None:
            return status, spec.verdict(payload, status)
        return status, True if status in spec.success else False if status in spec.failure else None
    except Exception as error:
        return type(error)


def _botocore(kind: str, body: bytes, output: Any, ids: list[str]) -> tuple[dict[str, Any], Any]:
    spec, model, _ = _operation(kind)
    response = {"body": body, "headers": {}, "status_code": 200}
    parsed = create_parser(model.resolved_protocol).parse(response, output)
    return spec.batch_items(parsed, ids), parsed.get("NextToken")


@pytest.mark.parametrize("kind", KINDS)
@PROFILE
@given(data=st.data())
def test_the_status_path_reads_what_botocore_parses(kind, data):
    spec, model, _ = _operation(kind)
    body, ids, output = _page(data, kind)
    expected, expected_token = _botocore(kind, body, output, ids)
    answer = (body, {}, model)
    found, token = Readers().items(spec, spec.batch_describe, answer, ids)
    assert token == expected_token
    assert found.keys() == expected.keys()
    store = PayloadStore()
    for job_id, item in found.items():
        assert type(item) is Deferred  # a well-formed answer is never refused
        parsed = expected[job_id]
        assert _judge(spec, item.brief) == _judge(spec, parsed)
        assert spec.reason_of(item.brief) == spec.reason_of(parsed)  # the brief's own reason
        built = item.full()
        assert built == parsed  # datetimes included
        assert spec.reason_of(built) == spec.reason_of(parsed)
        assert store.unpack(store.pack(item)) == parsed


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_with_a_batch_describe_is_on_the_status_path(kind):
    spec, model, api = _operation(kind)
    assert model.resolved_protocol in ("json", "rest-json")
    assert reader_for(spec, model, api) is not None


def test_these_are_all_the_kinds_with_a_batch_describe():
    assert {name for name, spec in job_kinds().items() if spec.batch_describe} == set(KINDS)


@pytest.mark.parametrize(
    "body",
    [
        b'{"jobs": [{"jobId": "id-0", "status": "FAILED", "statusReason": "no", "x": NaN}]}',
        b'{"jobs": [{"jobId": "id-0", "status": "RUNNING", "createdAt": Infinity}]}',
        b"<html>not implemented</html>",
        b"",
        b'{"jobs": {"jobId": "id-0"}}',
    ],
    ids=["NaN", "Infinity", "html", "empty", "not-a-list"],
)
def test_an_answer_the_decoder_refuses_is_parsed_by_botocore(body):
    """Python's json (botocore's) reads NaN and Infinity, and a body that is not JSON is a
    message: msgspec refuses all of these, and the answer is botocore's."""
    spec, model, api = _operation("batch")
    output = model.operation_model(api).output_shape
    try:
        expected = _botocore("batch", body, output, ["id-0"])
    except Exception as error:
        with pytest.raises(type(error)):
            Readers().items(spec, "describe_jobs", (body, {}, model), ["id-0"])
        return
    found = Readers().items(spec, "describe_jobs", (body, {}, model), ["id-0"])
    assert found == expected
    assert all(type(item) is dict for item in found[0].values())


def test_a_kind_with_a_verdict_that_does_not_say_what_it_reads_is_not_on_it():
    spec, model, api = _operation("ecs")
    mine = type(spec)(**{**spec.__dict__, "name": "ecs-mine", "brief_paths": ()})
    assert reader_for(mine, model, api) is None
    assert not Readers.may_serve(mine)


def test_a_protocol_that_is_not_json_is_not_on_it():
    spec, _, _ = _operation("batch")
    model = answer_model("elbv2")  # query protocol (XML)
    mine = type(spec)(
        **{**spec.__dict__, "name": "tg", "service": "elbv2", "batch_item_path": "TargetGroups"}
    )
    assert reader_for(mine, model, "DescribeTargetGroups") is None
