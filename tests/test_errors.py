"""The exception hierarchy is what the errors module's docstring draws; SDK types are kept."""

from __future__ import annotations

import inspect
import re
import warnings

import aiohttp
import pytest
from yarl import URL

import async_hooks
from async_hooks import HttpError, ServiceError, ThrottledError, TransientError
from async_hooks import errors as errors_module
from async_hooks._core.redact import Redactor
from async_hooks._rest.errors import map_aiohttp_error


def _drawn_tree() -> dict[str, str | None]:
    """child -> parent, read from the box-drawing tree in the module docstring."""
    doc = errors_module.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        match = re.match(r"^(\s*(?:[│ ]\s*)*(?:[├└]── )?)([A-Z]\w+Error)\b", line)
        if not match:
            continue
        depth, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def test_the_docstring_tree_matches_the_classes():
    drawn = _drawn_tree()
    assert drawn["HookError"] is None
    assert len(drawn) == len(errors_module.__all__) + 1  # + HttpError, drawn under ServiceError
    for name, parent in drawn.items():
        cls = getattr(async_hooks, name)
        if parent is not None:
            assert getattr(async_hooks, parent) in cls.__mro__[1:], f"{name} is not a {parent}"


def test_every_exception_class_is_drawn():
    drawn = set(_drawn_tree())
    public = {
        name
        for name in async_hooks.__all__
        if inspect.isclass(getattr(async_hooks, name))
        and issubclass(getattr(async_hooks, name), BaseException)
    }
    assert public == drawn


def test_http_error_is_an_aiohttp_response_error_with_a_string_code():
    error = HttpError("GET /x answered 418", operation="GET", status=418)
    assert isinstance(error, aiohttp.ClientResponseError)
    assert isinstance(error, ServiceError)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert error.code == "418"
    assert error.status == 418
    assert error.provider == "http" and error.operation == "GET"


def test_job_timeout_is_a_timeout_error():
    assert issubclass(async_hooks.JobTimeoutError, TimeoutError)


def _aiohttp_exceptions() -> list[type[BaseException]]:
    found = []
    for name in aiohttp.__all__:
        value = getattr(aiohttp, name)
        if inspect.isclass(value) and issubclass(value, aiohttp.ClientError):
            found.append(value)
    return found


@pytest.mark.parametrize("exc_type", _aiohttp_exceptions(), ids=lambda t: t.__name__)
def test_no_aiohttp_error_goes_unmapped(exc_type):
    """Every error aiohttp can raise becomes an async_hooks error (httpx's rule)."""
    error = exc_type.__new__(exc_type)  # mapping is by type; constructors differ
    mapped = map_aiohttp_error(error, method="GET", url=URL("http://h/x"), redact=Redactor())
    assert mapped is not error
    assert isinstance(mapped, async_hooks.HookError)


@pytest.mark.parametrize(
    ("error", "retryable", "acted"),
    [
        (aiohttp.ServerDisconnectedError(), True, True),
        (aiohttp.ClientOSError(104, "reset"), True, True),
        (aiohttp.ConnectionTimeoutError(), True, False),
        (aiohttp.SocketTimeoutError(), True, True),
        (TimeoutError(), True, True),
        (ConnectionRefusedError(), True, True),
        (aiohttp.TooManyRedirects(None, ()), False, True),  # type: ignore[arg-type]
    ],
)
def test_connection_errors_are_classified(error, retryable, acted):
    mapped = map_aiohttp_error(error, method="GET", url=URL("http://h/x"), redact=Redactor())
    assert isinstance(mapped, ServiceError)
    assert mapped.retryable is retryable
    assert mapped.may_have_acted is acted
    if retryable:
        assert isinstance(mapped, TransientError)
        assert isinstance(mapped, aiohttp.ClientConnectionError)


def test_throttled_answer_categories():
    from async_hooks._rest.errors import HttpThrottledError

    assert issubclass(HttpThrottledError, ThrottledError)
    assert issubclass(HttpThrottledError, aiohttp.ClientResponseError)
