"""``accelerate()``: the Amazon provider's deferrable triggers run on async_hooks, by one line in
``airflow_local_settings.py``, DAGs unchanged.

It installs one dispatcher as ``AwsBaseWaiterTrigger.run`` and one as ``RedshiftDataTrigger.run``
(at once if the provider's module is imported, else when it is): a trigger of a class taken over
(``_survey.decide``: checked provider range, unchanged code) runs ``_run.accelerated_run``
(``_statement.accelerated_statement_run``); any other runs the provider's ``run`` as before.
Nothing of the provider is imported by ``accelerate()`` itself: every Airflow process imports
local settings at start, and the triggers' modules (boto3, the hooks) cost a second. The report
imports them when it is first read.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from async_hooks.airflow._accelerate._survey import BASE_MODULE, STATEMENT_MODULE

__all__ = ["ENV", "AccelerateReport", "accelerate"]

#: ``ASYNC_HOOKS_ACCELERATE=0`` turns ``accelerate()`` off without a code change.
ENV = "ASYNC_HOOKS_ACCELERATE"
_OFF = frozenset({"0", "false", "no", "off"})

_lock = threading.Lock()
#: module -> the provider's run of its class, while the dispatcher is in place
_original: dict[str, Callable[..., Any]] = {}
_decisions: dict[type, tuple[bool, str]] = {}
_enabled = False


@dataclass
class AccelerateReport:
    """What ``accelerate()`` did. ``taken`` and ``left`` (class path -> note or reason) are
    worked out when first read: that imports every trigger module of the provider."""

    enabled: bool
    why: str = ""
    _survey: tuple[dict[str, str], dict[str, str]] | None = field(default=None, repr=False)

    @property
    def taken(self) -> dict[str, str]:
        return self._surveyed()[0]

    @property
    def left(self) -> dict[str, str]:
        return self._surveyed()[1]

    def _surveyed(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._survey is None:
            self._survey = _survey() if self.enabled else ({}, {})
        return self._survey

    def __str__(self) -> str:
        if not self.enabled:
            return f"accelerate(): off ({self.why})"
        lines = [f"accelerate(): {len(self.taken)} trigger classes taken over"]
        lines += [
            f"  taken {path}{f' ({note})' if note else ''}" for path, note in self.taken.items()
        ]
        lines += [f"  left  {path}: {why}" for path, why in self.left.items()]
        return "\n".join(lines)


def accelerate(enable: bool = True) -> AccelerateReport:
    """Run the Amazon provider's ``AwsBaseWaiterTrigger``-based deferrable triggers on
    async_hooks (one cached client per connection, the shared throttle and retries, the shared
    poll schedule), with their events, exceptions and log lines unchanged. Idempotent;
    ``accelerate(enable=False)`` undoes it; ``ASYNC_HOOKS_ACCELERATE=0`` in the environment
    turns it off. Returns a report of the trigger classes taken over and left, and why."""
    global _enabled
    why = ""
    if enable and os.environ.get(ENV, "").strip().lower() in _OFF:
        enable, why = False, f"{ENV}={os.environ[ENV]}"
    elif not enable:
        why = "accelerate(enable=False)"
    with _lock:
        _enabled = enable
        _decisions.clear()
        if enable:
            for name, (attribute, _) in _targets().items():
                module = sys.modules.get(name)
                if module is not None and hasattr(module, attribute):
                    _patch(module)
            if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
                sys.meta_path.insert(0, _PatchOnImport())
        else:
            sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _PatchOnImport)]
            _unpatch()
    return AccelerateReport(enable, why)


def _targets() -> dict[str, tuple[str, Callable[..., Any]]]:
    """module -> the class whose ``run`` is replaced, and its dispatcher."""
    return {
        BASE_MODULE: ("AwsBaseWaiterTrigger", _dispatch),
        STATEMENT_MODULE: ("RedshiftDataTrigger", _dispatch_statement),
    }


def _patch(module: ModuleType) -> None:
    attribute, dispatcher = _targets()[module.__name__]
    cls = getattr(module, attribute)
    if cls.__dict__.get("run") is not dispatcher:
        _original[module.__name__] = cls.__dict__["run"]
        cls.run = dispatcher


def _unpatch() -> None:
    for name, (attribute, dispatcher) in _targets().items():
        cls = getattr(sys.modules.get(name), attribute, None)
        if cls is not None and cls.__dict__.get("run") is dispatcher and name in _original:
            cls.run = _original[name]
    _original.clear()


#: One decision at a time, each class's once: a decision reads source, parsing its module, and
#: CPython 3.11's parser is not safe in two threads at once ("SystemError: AST constructor
#: recursion depth mismatch", seen when triggers of several classes started together).
_deciding = threading.Lock()


def _decide(cls: type) -> tuple[bool, str]:
    from async_hooks.airflow._accelerate._survey import decide, decide_statement

    with _deciding:
        known = _decisions.get(cls)
        if known is not None:  # decided while this thread waited
            return known
        base = sys.modules[BASE_MODULE].AwsBaseWaiterTrigger
        if not issubclass(cls, base):  # the provider's run, the dispatcher's or not
            decided = decide_statement(cls, _original.get(STATEMENT_MODULE) or cls.__dict__["run"])
        else:
            decided = decide(cls, base, _original.get(BASE_MODULE) or base.__dict__["run"])
        _decisions[cls] = decided
        return decided


async def _dispatch(self: Any) -> AsyncIterator[Any]:
    """``AwsBaseWaiterTrigger.run`` while accelerated: the accelerated run for a class taken
    over, the provider's own for any other (decided once per class, off the loop)."""
    from async_hooks.airflow._accelerate._run import accelerated_run

    async with contextlib.aclosing(await _chosen(self, BASE_MODULE, accelerated_run)) as events:
        async for event in events:
            yield event


