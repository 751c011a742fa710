"""What the triggerer does to a trigger, for the tests to do the same."""

from __future__ import annotations

import importlib
from typing import Any

from async_hooks.airflow import WaitForJobTrigger


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
