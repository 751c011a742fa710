"""``accelerate()`` takes over ``RedshiftDataTrigger`` (its own ``run``, not a waiter trigger):
the provider's ``run`` and the accelerated one against the same statement lifecycles on a
scripted Redshift Data endpoint (finished with and without rows, failed, aborted, a status that
is neither, a client error during the polls and at the last call, a throttle, an answer without
a status, no credentials): the same events, the same hook log lines, and the same calls (the
polls until the statement is not running, then the provider's last call)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from async_hooks.airflow import accelerate
from async_hooks.testing.aws_endpoint import AwsEndpoint, AwsError

from .test_accelerate import KEYS, REPORT, normal
from .test_accelerate import aws_env as aws_env  # the fixture

pytestmark = pytest.mark.once

PATH = "airflow.providers.amazon.aws.triggers.redshift_data.RedshiftDataTrigger"
SERVICE, OPERATION = "redshift-data", "DescribeStatement"


def _statement(status: str | None, **more: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"Id": "id-1", **more}
    if status is not None:
        found["Status"] = status
    return found


RUNNING = _statement("STARTED")
CASES: dict[str, tuple[list[Any], str]] = {
    "finished": ([_statement("SUBMITTED"), RUNNING, _statement("FINISHED", ResultRows=5)], "k"),
    "finished without rows": ([RUNNING, _statement("FINISHED")], "k"),
    "failed": ([RUNNING, _statement("FAILED", Error="syntax error at line 1")], "k"),
    "aborted": ([RUNNING, _statement("ABORTED")], "k"),
    "neither": ([RUNNING, _statement("ALL")], "k"),
    "error": ([RUNNING, AwsError("ValidationException", "bad input")], "k"),
    "error at the last call": (
        [RUNNING, _statement("FINISHED"), AwsError("ResourceNotFoundException", "gone")],
        "k",
    ),
    "throttled": (
        [RUNNING, AwsError("ThrottlingException", "slow down"), _statement("FINISHED")],
        "k",
    ),
    "no status": ([RUNNING, _statement(None)], "k"),
    "no credentials": ([RUNNING], ""),
}


def test_it_is_taken() -> None:
    assert PATH in REPORT.taken, REPORT.left.get(PATH)


class Lifecycle:
    """One answer per call, the last one for every call after."""

    def __init__(self, states: list[Any]) -> None:
        self.states = states
        self.served = 0

    def __call__(self, params: dict[str, Any]) -> Any:
        state = self.states[min(self.served, len(self.states) - 1)]
        self.served += 1
        if isinstance(state, AwsError) and state.code == "ThrottlingException":
            self.states = [s for n, s in enumerate(self.states) if n != self.served - 1]
            self.served -= 1  # a throttle answers one call: the retry gets what follows
        return state


def _verdict_at(endpoint: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Filled, at the accelerated polls' verdict, with the calls made and the status."""
    from async_hooks.airflow._accelerate import _statement

    found: list[Any] = []
    status_of = _statement._Polls.status_of

    def judged(polls: Any, answer: Any) -> str:
        status = status_of(polls, answer)
        if not found and not status.startswith("running"):
            found[:] = [len(endpoint.calls), status]
        return status

    monkeypatch.setattr(_statement._Polls, "status_of", judged)
    return found


async def _run(trigger: Any, *, accelerated: bool) -> tuple[list[Any], list[str]]:
    """The events, and the hook's log lines (structlog's, as Airflow's hooks log)."""
    from structlog.testing import capture_logs

    accelerate(enable=accelerated)
    try:
        with capture_logs() as logs:
            events = [json.loads(normal(json.dumps(e.payload))) async for e in trigger.run()]
    finally:
        accelerate(enable=False)
    lines = [
        str(entry["event"]) % tuple(entry.get("positional_args", ()))
        for entry in logs
        if entry.get("log_level") in ("info", "warning", "error")
    ]
    return events, [normal(line) for line in lines if "Connection" not in line]


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("case", list(CASES))
async def test_the_same_outcomes(
    case: str, threaded_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.providers.amazon.aws.triggers.redshift_data import RedshiftDataTrigger

    states, keys = CASES[case]
    seen = []
    for run, accelerated in enumerate((False, True)):
        endpoint = AwsEndpoint(SERVICE)
        endpoint.script(SERVICE, OPERATION, then=Lifecycle(states))
        url = threaded_server(endpoint.app()).url
        extra = {"endpoint_url": url, "region_name": "us-east-1"}
        conn = {"conn_type": "aws", **(KEYS if keys else {}), "extra": extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_STATEMENT{run}", json.dumps(conn))
        verdict = _verdict_at(endpoint, monkeypatch)
        trigger = RedshiftDataTrigger(
            statement_id="id-1", task_id="query", poll_interval=0, aws_conn_id=f"statement{run}"
        )
        events, lines = await _run(trigger, accelerated=accelerated)
        calls = len(endpoint.calls)
        if accelerated:  # the polls until the verdict, then the last call if any
            assert verdict, f"{case}: not accelerated"
            polls, status = verdict
            calls = polls + (status == "success" and calls > polls)
        seen.append((events, lines, calls))
    provider, ours = seen
    assert ours == provider
    assert provider[0][0]["statement_id"] == "id-1"
    if case == "finished":
        assert provider[1] == ["Processed 5 rows"], provider
