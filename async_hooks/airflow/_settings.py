"""What crosses from the worker to the triggerer: a trigger's settings as plain JSON.

Airflow stores a trigger's kwargs (encrypted) in its database and rebuilds the trigger from them
in another process. Every setting an operator gives must survive that trip unchanged (apache/airflow
#72144 is the provider triggers silently dropping ``region_name``, ``verify`` and
``botocore_config``), so settings are checked against the hook's own signature when the trigger
is made, and anything JSON cannot carry is refused there, in the worker, with the key named,
instead of being lost on the way.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.policy import RetryPolicy
from async_hooks._providers import provider as _provider
from async_hooks.errors import HookConfigError

__all__ = [
    "check_setting_names",
    "decode_hook_kwargs",
    "encode_hook_kwargs",
    "hook_class",
    "plain",
]


def hook_class(provider: str) -> type[AsyncBaseHook]:
    """The hook class of ``provider`` (a row of ``async_hooks._providers``), imported now."""
    cls: type[AsyncBaseHook] = _provider(provider).hook_class()
    return cls


def plain(value: Any, where: str) -> Any:
    """``value`` as JSON would give it back (tuples become lists), or ``HookConfigError``."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise HookConfigError(f"{where} is {value!r}, which JSON cannot carry")
        return value
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise HookConfigError(f"{where} has a key {key!r} that is not a string")
        return {key: plain(item, f"{where}[{key!r}]") for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [plain(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise HookConfigError(
        f"{where} is a {type(value).__name__}, which cannot travel to the triggerer; "
        "pass str, number, bool, None, list or dict values"
    )


def encode_hook_kwargs(provider: str, hook_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``hook_kwargs`` against the hook's ``__init__`` and make them JSON."""
    if not isinstance(hook_kwargs, Mapping):
        raise HookConfigError(f"hook_kwargs must be a mapping, not {type(hook_kwargs).__name__}")
    check_setting_names(provider, hook_class(provider), hook_kwargs)
    encoded: dict[str, Any] = {}
    for name, value in hook_kwargs.items():
        if name == "retry" and isinstance(value, RetryPolicy):
            value = dataclasses.asdict(value)
        encoded[name] = plain(value, f"hook_kwargs[{name!r}]")
    if isinstance(encoded.get("retry"), dict):
        _retry_policy(encoded["retry"])  # a bad policy fails in the worker, not the triggerer
    return encoded


def check_setting_names(
    provider: str, cls: type[AsyncBaseHook], hook_kwargs: Mapping[str, Any]
) -> None:
    """``HookConfigError`` naming each setting the hook's ``__init__`` does not take."""
    accepted = _parameters(cls)
    unknown = sorted(set(hook_kwargs) - accepted)
    if unknown:
        raise HookConfigError(
            f"{provider} hook has no setting {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(sorted(accepted))}"
        )


def decode_hook_kwargs(encoded: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments to build the hook from, with their Python types back."""
    kwargs = dict(encoded)
    if isinstance(kwargs.get("retry"), dict):
        kwargs["retry"] = _retry_policy(kwargs["retry"])
    if isinstance(kwargs.get("auth"), list):
        kwargs["auth"] = tuple(kwargs["auth"])  # (user, password), which JSON made a list
    return kwargs


def _retry_policy(fields: Mapping[str, Any]) -> RetryPolicy:
    try:
        return RetryPolicy(**fields)
    except TypeError as error:
        raise HookConfigError(f"hook_kwargs['retry']: {error}") from None


@functools.cache
def _parameters(cls: type[AsyncBaseHook]) -> frozenset[str]:
    signature = inspect.signature(cls.__init__)
    return frozenset(
        name
        for name, parameter in signature.parameters.items()
        if name != "self"
        and parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    )
