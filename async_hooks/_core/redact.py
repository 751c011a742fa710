"""Keep secrets out of reprs, logs and exception text, causes included."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from async_hooks._core import learnt as _learnt
from async_hooks._core.learnt import learn_secret
from async_hooks._core.secretindex import masked

__all__ = [
    "MASK",
    "RedactedCause",
    "Redactor",
    "is_sensitive",
    "learn_secret",
    "mask_mapping",
    "scrub_exception",
]

MASK = "***"

#: Parts of a key name that mark its value as secret (Airflow's list, and the providers').
_SENSITIVE_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "private_key",
    "keyfile",
    "credential",
    "service_file",
    "session_key",
)


def is_sensitive(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return any(part in lowered for part in _SENSITIVE_PARTS)


def mask_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with secret-looking keys masked, recursively."""
    masked: dict[str, Any] = {}
    for key, value in values.items():
        if is_sensitive(str(key)):
            masked[key] = MASK
        elif isinstance(value, Mapping):
            masked[key] = mask_mapping(value)
        else:
            masked[key] = value
    return masked


class Redactor:
    """Replaces known secret values inside any text (error bodies, messages): the hook's own
    secrets, and those :func:`learn_secret` was told of at run time, so a server that echoes
    the request's credentials (an ``Authorization`` header, a session token) shows none.

    Each secret is masked wherever it occurs, inside a longer word too; overlapping secrets
    (one containing another) are masked as one. The cost does not grow with the number of
    secrets (``secretindex.py``): the hook's own are indexed once, here; the learnt ones once
    per change of their set, in one index every hook shares (``learnt.py``), rather than one
    copy of up to 1,024 secrets' index per hook."""

    __slots__ = ("_own",)

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        found = {s for s in secrets if s and len(s) >= 4}
        # A multi-line secret (a PEM private key) is masked line by line too: a server may echo
        # one line of it, and each line of base64 is as secret as the whole.
        lines = {line.strip() for s in found if "\n" in s for line in s.splitlines()}
        found |= {line for line in lines if len(line) >= 16}
        self._own = _learnt.build_index(found)

    def __call__(self, text: str) -> str:
        known = _learnt.LEARNT
        version, learnt = known.index  # ``known.current()``, without a call per string
        if version != known.version:
            learnt = known.current()
        own, size = self._own, len(text)
        if size < own.shortest:
            if size < learnt.shortest:
                return text  # most of a payload's strings
            found = learnt.find(text)
        else:
            found = own.find(text) + learnt.find(text)
        return masked(text, found, MASK) if found else text

    def __repr__(self) -> str:
        return f"<Redactor of {len(self._own)} secrets>"


class RedactedCause(Exception):
    """Stands in a chain for an SDK exception whose text held a secret and could not be masked
    in place (its ``__str__`` is computed from fields we do not know)."""


def scrub_exception(error: BaseException, redact: Redactor) -> None:
    """Mask secrets in ``error`` and every exception chained to it (``__cause__``,
    ``__context__``), in place, so a printed traceback shows none.

    An exception's text is fixed through its ``args`` (and the fields botocore and aiohttp
    build their text from); one that still shows a secret is replaced in the chain by a
    :class:`RedactedCause` carrying its type name and the masked text.
    """
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for link in ("__cause__", "__context__"):
            linked = getattr(current, link)
            if linked is None:
                continue
            if not _scrub_one(linked, redact):
                stand_in = RedactedCause(f"{type(linked).__name__}: {redact(_text(linked))}")
                stand_in.__traceback__ = linked.__traceback__
                stand_in.__cause__ = linked.__cause__
                stand_in.__context__ = linked.__context__
                stand_in.__suppress_context__ = linked.__suppress_context__
                setattr(current, link, stand_in)
                linked = stand_in
            stack.append(linked)
    _scrub_one(error, redact)


def _scrub_one(error: BaseException, redact: Redactor) -> bool:
    """Mask secrets in one exception's text in place; False when its text still shows one."""
    text = _text(error)
    if redact(text) == text:
        return True
    error.args = tuple(redact(a) if isinstance(a, str) else a for a in error.args)
    for name in ("message", "msg", "strerror", "reason"):
        value = getattr(error, name, None)
        if isinstance(value, str):
            with contextlib.suppress(AttributeError, TypeError):
                setattr(error, name, redact(value))
    response = getattr(error, "response", None)  # botocore's ClientError
    details = response.get("Error") if isinstance(response, dict) else None
    if isinstance(details, dict) and isinstance(details.get("Message"), str):
        details["Message"] = redact(details["Message"])
    kwargs = getattr(error, "kwargs", None)  # botocore's BotoCoreError formats from these
    if isinstance(kwargs, dict):
        for key, value in list(kwargs.items()):
            if isinstance(value, str):
                kwargs[key] = redact(value)
    text = _text(error)
    return redact(text) == text


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # a half-built SDK error must not hide the real one
        return ""
