"""Which of the installed Amazon provider's triggers are taken over, and the drift guard.

A trigger class is taken over only when the installed provider's version is in the checked
range and the class's code is the code this library was checked against: a hash of its ``run``,
``hook`` and ``_hook_parameters`` (those of its own, above ``AwsBaseWaiterTrigger``), and a hash
of what every taken trigger relies on (the base's ``run``, ``async_wait``, ``get_waiter``,
``_event_from_exception``, the status formatter), as aiobotocore pins the botocore code it
overrides. A release that changes any of them leaves the trigger to the provider, with a warning
naming it, until the library is checked against it (``_checked.py``).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
import pkgutil
from collections.abc import Callable
from typing import Any

from async_hooks.airflow._accelerate import _checked

__all__ = [
    "BASE_MODULE",
    "OWN_RUN",
    "PACKAGE",
    "STATEMENT_MODULE",
    "class_path",
    "common_fingerprint",
    "decide",
    "decide_statement",
    "fingerprint",
    "own_run_classes",
    "provider_version",
    "statement_fingerprint",
    "trigger_classes",
]

logger = logging.getLogger("async_hooks")

PACKAGE = "airflow.providers.amazon.aws.triggers"
BASE_MODULE = f"{PACKAGE}.base"
#: The one trigger with its own ``run`` that is taken over (``_statement``).
STATEMENT_MODULE = f"{PACKAGE}.redshift_data"
DISTRIBUTION = "apache-airflow-providers-amazon"
#: Why a trigger with its own ``run`` that the table does not name is left.
OWN_RUN = "its own run (not a waiter trigger): not checked, runs as before"
_warned: set[str] = set()


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def provider_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return None


def in_range(found: str | None) -> bool:
    if found is None:
        return False
    low, high = _checked.VERSION_RANGE
    return _numbers(low) <= _numbers(found) < _numbers(high)


def _numbers(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit()) or "0"
        parts.append(int(digits))
    return tuple(parts)


def _digest(*sources: str) -> str:
    return hashlib.sha256("\n\0\n".join(sources).encode()).hexdigest()[:16]


def _source(function: Any) -> str:
    function = getattr(function, "fget", function)  # a property: its getter
    function = getattr(function, "func", function)  # a cached_property: its function
    return inspect.getsource(function)


def fingerprint(cls: type, base: type) -> str:
    """The hash of ``cls``'s own ``run``, ``hook`` and ``_hook_parameters`` (inherited from the
    base: named as such, the base's code is in ``common_fingerprint``)."""
    parts = []
    for name in ("run", "hook", "_hook_parameters"):
        owner = next((k for k in cls.__mro__ if name in k.__dict__), None)
        if owner is None or owner is base or not issubclass(owner, base):
            parts.append(f"{name}: inherited")
        else:
            parts.append(f"{name}: {_source(owner.__dict__[name])}")
    return _digest(*parts)


