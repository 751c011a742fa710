"""``accelerate()``: for every trigger class it takes over in the installed Amazon provider, the
provider's ``run`` and the accelerated one against the same job lifecycles on a scripted AWS
endpoint speaking the service's protocol (success, each failure acceptor, max attempts, a
retriable error code, a non-retriable one, no credentials): the same events, the same exception
types and messages, the same status lines (once per change). Also runs the one line of
docs/airflow.md, "Accelerate existing DAGs" (``accelerate()``)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest

from async_hooks.airflow import accelerate
from async_hooks.airflow._accelerate._fetch import BATCH_FORMS
from async_hooks.testing.aws_endpoint import AwsError

from .accelerate_cases import (
    CHECKED,
    OWN_RUNS_TAKEN,
    answers,
    build,
    running,
    table,
    variants,
    waiter_of,
)
from .query_endpoint import endpoint_for

#: On the first Python present only: the provider's code and ours are the same on every
#: interpreter, and the whole comparison takes minutes.
pytestmark = pytest.mark.once

REPORT = accelerate()
#: The waiter triggers taken (the ones with their own run: their own differential tests).
TAKEN = sorted(path for path in REPORT.taken if path not in OWN_RUNS_TAKEN)
accelerate(enable=False)

#: Batch forms (the waiter's operation -> the batch operation, its list key, the item's id field).
BATCHED = {
    ("glue", "GetJobRun"): ("GetJobRuns", "JobRuns", "Id"),
    ("batch", "DescribeJobs"): ("DescribeJobs", "jobs", "jobId"),
    ("athena", "GetQueryExecution"): (
        "BatchGetQueryExecution",
        "QueryExecutions",
        "QueryExecutionId",
    ),
    ("emr", "DescribeStep"): ("ListSteps", "Steps", "Id"),
    ("emr", "ListSteps"): ("ListSteps", "Steps", "Id"),
    ("glue", "GetCrawler"): ("BatchGetCrawlers", "Crawlers", "Name"),
}
KEYS = {"login": "testing", "password": "testing-secret"}
LOGGER = "airflow.providers.amazon.aws.utils.waiter_with_logging"


def test_the_checked_table_is_the_installed_providers() -> None:
    """After a provider upgrade: ``python -m tests.with_airflow.accelerate_cases --write``."""
    from async_hooks.airflow._accelerate import _checked
    from async_hooks.airflow._accelerate._survey import in_range, provider_version

    found = provider_version()
    if not in_range(found):  # an older Python's newest provider: every trigger is left to it
        assert TAKEN == [], TAKEN
        pytest.skip(f"provider {found} is outside the checked range {_checked.VERSION_RANGE}")

    fresh: dict[str, Any] = {}
    exec(table(), fresh)  # the table as the installed provider gives it (ruff formats the file)
    names = ("VERSION_RANGE", "COMMON", "TAKEN", "NOTES", "LEFT")
    assert {n: getattr(_checked, n) for n in names} == {n: fresh[n] for n in names}, CHECKED
    assert "airflow.providers.amazon.aws.triggers.glue.GlueJobCompleteTrigger" in TAKEN


def test_the_report_names_every_trigger() -> None:
    """Every trigger class of the provider is taken or left with why, those with their own
    ``run`` (not waiter triggers: never dispatched) too, so an operator sees what runs as
    before."""
    from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
    from airflow.triggers.base import BaseTrigger

    from async_hooks.airflow._accelerate._survey import PACKAGE, class_path

    found, todo = set(), list(BaseTrigger.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(PACKAGE) and cls is not AwsBaseWaiterTrigger:
            found.add(cls)
    assert {class_path(c) for c in found} - set(REPORT.taken) - set(REPORT.left) == set()
    own = [class_path(c) for c in found if not issubclass(c, AwsBaseWaiterTrigger)]
    assert f"{PACKAGE}.s3.S3KeyTrigger" in own
    left = [path for path in own if path not in OWN_RUNS_TAKEN]
    assert all(REPORT.left[path].startswith("its own run") for path in left), REPORT.left
    assert set(REPORT.taken).isdisjoint(REPORT.left)


def test_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger

    original = AwsBaseWaiterTrigger.run
    monkeypatch.setenv("ASYNC_HOOKS_ACCELERATE", "0")
    report = accelerate()
    assert (report.enabled, report.taken, str(report)) == (
        False,
        {},
        "accelerate(): off (ASYNC_HOOKS_ACCELERATE=0)",
    )
    assert AwsBaseWaiterTrigger.run is original
    monkeypatch.delenv("ASYNC_HOOKS_ACCELERATE")
    assert accelerate().enabled and accelerate().enabled  # idempotent
    assert AwsBaseWaiterTrigger.run is not original
    accelerate(enable=False)
    assert AwsBaseWaiterTrigger.run is original


class Lifecycle:
    """A job's answers, one per poll, served to the waiter's operation and its batch form.
    An accelerated wait in a batch form asks the batch call first: an answer that carries the
    job serves that poll; an error answer is asked again by the single call that follows."""

    def __init__(self, states: list[Any], batched: tuple[str, str, str] | None, twice: bool):
        self.states = states
        self.batched = batched
        self.twice = twice
        self.served = 0

    def _next(self, batch: bool) -> Any:
        state = self.states[min(self.served, len(self.states) - 1)]
        if not (batch and isinstance(state, AwsError) and self.twice):
            self.served += 1
        return state

    def single(self, params: dict[str, Any]) -> Any:
        return self._with_id(self._next(False))

    def batch(self, params: dict[str, Any]) -> Any:
        state = self._next(True)
        if isinstance(state, AwsError) or self.batched is None:
            return state
        _, key, _ = self.batched
        items = [item for held in self._with_id(state).values() for item in _listed(held)]
        return {key: items}

    def _with_id(self, state: Any) -> Any:
        if self.batched is None or not isinstance(state, dict):
            return state
        _, _, id_field = self.batched
        return {
            key: [{**i, id_field: "id-1"} for i in held]
            if isinstance(held, list)
            else {**held, id_field: "id-1"}
            for key, held in state.items()
            if isinstance(held, (dict, list))
        }


def _listed(held: Any) -> list[Any]:
    return held if isinstance(held, list) else [held]


class Lines(logging.Handler):
    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if not self.lines or self.lines[-1] != line:  # once per change
            self.lines.append(line)


def normal(text: str) -> str:
    """A message with the response's metadata (request id, date) masked: it differs per call."""
    return re.sub(
        r"'ResponseMetadata': \{[^{}]*(\{[^{}]*\}[^{}]*)*\}", "'ResponseMetadata': ...", text
    )


