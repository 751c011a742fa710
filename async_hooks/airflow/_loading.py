"""How a trigger gets its provider's module without blocking the triggerer's loop, and the checks
that need the hook class once it is there.

The triggerer rebuilds every trigger from its stored row on the one loop all triggers share, and
a provider's module (aiobotocore and botocore take a quarter of a second and more) must not be
imported there: it is imported in a worker thread, once per process, when the first trigger of
that provider runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import difflib
import functools
import inspect
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.threads import finished
from async_hooks._core.values import is_finite_number
from async_hooks._providers import Provider
from async_hooks._providers import provider as _provider_row
from async_hooks.airflow._settings import check_setting_names, plain
from async_hooks.errors import HookConfigError, HookError

__all__ = [
    "check_names",
    "check_wait_arguments",
    "epoch_seconds",
    "import_off_the_loop",
    "imported",
    "is_plain",
    "is_template",
    "running_loop",
    "timing_as_numbers",
    "wait_defaults",
]

#: A provider's module being imported off the loop, by provider name (one import per process).
_imports: dict[str, concurrent.futures.Future[Any]] = {}
_imports_lock = threading.Lock()


def running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def imported(row: Provider) -> bool:
    """Whether ``row``'s module is imported (a module still being imported lacks its hook)."""
    return getattr(sys.modules.get(row.module), row.hook, None) is not None


def is_plain(hook_kwargs: object) -> bool:
    """Whether ``hook_kwargs`` are already what ``encode_hook_kwargs`` would make of them (JSON
    values, as a trigger's stored row holds), so that checking them can wait."""
    if not isinstance(hook_kwargs, Mapping):
        return hook_kwargs is None
    try:
        return bool(plain(dict(hook_kwargs), "hook_kwargs") == hook_kwargs)
    except HookError:
        return False


async def import_off_the_loop(row: Provider) -> None:
    """Import ``row``'s module in a thread of its own, once per process however many triggers
    (on however many loops) ask at once; a failed import is tried again by the next caller."""
    if imported(row):
        return
    with _imports_lock:
        future = _imports.get(row.name)
        if future is None:
            future = _imports[row.name] = concurrent.futures.Future()
            # Running from now on: a waiter's cancellation cannot cancel it for the others.
            future.set_running_or_notify_cancel()
            threading.Thread(
                target=_import, args=(row, future), name="async_hooks-import", daemon=True
            ).start()
    await finished(future)  # polled where a thread may not wake the loop (``_core.threads``)


def _import(row: Provider, future: concurrent.futures.Future[Any]) -> None:
    try:
        module = row.load()
    except BaseException as error:
        with _imports_lock:
            if _imports.get(row.name) is future:
                del _imports[row.name]
        future.set_exception(error)
    else:
        future.set_result(module)


def epoch_seconds(value: object) -> float:
    """``started_at`` as epoch seconds: a number, an aware datetime or an ISO 8601 string
    (without an offset, UTC, as Airflow's own times are); ``None`` is now."""
    if value is None:
        return time.time()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise HookConfigError(f"started_at {value!r} is not an ISO 8601 time") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    if not is_finite_number(value):
        raise HookConfigError("started_at must be epoch seconds, a datetime or an ISO 8601 time")
    return float(value)


def check_wait_arguments(
    cls: type[AsyncBaseHook], provider: str, method: str, args: list[Any], kwargs: dict[str, Any]
) -> None:
    """Arguments the wait cannot take fail here, in the worker (or at DAG parse), not in the
    triggerer: a keyword it has no use for (named with the ones it takes), a positional one too
    many or missing, and for a kind of job the identifiers it names (``job_name=`` for Glue).
    Only names and counts are checked, never values: a templated value passes as it is."""
    signature = wait_signature(cls, method)
    parameters = list(signature.parameters.values())[1:]  # not ``self``
    named = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    by_position = {p.name for p in parameters[: len(args)] if p.kind is not p.VAR_POSITIONAL}
    keywords = [name for name in named if name not in by_position]  # what wait_kwargs may name
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    if not takes_any:
        _refuse_unknown(provider, method, [k for k in kwargs if k not in named], keywords, None)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError as error:
        raise HookConfigError(
            f"wait_args/wait_kwargs for the {provider} hook's {method}: {error}"
        ) from None
    kind = bound.arguments.get("kind")
    if not takes_any or not isinstance(kind, str) or is_template(kind):
        return  # the kind is rendered later: its identifiers are checked then
    spec = _job_kind(provider, kind)
    if spec is None:
        return  # not a kind known here: the wait itself names the known ones
    identifiers = list(spec.identifiers)
    given = [k for k in kwargs if k not in named]
    accepted = [*identifiers, *(name for name in keywords if name not in identifiers)]
    _refuse_unknown(provider, method, [k for k in given if k not in identifiers], accepted, kind)
    missing = [k for k in identifiers if k not in given] if provider in _NEEDS_ALL else []
    if missing:
        raise HookConfigError(
            f"wait_kwargs for the {provider} hook's {method}: a {kind} wait needs"
            f" {', '.join(map(repr, missing))}; it takes {_listed(accepted)}"
        )


