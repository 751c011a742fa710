"""``accelerate()``: the Amazon provider's deferrable triggers run on async_hooks, by one line in
``airflow_local_settings.py``, DAGs unchanged.

It installs one dispatcher as ``AwsBaseWaiterTrigger.run`` (at once if the provider's module is
imported, else when it is): a trigger of a class taken over (``_survey.decide``: checked
provider range, unchanged code) runs ``_run.accelerated_run``; any other runs the provider's
``run`` as before. Nothing of the provider is imported by ``accelerate()`` itself: every
Airflow process imports local settings at start, and the triggers' modules (boto3, the hooks)
cost a second. The report imports them when it is first read.
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

from async_hooks.airflow._accelerate._survey import BASE_MODULE

__all__ = ["ENV", "AccelerateReport", "accelerate"]

#: ``ASYNC_HOOKS_ACCELERATE=0`` turns ``accelerate()`` off without a code change.
ENV = "ASYNC_HOOKS_ACCELERATE"
_OFF = frozenset({"0", "false", "no", "off"})

_lock = threading.Lock()
_original: list[Callable[..., Any]] = []  # the provider's run, while the dispatcher is in place
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
            module = sys.modules.get(BASE_MODULE)
            if module is not None and hasattr(module, "AwsBaseWaiterTrigger"):
                _patch(module)
            elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
                sys.meta_path.insert(0, _PatchOnImport())
        else:
            sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _PatchOnImport)]
            _unpatch()
    return AccelerateReport(enable, why)


def _patch(module: ModuleType) -> None:
    base = module.AwsBaseWaiterTrigger
    if base.__dict__.get("run") is not _dispatch:
        _original[:] = [base.__dict__["run"]]
        base.run = _dispatch


def _unpatch() -> None:
    module = sys.modules.get(BASE_MODULE)
    base = getattr(module, "AwsBaseWaiterTrigger", None)
    if base is not None and base.__dict__.get("run") is _dispatch and _original:
        base.run = _original[0]
    _original.clear()


def _decide(cls: type) -> tuple[bool, str]:
    from async_hooks.airflow._accelerate._survey import decide

    base = sys.modules[BASE_MODULE].AwsBaseWaiterTrigger
    return decide(cls, base, _original[0])


async def _dispatch(self: Any) -> AsyncIterator[Any]:
    """``AwsBaseWaiterTrigger.run`` while accelerated: the accelerated run for a class taken
    over, the provider's own for any other (decided once per class, off the loop)."""
    from async_hooks.airflow._accelerate._run import accelerated_run

    original = _original[0]
    cls = type(self)
    decision = _decisions.get(cls)
    if decision is None and _enabled:
        decision = _decisions[cls] = await asyncio.to_thread(_decide, cls)
    events: Any = accelerated_run(self, original) if decision and decision[0] else original(self)
    async with contextlib.aclosing(events):
        async for event in events:
            yield event


def _survey() -> tuple[dict[str, str], dict[str, str]]:
    from async_hooks.airflow._accelerate._survey import class_path, trigger_classes

    base = importlib.import_module(BASE_MODULE).AwsBaseWaiterTrigger  # patched on import
    classes, broken = trigger_classes(base)
    taken: dict[str, str] = {}
    left: dict[str, str] = dict(broken)
    for cls in classes:
        decision = _decisions.get(cls)
        if decision is None:
            decision = _decisions[cls] = _decide(cls)
        (taken if decision[0] else left)[class_path(cls)] = decision[1]
    return taken, dict(sorted(left.items()))


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Installs the dispatcher when the provider's ``triggers.base`` is first imported."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != BASE_MODULE:
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
