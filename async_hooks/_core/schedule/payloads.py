"""How a schedule keeps the payload a wait near its deadline last saw, for its time-out's
result: serialised (marshal, else pickle) and deflated against the first payload it kept.

Payloads of one kind share most of their bytes (keys, ARNs, settings), so each keeps in a few
dozen bytes that the garbage collector never walks, instead of the dozens of dicts and lists
(kilobytes) a parsed describe answer is. A wait far from its deadline keeps none (``state.py``);
one the status path read only in part (a
``Deferred``) is kept as its item's bytes, deflated the same way, and built when asked for.
Each keep copies a compressor primed once with the dictionary (a few microseconds) instead of
priming a new one (about 40).
"""

from __future__ import annotations

import marshal
import pickle
import zlib
from typing import Any

from async_hooks._core.plan import Deferred

__all__ = ["PayloadStore"]

#: pickle's first byte (its PROTO opcode, protocol 2 and later). Marshal's first byte is a type
#: code, an ASCII character, with or without its 0x80 reference flag: never 0x80 itself.
_PICKLED = 0x80
#: Raw deflate with an 8 KiB window (a full describe item fits) and a small hash table: cheap
#: to copy, and as small an output as zlib's defaults for payloads of this size.
_WBITS = -13
_MEM_LEVEL = 3


class _Json(bytes):
    """A ``Deferred`` payload's item bytes, deflated: built again by ``unpack``."""

    __slots__ = ()


class _Live:
    """A payload that cannot be serialised, kept as it is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class PayloadStore:
    """Packs and unpacks one schedule's payloads."""

    __slots__ = ("_build", "_primed", "_zdict")

    def __init__(self) -> None:
        self._zdict = b""
        self._primed: Any = None
        self._build: Any = None  # how the status path's item bytes become payloads

    def pack(self, payload: Any) -> object:
        """``payload`` in its kept form (``unpack`` gives an equal copy back; a ``Deferred``
        one built)."""
        if type(payload) is Deferred:
            build = payload.source.build
            if self._build is None:
                self._build = build
            if build == self._build:  # one kind and connection: one build, kept once
                return _Json(self._compress(payload.data()))
            payload = payload.full()
        data = _serialise(payload)
        if data is None:
            return _Live(payload)
        return self._compress(data)

    def _compress(self, data: bytes) -> bytes:
        if self._primed is None:
            self._zdict = data[-(1 << -_WBITS) :]
            self._primed = zlib.compressobj(1, zlib.DEFLATED, _WBITS, _MEM_LEVEL, zdict=self._zdict)
        compressor = self._primed.copy()
        packed: bytes = compressor.compress(data) + compressor.flush()
        return packed

    def unpack(self, kept: object) -> Any:
        if isinstance(kept, _Live):
            return kept.value
        if not isinstance(kept, bytes):
            return kept  # None: nothing kept yet
        data = zlib.decompressobj(_WBITS, zdict=self._zdict).decompress(kept)
        if type(kept) is _Json:
            return self._build(data)
        return pickle.loads(data) if data[0] == _PICKLED else marshal.loads(data)

    def __repr__(self) -> str:
        return f"<PayloadStore dictionary={len(self._zdict)} bytes>"


def _serialise(item: Any) -> bytes | None:
    """``item`` as bytes (None when it cannot be: keep it as it is)."""
    try:
        # marshal writes exact builtin types only, the faster of the two; a decoded payload is an
        # equal copy. botocore's timestamps (datetimes) need pickle.
        return marshal.dumps(item)
    except ValueError:
        pass
    try:
        return pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None