def common_fingerprint(base: type, base_run: Callable[..., Any]) -> str:
    """The hash of the provider code every taken trigger relies on (``base_run``: the base's
    own ``run``, whatever is installed on the class now)."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook
    from airflow.providers.amazon.aws.utils import waiter_with_logging as waiting

    return _digest(
        _source(base_run),
        _source(base.__dict__["_event_from_exception"]),
        _source(waiting.async_wait),
        _source(waiting._LazyStatusFormatter),
        _source(AwsGenericHook.get_waiter),
        _source(AwsGenericHook._apply_parameters_value),
        repr(sorted(waiting.RETRIABLE_ERROR_CODES)),
    )


def statement_fingerprint(cls: type, run: Callable[..., Any]) -> str:
    """The hash of ``RedshiftDataTrigger``'s ``run`` (the provider's: ``run``, whatever is
    installed on the class now) and ``hook``, and of the hook code they rely on (its polls,
    its last call and parse, the states)."""
    from airflow.providers.amazon.aws.hooks import redshift_data as module

    hook = module.RedshiftDataHook
    return _digest(
        _source(run),
        _source(cls.__dict__["hook"]),
        _source(hook.is_still_running),
        _source(hook.check_query_is_finished_async),
        _source(hook.parse_statement_response),
        repr(sorted(module.RUNNING_STATES)),
        repr(sorted(module.FAILURE_STATES)),
        repr((module.FINISHED_STATE, module.FAILED_STATE, module.ABORTED_STATE)),
    )


def _out_of_range() -> str | None:
    """Why no trigger is taken over (the provider's version), or None."""
    version = provider_version()
    if in_range(version):
        return None
    low, high = _checked.VERSION_RANGE
    why = f"provider {version} is outside the checked range >={low},<{high}"
    _warn("range", f"accelerate(): the Amazon provider's triggers run as before: {why}")
    return why


def decide_statement(cls: type, run: Callable[..., Any]) -> tuple[bool, str]:
    """``decide`` for a ``RedshiftDataTrigger`` (its own ``run``, its own hash)."""
    path = class_path(cls)
    why = _out_of_range()
    if why is not None:
        return False, why
    if path not in _checked.TAKEN or "run" not in cls.__dict__ or "hook" not in cls.__dict__:
        return False, _checked.LEFT.get(path, OWN_RUN)
    if statement_fingerprint(cls, run) != _checked.TAKEN[path]:
        why = f"{cls.__qualname__}'s run or its hook's polls changed since it was checked"
        _warn(path, f"accelerate(): {path} runs as before: {why}")
        return False, why
    return True, _checked.NOTES.get(path, "")


def decide(cls: type, base: type, base_run: Callable[..., Any]) -> tuple[bool, str]:
    """Whether ``cls`` is taken over, and why (or why not). Warns, once per class, when a class
    checked before has changed or the provider's version is outside the checked range."""
    path = class_path(cls)
    why = _out_of_range()
    if why is not None:
        return False, why
    if path in _checked.LEFT:
        return False, _checked.LEFT[path]
    if path not in _checked.TAKEN:
        return False, "not checked against this library (new in this provider release?)"
    if common_fingerprint(base, base_run) != _checked.COMMON:
        why = "the provider's AwsBaseWaiterTrigger.run or async_wait changed since it was checked"
        _warn("common", f"accelerate(): {why}: its triggers run as before")
        return False, why
    if fingerprint(cls, base) != _checked.TAKEN[path]:
        why = f"{cls.__qualname__}'s run or hook changed since it was checked"
        _warn(path, f"accelerate(): {path} runs as before: {why}")
        return False, why
    return True, _checked.NOTES.get(path, "")


def _warn(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning("%s", message)


def trigger_classes(base: type) -> tuple[list[type], dict[str, str]]:
    """Every subclass of ``base`` the provider's trigger modules define, and the modules that
    do not import (by name, with why)."""
    package = importlib.import_module(PACKAGE)
    broken: dict[str, str] = {}
    for module in pkgutil.iter_modules(package.__path__):
        name = f"{PACKAGE}.{module.name}"
        try:
            importlib.import_module(name)
        except Exception as error:  # an optional dependency the deployment does not have
            broken[name] = f"its module does not import: {type(error).__name__}: {error}"
    return _defined(base), broken


def own_run_classes(base: type) -> list[type]:
    """The provider's other triggers (``BaseTrigger`` subclasses that are not ``base``'s, after
    ``trigger_classes`` imported their modules): each has its own ``run``, never taken over, so
    the report names them as left."""
    from airflow.triggers.base import BaseTrigger

    return [cls for cls in _defined(BaseTrigger) if not issubclass(cls, base)]


def _defined(root: type) -> list[type]:
    """The subclasses of ``root`` (at any depth) that the provider's trigger modules define."""
    found: list[type] = []
    seen: set[type] = set()
    todo: list[type] = list(root.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(PACKAGE):
            found.append(cls)
    return sorted(found, key=class_path)
