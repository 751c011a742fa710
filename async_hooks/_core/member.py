"""One wait in a shared schedule: what the ticks saw of its job, and how they wake it.

Thousands live at once, so a member is small: a dozen slots, no future while its wait has
nothing to read, and its last payload kept *encoded* (``Codec``) in a few dozen bytes that the
garbage collector never walks, instead of the dozens of dicts and lists (kilobytes) a parsed
describe answer is, which each full collection would walk, for every wait.
"""

from __future__ import annotations

import asyncio
import marshal
import pickle
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from async_hooks._core.plan import PollPlan, PollTiming

__all__ = ["Codec", "Member"]

#: pickle's first byte (its PROTO opcode, protocol 2 and later). Marshal's first byte is a type
#: code, an ASCII character, with or without its 0x80 reference flag: never 0x80 itself.
_PICKLED = 0x80


class Codec:
    """How one schedule keeps its payloads: serialised (marshal, else pickle) and compressed
    against the first payload it kept. Payloads of one kind share most of their bytes (keys,
    ARNs, settings), so each compresses to a few dozen bytes, in a few microseconds."""

    __slots__ = ("_zdict",)

    def __init__(self) -> None:
        self._zdict = b""

    @staticmethod
    def serialise(item: Any) -> bytes | None:
        """``item`` as bytes (None when it cannot be: keep it as it is)."""
        try:
            # marshal writes exact builtin types only, the faster of the two; a decoded payload
            # is an equal copy (a bytearray or memoryview comes back as bytes, an unpickled
            # tzinfo is equal, not the same object). SDK answers hold neither.
            return marshal.dumps(item)
        except ValueError:  # a datetime (botocore's timestamps), a dict subclass...
            pass
        try:
            return pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
        except Exception:
            return None

    def compress(self, data: bytes) -> bytes:
        if not self._zdict:
            self._zdict = data
        compressor = zlib.compressobj(1, zdict=self._zdict)
        return compressor.compress(data) + compressor.flush()

    def decode(self, packed: bytes) -> Any:
        data = zlib.decompressobj(zdict=self._zdict).decompress(packed)
        return pickle.loads(data) if data[0] == _PICKLED else marshal.loads(data)


def failure_text(error: BaseException) -> str:
    """How a failed poll is named in a time-out's message: the error's type and its text (the
    library's errors never carry a secret), cut to a line's length."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 300 else text[:297] + "..."


class Member:
    """One wait's place in a coalescer: its group, schedule, and what the last tick saw."""

    __slots__ = (
        "bucket",
        "codec",
        "digest",
        "due",
        "error",
        "expired",
        "failure",
        "future",
        "group",
        "interval",
        "live",
        "packed",
        "plan",
        "polls",
        "status",
        "timing",
        "twin",
        "woken",
    )

    def __init__(self, plan: PollPlan, timing: PollTiming, codec: Codec) -> None:
        self.plan = plan
        self.codec = codec
        self.timing = timing
        self.interval = timing.poll_interval
        self.due = 0.0  # loop time from which a tick may poll it
        self.group: Any = None  # the coalescer's group of its interval
        self.twin: Member | None = None  # another wait on the same id in the same group
        self.polls = 0
        self.status: str | None = None
        self.packed: bytes | None = None  # the last payload, encoded...
        self.digest = 0  # (... and the digest of its serialised form)
        self.live: Any = None  # ... or as it is, when it cannot be
        self.error: BaseException | None = None
        self.failure: str | None = None  # the last poll's error, while no poll has succeeded since
        self.woken = False  # set by a tick, cleared by the wait once it has looked
        self.expired = False  # the wait's own deadline passed
        self.future: asyncio.Future[None] | None = None  # only while the wait sleeps
        self.bucket: Any = None  # its deadline's bucket (``Deadlines``), if it has a deadline

    @property
    def payload(self) -> Any:
        """The last payload a tick saw (a copy, when it was kept encoded)."""
        return self.live if self.packed is None else self.codec.decode(self.packed)

    def keep(self, item: Any) -> None:
        """Make ``item`` the last payload. One that serialises as the last did is not stored
        again (the digest is the 64-bit hash of the serialised form)."""
        data = self.codec.serialise(item)
        if data is None:
            self.packed, self.live = None, item
            return
        digest = hash(data)
        if self.packed is None or digest != self.digest:
            self.packed, self.digest, self.live = self.codec.compress(data), digest, None

    def wake(self) -> None:
        self.woken = True
        future = self.future
        if future is not None and not future.done():
            future.set_result(None)

    def expire(self) -> None:
        """The wait's deadline timer: wake it to raise ``JobTimeoutError``."""
        self.expired = True
        self.wake()

    def __repr__(self) -> str:
        return f"<Member {self.plan.kind} {self.plan.job_id} {self.status} polls={self.polls}>"
