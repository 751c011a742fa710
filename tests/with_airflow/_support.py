"""What the triggerer does to a trigger, for the tests to do the same."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from async_hooks.airflow import WaitForJobTrigger
from async_hooks.airflow._versions import airflow_version

#: For a test of a scheduler-started sensor with templated fields: from Airflow 3.3 only, which
#: renders a trigger's templates in the triggerer; before, such a sensor defers from a worker.
needs_airflow_3_3 = pytest.mark.skipif(
    airflow_version() < (3, 3, 0),
    reason="start_from_trigger with templated fields needs Airflow 3.3 (it renders the "
    "trigger's templates in the triggerer); before, the sensor defers from a worker",
)

#: Airflow's runner calls a trigger's ``on_kill`` on a user's action from 3.3 on; before, no one.
needs_trigger_on_kill = pytest.mark.skipif(
    airflow_version() < (3, 3, 0),
    reason="Airflow's triggerer calls a trigger's on_kill from 3.3 on",
)


def rebuilt(trigger: WaitForJobTrigger) -> WaitForJobTrigger:
    """Store the trigger as Airflow stores it (serde, encrypted row), read it back, import the
    classpath and call it with the kwargs."""
    from airflow.models.trigger import Trigger

    row = Trigger.from_object(trigger)
    module, _, name = row.classpath.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    again: WaitForJobTrigger = cls(**row.kwargs)
    return again


async def only_event(trigger: WaitForJobTrigger) -> dict[str, Any]:
    """Drive ``run()`` to its end; it must yield exactly one event. Its payload."""
    events = [event async for event in trigger.run()]
    assert len(events) == 1
    payload: dict[str, Any] = events[0].payload
    return payload
