"""accelerate() decides each trigger class once, one decision at a time: a decision reads
source, and CPython 3.11's parser is not safe in two threads at once ("SystemError: AST
constructor recursion depth mismatch" when triggers of several classes started together)."""

from __future__ import annotations

import importlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from async_hooks.airflow import _accelerate

# The module, not the package's own function of the same name.
_survey = importlib.import_module("async_hooks.airflow._accelerate._survey")

glue = pytest.importorskip("airflow.providers.amazon.aws.triggers.glue")


def test_triggers_starting_together_decide_their_class_once_one_at_a_time(monkeypatch):
    cls = glue.GlueJobCompleteTrigger
    monkeypatch.setattr(_accelerate, "_decisions", {})
    inside = {"now": 0, "most": 0, "calls": 0}
    count = threading.Lock()
    never = threading.Event()

    def decide(*args: Any) -> tuple[bool, str]:
        with count:
            inside["now"] += 1
            inside["calls"] += 1
            inside["most"] = max(inside["most"], inside["now"])
        never.wait(0.5)  # time for every other thread to come in, were nothing to stop them
        with count:
            inside["now"] -= 1
        return True, "decided"

    monkeypatch.setattr(_survey, "decide", decide)
    with ThreadPoolExecutor(8) as pool:
        decisions = list(pool.map(lambda _: _accelerate._decide(cls), range(8)))
    assert decisions == [(True, "decided")] * 8
    assert (inside["calls"], inside["most"]) == (1, 1)
