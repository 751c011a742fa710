"""Verdicts and parsing that follow the standard and Airflow: ECS tasks that never ran, every
HTTP-date form of ``Retry-After``."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from async_hooks import AsyncAwsHook, JobFailedError
from async_hooks._core.retry_after import parse_retry_after

QUICK = {"poll_interval": 0.01, "jitter": 0.0}
ARN = "arn:aws:ecs:us-east-1:1:task/c/t1"


def _hook(endpoint) -> AsyncAwsHook:
    return AsyncAwsHook(
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _stopped(**fields) -> dict:
    task = {"taskArn": ARN, "lastStatus": "STOPPED", "containers": [], **fields}
    return {"tasks": [task], "failures": []}


@pytest.mark.parametrize(
    ("task", "reason"),
    [
        (
            {"stopCode": "TaskFailedToStart", "stoppedReason": "CannotPullContainerError: nope"},
            "CannotPullContainerError: nope",
        ),
        ({"stopCode": "TaskFailedToStart"}, "TaskFailedToStart"),
        ({}, "no container ran"),
        (
            {
                "stopCode": "EssentialContainerExited",
                "stoppedReason": "Host EC2 (instance i-0abc) terminated.",
                "containers": [{"name": "main", "exitCode": 0}],
            },
            "Host EC2 (instance i-0abc) terminated.",
        ),
    ],
    ids=["failed-to-start", "failed-to-start-no-reason", "no-containers", "host-terminated"],
)
async def test_an_ecs_task_that_never_ran_or_lost_its_host_failed(aws_json_endpoint, task, reason):
    """Every essential container exited 0 is vacuously true of a task without containers:
    Airflow's EcsRunTaskOperator fails these, with the stopped reason."""
    endpoint = aws_json_endpoint(default={"DescribeTasks": (200, _stopped(**task))})
    async with _hook(endpoint) as hook:
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job("ecs", "t1", cluster="c", **QUICK)
    assert caught.value.result.status == "STOPPED"
    assert caught.value.reason == reason


def test_retry_after_in_every_http_date_form_is_read_as_gmt():
    """RFC 9110 section 5.6.7: a recipient must accept IMF-fixdate, RFC 850 and asctime."""
    now = time.time()
    moment = time.gmtime(now + 120)
    day = f"{moment.tm_mday:2d}"  # asctime pads the day with a space: "Dec  1"
    forms = [
        formatdate(now + 120, usegmt=True),  # Tue, 01 Dec 2026 09:41:03 GMT
        time.strftime("%A, %d-%b-%y %H:%M:%S GMT", moment),  # Tuesday, 01-Dec-26 09:41:03 GMT
        time.strftime(f"%a %b {day} %H:%M:%S %Y", moment),  # Tue Dec  1 09:41:03 2026
    ]
    for form in forms:
        delay = parse_retry_after(form, now=now)
        assert delay is not None, form
        assert 119 <= delay <= 120, form


def test_an_unreadable_retry_after_is_ignored():
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after("Tue Dec 99 09:41:03 2026") is None