async def _dispatch_statement(self: Any) -> AsyncIterator[Any]:
    """``RedshiftDataTrigger.run`` while accelerated, as ``_dispatch``."""
    from async_hooks.airflow._accelerate._statement import accelerated_statement_run

    chosen = await _chosen(self, STATEMENT_MODULE, accelerated_statement_run)
    async with contextlib.aclosing(chosen) as events:
        async for event in events:
            yield event


async def _chosen(trigger: Any, module: str, accelerated: Callable[..., Any]) -> Any:
    """The events of ``trigger``: accelerated for a class taken over, the provider's own for
    any other (decided once per class, off the loop)."""
    original = _original[module]
    cls = type(trigger)
    decision = _decisions.get(cls)
    if decision is None and _enabled:
        decision = _decisions[cls] = await asyncio.to_thread(_decide, cls)
    return accelerated(trigger, original) if decision and decision[0] else original(trigger)


def _survey() -> tuple[dict[str, str], dict[str, str]]:
    from async_hooks.airflow._accelerate import _checked
    from async_hooks.airflow._accelerate._survey import (
        OWN_RUN,
        class_path,
        own_run_classes,
        trigger_classes,
    )

    base = importlib.import_module(BASE_MODULE).AwsBaseWaiterTrigger  # patched on import
    classes, broken = trigger_classes(base)
    taken: dict[str, str] = {}
    left: dict[str, str] = dict(broken)
    for cls in classes:
        decision = _decisions.get(cls)
        if decision is None:
            decision = _decisions[cls] = _decide(cls)
        (taken if decision[0] else left)[class_path(cls)] = decision[1]
    for cls in own_run_classes(base):  # not waiter triggers: left, unless dispatched too
        path = class_path(cls)
        if path in _checked.TAKEN:
            decision = _decisions.get(cls)
            if decision is None:
                decision = _decisions[cls] = _decide(cls)
            (taken if decision[0] else left)[path] = decision[1]
        else:
            left[path] = _checked.LEFT.get(path, OWN_RUN)
    return taken, dict(sorted(left.items()))


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Installs a dispatcher when the provider's ``triggers.base`` (``triggers.redshift_data``)
    is first imported."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in _targets():
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, ...: the real loader's
        return getattr(self.loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self.loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        with _lock:
            if _enabled:
                _patch(module)