async def outcome(trigger: Any, *, accelerated: bool) -> tuple[Any, ...]:
    accelerate(enable=accelerated)
    errors: list[type] = []
    made = trigger._event_from_exception

    def recorded(error: Exception) -> Any:
        errors.append(type(error))
        return made(error)

    trigger._event_from_exception = recorded
    handler, ours = Lines(), Lines(logging.DEBUG)
    log, own = logging.getLogger(LOGGER), logging.getLogger("async_hooks")
    log.addHandler(handler)
    own.addHandler(ours)
    levels = log.level, own.level
    log.level, own.level = logging.INFO, logging.DEBUG
    try:
        events = [json.loads(normal(json.dumps(e.payload))) async for e in trigger.run()]
    finally:
        log.removeHandler(handler)
        own.removeHandler(ours)
        log.level, own.level = levels
        accelerate(enable=False)
    fell_back = [line for line in ours.lines if "runs as the provider's" in line]
    return events, errors, handler.lines, fell_back


@pytest.fixture
def aws_env(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """An isolated AWS environment (moto's fixture strips AWS_*), without the default keys."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")


def _decided_at(endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Filled, at an accelerated wait's verdict, with the calls ``endpoint`` had answered."""
    from async_hooks.airflow._accelerate._waiter import SUCCESS, Attempts

    decided: list[int] = []
    status_of = Attempts.status_of

    def judged(attempts: Attempts, answer: Any) -> str:
        status = status_of(attempts, answer)
        if not decided and (status == SUCCESS or status.startswith("ended")):
            decided.append(len(endpoint.calls))
        return status

    monkeypatch.setattr(Attempts, "status_of", judged)
    return decided


def _cases(spec: Any) -> list[tuple[str, list[Any], str]]:
    """``(case, answers one per poll, connection)``: each acceptor's end, then the rest."""
    service, operation = spec.service, spec.operation
    waiting = running(spec.config, BATCH_FORMS.get((service, operation)))
    cases: list[tuple[str, list[Any], str]] = [
        (f"{state} {n}", [waiting, answer], "accel")
        for n, (state, answer) in enumerate(answers(spec.config))
    ]
    cases += [
        ("max attempts", [waiting], "accel"),
        ("retriable", [waiting, AwsError("ServerException", "busy"), waiting], "accel"),
        ("error", [waiting, AwsError("ValidationException", "bad input")], "accel"),
        ("no credentials", [waiting], "nokeys"),
    ]
    assert any(case.startswith("success") for case, _, _ in cases), "no success answer shaped"
    return cases


@pytest.mark.parametrize("path", TAKEN, ids=[p.rpartition("triggers.")[2] for p in TAKEN])
async def test_the_same_outcomes(
    path: str, aws_env: None, threaded_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, _, name = path.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    runs = 0
    for variant in variants(cls):  # each value of a parameter that picks the waiter
        spec = waiter_of(build(cls, **variant))
        service, operation = spec.service, spec.operation
        batched = BATCHED.get((service, operation))
        # a batch call of its own: an error answer is asked again by the single call
        own_batch = batched is not None and batched[0] != operation
        for case, states, conn_id in _cases(spec):
            case = f"{variant} {case}" if variant else case
            seen = []
            for accelerated in (False, True):
                # an endpoint per run: a tick of the last run still in flight cannot take an
                # answer
                endpoint = endpoint_for(service)
                url = threaded_server(endpoint.app()).url
                runs += 1  # a connection per run: Airflow may keep a connection it looked up
                names = {"accel": f"accel{runs}", "nokeys": f"nokeys{runs}"}
                for name, keys in ((names["accel"], KEYS), (names["nokeys"], {})):
                    extra = {"endpoint_url": url, "region_name": "us-east-1"}
                    conn = {"conn_type": "aws", **keys, "extra": extra}
                    monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps(conn))
                life = Lifecycle(states, batched, accelerated and own_batch)
                endpoint.script(service, operation, then=life.single)
                if batched is not None and own_batch:
                    endpoint.script(service, batched[0], then=life.batch)
                given = {**variant, "waiter_max_attempts": 2, "aws_conn_id": names[conn_id]}
                try:
                    trigger = build(cls, waiter_delay=0, **given)
                except ValueError:  # a trigger that wants a positive delay
                    trigger = build(cls, waiter_delay=1, **given)
                # one that works its attempts out from its own settings (a run timeout)
                trigger.attempts = given["waiter_max_attempts"]
                decided = _decided_at(endpoint, monkeypatch)
                events = await outcome(trigger, accelerated=accelerated)
                # the calls until the verdict (polls of a tick begun before the wait left it
                # are not the trigger's)
                made = endpoint.calls[: decided[0]] if decided else endpoint.calls
                seen.append((*events, [(c.operation, c.params) for c in made]))
            provider, ours = seen
            assert ours[3] == [], f"{case}: not accelerated: {ours[3]}"
            calls = ours[4][-8:]
            assert ours[:2] == provider[:2], f"{case}: {ours[:3]} != {provider[:3]} {calls}"
            # status lines: the provider's words, each change at most once (not every poll's)
            assert set(ours[2]) <= set(provider[2]), f"{case}: {ours[2]} not in {provider[2]}"
            if not own_batch:  # one trigger alone: the provider's own calls, none asked twice
                assert ours[4] == provider[4], f"{case}: calls {ours[4]} != {provider[4]}"
