"""The HTTP hook's checks of its settings and of each request's parts: every mistake is a
``HookConfigError`` that names the setting, raised before anything is sent, and never shows a
header value, a credential or a body."""

from __future__ import annotations

import json as jsonlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import aiohttp

from async_hooks._core.values import is_encodable
from async_hooks.errors import HookConfigError

__all__ = [
    "TOKEN",
    "Auth",
    "authorization",
    "check_headers",
    "check_params",
    "check_timeout",
    "json_body",
    "number",
    "states",
]

Auth = tuple[str, str] | str
#: RFC 9110 ``token``: what a method or a header name may hold.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: What aiohttp refuses in a header (and RFC 9110 in a field value): controls but HTAB, DEL.
FORBIDDEN_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
PARAMS_RULE = "str, int or float (or a list or tuple of them)"


def check_headers(where: str, headers: Any) -> dict[str, str]:
    """``headers`` as a dict of RFC 9110 field names to single-line values.

    A header aiohttp would refuse at every request is refused here, once. Messages name a valid
    header but never show a value (it may be a credential) nor an invalid name (it may hold one).
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise HookConfigError(f"{where}: headers must be a mapping of names to values")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not TOKEN.fullmatch(name):
            raise HookConfigError(
                f"{where}: a header name must be a non-empty RFC 9110 token (ASCII letters,"
                " digits and !#$%&'*+-.^_`|~; no spaces, colons or line breaks)"
            )
        if not isinstance(value, str):
            raise HookConfigError(
                f"{where}: header {name!r} must have a str value, not {type(value).__name__}"
            )
        if FORBIDDEN_IN_HEADER.search(value) or not is_encodable(value):
            raise HookConfigError(
                f"{where}: header {name!r} has a CR, LF, NUL or other control character (or an"
                " unencodable character) in its value"
            )
        checked[name] = value
    return checked


def check_params(params: Any) -> Any:
    """``params`` unchanged if yarl can encode every one of them; else a ``HookConfigError``
    naming the parameter (aiohttp would raise a raw ``TypeError`` or ``ValueError``)."""
    if params is None:
        return None
    if isinstance(params, Mapping):
        for name, value in params.items():
            check_param_name(name)
            values = value if isinstance(value, (list, tuple)) else (value,)
            for item in values:
                check_param_value(name, item)
        return params
    if isinstance(params, Sequence) and not isinstance(params, (str, bytes, bytearray)):
        for pair in params:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise HookConfigError("params as a sequence must hold (name, value) pairs")
            check_param_name(pair[0])
            check_param_value(pair[0], pair[1])
        return params
    raise HookConfigError(
        f"params must be a mapping of names to {PARAMS_RULE}, or a sequence of (name, value)"
        f" pairs, not {type(params).__name__}"
    )


def check_param_name(name: Any) -> None:
    if not isinstance(name, str) or not is_encodable(name):
        raise HookConfigError("a query parameter name must be a str of encodable characters")


def check_param_value(name: str, value: Any) -> None:
    if isinstance(value, str):
        ok = is_encodable(value)
    elif isinstance(value, float):
        ok = math.isfinite(value)
    else:
        ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok:
        raise HookConfigError(
            f"query parameter {name[:100]!r} must be {PARAMS_RULE}; got"
            f" {type(value).__name__}" + (" (not finite)" if isinstance(value, float) else "")
        )


def check_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    return number("timeout", timeout)


def number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise HookConfigError(f"{name} must be a number of seconds") from None
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise HookConfigError(f"{name} must be a finite number of seconds > 0")
    return number


def authorization(auth: Auth | None) -> tuple[str | None, str | None]:
    if auth is None:
        return None, None
    if isinstance(auth, str):
        if not auth or FORBIDDEN_IN_HEADER.search(auth) or not is_encodable(auth):
            raise HookConfigError(
                "a bearer token must be a non-empty single-line string without control characters"
            )
        return "bearer", f"Bearer {auth}"
    if isinstance(auth, tuple) and len(auth) == 2 and all(isinstance(part, str) for part in auth):
        user, password = auth
        if ":" in user:
            raise HookConfigError("a basic-auth user name cannot contain ':'")
        if FORBIDDEN_IN_HEADER.search(user) or not is_encodable(user):
            raise HookConfigError("the basic-auth user name has a control or unencodable character")
        if not is_encodable(password):  # sent base64-encoded: only encoding can fail
            raise HookConfigError("the basic-auth password has an unencodable character")
        return "basic", aiohttp.encode_basic_auth(user, password)
    raise HookConfigError("auth must be (user, password) or a bearer token string")


def states(name: str, states: Iterable[str] | str) -> frozenset[str]:
    if isinstance(states, str):
        return frozenset({states})
    try:
        values = frozenset(states)
    except TypeError:
        raise HookConfigError(f"{name} must be a state name or a collection of them") from None
    if not values or not all(isinstance(v, str) for v in values):
        raise HookConfigError(f"{name} must hold at least one state name (str)")
    return values


def json_body(value: Any) -> bytes:
    """``json=`` serialised as aiohttp would, once, so a value JSON cannot carry is a
    ``HookConfigError`` here rather than aiohttp's raw ``TypeError`` at every attempt."""
    try:
        return jsonlib.dumps(value, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError) as error:
        what = "nested too deep" if isinstance(error, RecursionError) else type(error).__name__
        raise HookConfigError(f"json= cannot be sent as JSON ({what})") from None
