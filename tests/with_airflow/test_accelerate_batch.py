"""``accelerate()``: taken triggers whose waiter's own call is a batch call (Batch ``DescribeJobs``
with a list of ids, EMR ``ListSteps`` with ``StepIds``). The differential test proves one trigger
alone (its poll is its own single call, never asked twice); here two triggers of one key share
one call listing both ids, and each gets the event the provider's trigger gets alone: one the
success event, the other the failure event with the provider's exception and message."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from typing import Any

import pytest

from async_hooks.airflow import accelerate
from async_hooks.airflow._accelerate._fetch import BATCH_FORMS, BatchForm, snake
from async_hooks.testing.aws_endpoint import AwsEndpoint

from .accelerate_cases import answers, build, variants, waiter_of
from .test_accelerate import KEYS, TAKEN, normal
from .test_accelerate import aws_env as aws_env  # the fixture

pytestmark = pytest.mark.once

IDS = ("id-1", "id-2")
#: The batch item's id field, by the answer's list key.
ID_FIELDS = {"jobs": "jobId", "Steps": "Id"}


def _same_call_forms() -> list[str]:
    """Taken classes whose waiter's operation is its batch form's own batch call."""
    from async_hooks.aws.kinds import get_job_kind

    found = []
    for path in TAKEN:
        spec = waiter_of(build(_cls(path), **variants(_cls(path))[0]))
        form = BATCH_FORMS.get((spec.service, spec.operation))
        if form is not None and get_job_kind(form.kind).batch_describe == snake(spec.operation):
            found.append(path)
    return found


def _cls(path: str) -> type:
    module, _, name = path.rpartition(".")
    found: type = getattr(__import__(module, fromlist=[name]), name)
    return found


def _second(cls: type, form: BatchForm, **given: Any) -> Any:
    """The class built with the id ``id-2`` (the parameter whose value becomes the waiter's id
    argument, found by trying each), the other waiter arguments unchanged."""
    first = build(cls, **given)
    for parameter in inspect.signature(cls).parameters.values():
        for value in (IDS[1], [IDS[1]]):
            try:
                trigger = build(cls, **given, **{parameter.name: value})
            except Exception:
                continue
            args, before = dict(trigger.waiter_args), dict(first.waiter_args)
            if form.fits(args) and form.job_id(args) == IDS[1]:
                args.pop(form.id_arg), before.pop(form.id_arg)
                if args == before:
                    return trigger
    raise AssertionError(f"no parameter of {cls.__name__} names its waiter's id")


def _items(config: Any, state: str, key: str) -> dict[str, Any]:
    """The first answer this waiter's ``state`` acceptor is shaped for: its item."""
    shaped = next(answer for found, answer in answers(config) if found == state)
    held = shaped[key]
    item: dict[str, Any] = held[0] if isinstance(held, list) else held
    return item


async def _events(triggers: list[Any], *, accelerated: bool) -> list[Any]:
    accelerate(enable=accelerated)

    async def run(trigger: Any) -> list[Any]:
        return [json.loads(normal(json.dumps(e.payload))) async for e in trigger.run()]

    try:
        return list(await asyncio.gather(*(run(t) for t in triggers)))
    finally:
        accelerate(enable=False)


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("path", _same_call_forms())
async def test_one_call_serves_both(
    path: str, threaded_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = _cls(path)
    spec = waiter_of(build(cls))
    service, operation = spec.service, spec.operation
    form = BATCH_FORMS[service, operation]
    key, id_field = form.answer_key, ID_FIELDS[form.answer_key]
    ends = {
        IDS[0]: _items(spec.config, "success", key),
        IDS[1]: _items(spec.config, "failure", key),
    }
    seen = []
    for run, accelerated in enumerate((False, True)):
        endpoint = AwsEndpoint(service)
        together = threading.Event() if accelerated else None  # the endpoint's thread sets it

        def answer(params: dict[str, Any], together: Any = together) -> dict[str, Any]:
            ids = params[form.id_arg]
            if together is not None and len(ids) > 1:
                together.set()
            held = together is not None and not together.is_set()
            return {key: [{**({} if held else ends[i]), id_field: i} for i in ids]}

        endpoint.script(service, operation, then=answer)
        url = threaded_server(endpoint.app()).url
        conn = {
            "conn_type": "aws",
            **KEYS,
            "extra": {"endpoint_url": url, "region_name": "us-east-1"},
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_BATCH{run}", json.dumps(conn))
        given = {"waiter_delay": 0, "waiter_max_attempts": 1000, "aws_conn_id": f"batch{run}"}
        triggers = [build(cls, **given), _second(cls, form, **given)]
        seen.append(await _events(triggers, accelerated=accelerated))
        if accelerated:
            listed = [sorted(c.params[form.id_arg]) for c in endpoint.calls]
            assert sorted(IDS) in listed, listed  # one call listed both
            assert len(endpoint.calls) < 1000, "the waits were not shared"
    provider, ours = seen
    assert ours == provider
    assert provider[0][0]["status"] == "success", provider
    assert provider[1][0]["status"] == "error", provider