def check_names(
    provider: str,
    method: str,
    wait_args: Sequence[Any],
    wait_kwargs: Mapping[str, Any],
    hook_kwargs: Mapping[str, Any] | None = None,
) -> None:
    """What can be checked before templates are rendered, where blocking is allowed (a DAG's
    parse, a worker): the names of the hook's settings and of the wait's keywords, and the count
    of its positional arguments, with the messages the triggerer would give. The provider is
    imported for its signatures; where its SDK is not installed, nothing is checked here (the
    worker or the triggerer that runs the wait checks it)."""
    row = _provider_row(provider)
    row.wait_method(method)  # names the waits the hook has
    try:
        cls = row.hook_class()
    except ImportError as error:
        if (error.name or "").startswith("async_hooks"):
            raise  # not a missing SDK: a bug of ours, shown as it is
        return
    if hook_kwargs is not None:
        check_setting_names(provider, cls, hook_kwargs)
    check_wait_arguments(cls, provider, method, list(wait_args), dict(wait_kwargs))


#: Providers whose job kinds need every identifier they name (AWS's describe calls do; a GCP
#: kind needs its identifiers only for a short job id, not for a full resource name).
_NEEDS_ALL = frozenset({"aws"})


def is_template(value: str) -> bool:
    """Whether ``value`` is a Jinja template, which Airflow renders later."""
    return any(mark in value for mark in ("{{", "{%", "{#"))


def _job_kind(provider: str, kind: str) -> Any:
    """Provider ``provider``'s job kind ``kind`` (its ``identifiers``), or ``None`` when the
    provider has no kinds or none of that name is registered in this process."""
    get_job_kind = getattr(_provider_row(provider).load(), "get_job_kind", None)
    if get_job_kind is None:
        return None
    try:
        return get_job_kind(kind)
    except HookConfigError:
        return None


def _refuse_unknown(
    provider: str, method: str, unknown: list[str], accepted: list[str], kind: str | None
) -> None:
    """``HookConfigError`` naming the keywords the wait does not take and the ones it does."""
    if not unknown:
        return
    offered = [name for name in accepted if name != "on_status"]  # a trigger sets its own
    guesses = [difflib.get_close_matches(name, offered, n=1) for name in unknown]
    hints = [f"{name!r} (did you mean {guess[0]!r}?)" if guess else repr(name)
             for name, guess in zip(unknown, guesses, strict=True)]  # fmt: skip
    taker = "it" if kind is None else f"a {kind} wait"
    raise HookConfigError(
        f"wait_kwargs for the {provider} hook's {method}: unknown {', '.join(hints)};"
        f" {taker} takes {_listed(offered)}"
    )


def _listed(names: list[str]) -> str:
    return ", ".join(name for name in names if name != "on_status")


@functools.cache
def wait_signature(cls: type[AsyncBaseHook], method: str) -> inspect.Signature:
    function = getattr(cls, method, None)
    if not callable(function):
        raise HookConfigError(f"{cls.__name__} has no wait {method!r}")
    return inspect.signature(function)


@functools.cache
def wait_defaults(cls: type[AsyncBaseHook], method: str) -> dict[str, Any]:
    """The defaults of the wait's timing keywords (a resumed wait needs them)."""
    parameters = wait_signature(cls, method).parameters
    return {
        name: parameter.default
        for name, parameter in parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


#: The wait's keywords that are seconds or factors: a templated one renders to a string.
_TIMING = ("poll_interval", "timeout", "backoff", "max_poll_interval", "jitter")


def timing_as_numbers(wait_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``wait_kwargs`` with rendered timing values as numbers (``"3600"`` -> 3600.0); anything
    else that is not a number is refused, naming the keyword."""
    converted = dict(wait_kwargs)
    for key in _TIMING:
        value = converted.get(key)
        if isinstance(value, str):
            try:
                converted[key] = float(value)
            except ValueError:
                raise HookConfigError(f"wait_kwargs[{key!r}] is {value!r}, not seconds") from None
    return converted
