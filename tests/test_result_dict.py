"""``JobResult.to_dict()``: JSON values only (what ``json.dumps`` and a store take), from a real
describe answer with botocore's datetimes, and optionally masked."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json

from async_hooks import AsyncAwsHook, AsyncHttpHook, JobResult
from async_hooks._jsonable import json_safe

QUICK = {"poll_interval": 0.01, "timeout": 60.0}
KEYS = {"kind", "job_id", "status", "succeeded", "polls", "elapsed", "response"}


async def test_a_glue_result_is_json_with_iso_datetimes(moto_server):
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 1})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        await hook.call("glue", "create_job", Name="etl", Role="r", Command={"Name": "glueetl"})
        run = (await hook.call("glue", "start_job_run", JobName="etl"))["JobRunId"]
        result = await hook.wait_for_job("glue", run, job_name="etl", **QUICK)
    started = result.response["StartedOn"]
    assert isinstance(started, dt.datetime)  # botocore parsed it
    data = result.to_dict()
    assert set(data) == KEYS
    assert json.loads(json.dumps(data)) == data  # JSON values only, unchanged by a round trip
    assert data["response"]["StartedOn"] == started.isoformat()
    assert dt.datetime.fromisoformat(data["response"]["StartedOn"]) == started
    assert (data["kind"], data["job_id"], data["status"]) == ("glue", run, "SUCCEEDED")
    assert data["succeeded"] is True and data["polls"] == result.polls


async def test_a_mask_reaches_every_string_of_the_payload(job_server):
    server = job_server()
    job_id = server.create(polls=0, outcome="SUCCEEDED")
    async with AsyncHttpHook(server.url) as hook:
        result = await hook.wait_for_job(f"/jobs/{job_id}", **QUICK)
    data = result.to_dict(mask=lambda text: text.replace(job_id, "***"))
    assert data["response"]["id"] == "***"
    assert data["job_id"] == f"/jobs/{job_id}"  # the wait's own identity is not the payload


def test_every_value_kind_becomes_json():
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    payload = {
        "at": when,
        "day": dt.date(2026, 1, 2),
        "raw": b"\x00\xff",
        "view": memoryview(b"ab"),
        "cost": decimal.Decimal("1.10"),
        "ratio": float("nan"),
        "big": float("inf"),
        "ids": ("a", "b"),
        "tags": frozenset({"x"}),
        3: None,
        "other": object.__new__(type("Odd", (), {"__str__": lambda self: "odd"})),
    }
    result = JobResult("k", "j", "DONE", True, payload, 1, 0.5)
    response = result.to_dict()["response"]
    assert response["at"] == "2026-01-02T03:04:05+00:00" and response["day"] == "2026-01-02"
    assert base64.b64decode(response["raw"]) == b"\x00\xff" and response["view"] == "YWI="
    assert response["cost"] == "1.10" and response["ratio"] == "nan" and response["big"] == "inf"
    assert response["ids"] == ["a", "b"] and response["tags"] == ["x"]
    assert response["3"] is None and response["other"] == "odd"
    json.dumps(response, allow_nan=False)  # strict JSON: no NaN or Infinity left


def test_json_safe_masks_values_but_not_keys_or_numbers():
    # Keys are the API's field names, never a secret a server echoed: not scanned (issue 19).
    masked = json_safe(
        {"token=s3cret": ["s3cret", 7, True]}, lambda text: text.replace("s3cret", "*")
    )
    assert masked == {"token=s3cret": ["*", 7, True]}
