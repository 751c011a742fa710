"""Secrets obtained at run time — an assumed role's keys, an OAuth access token — which every
``Redactor`` masks: the session or client that holds them is shared by every hook of one
identity, so the hook that happened to fetch them cannot be the only one that knows them."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable, Iterable

from async_hooks._core.secretindex import SecretIndex

__all__ = ["GRACE", "LEARNT", "LearntSecrets", "build_index", "learn_secret"]

#: How long a learnt secret is still masked after it expired: a server may echo a just-expired
#: token (an ``ExpiredToken`` error, the answer to a request sent just before the expiry, a
#: job's failure reason written later), and its clock and ours differ.
GRACE = 3600.0


def build_index(secrets: Iterable[str]) -> SecretIndex:
    """The one place an index of secrets is built (the tests count the builds here)."""
    return SecretIndex(secrets)


class LearntSecrets:
    """The process's learnt secrets and their index, rebuilt once per change of the set.

    Bounded (``cap``, the most recently used are kept): credentials rotate, a process may run
    for months. Each secret keeps the epoch second after which it may be dropped (its expiry
    and the grace; None: only the bound drops it), and is dropped when the set is next touched.
    """

    def __init__(self, cap: int = 1024, clock: Callable[[], float] = time.time) -> None:
        self.cap = cap
        self.version = 0  # bumped by every change of the set
        #: (the version it was built for, the index): what every ``Redactor`` masks with.
        self.index: tuple[int, SecretIndex] = (0, build_index(()))
        self._clock = clock
        self._drop_after: dict[str, float | None] = {}  # in order of last use
        self._next_drop = math.inf  # nothing may be dropped before this
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._drop_after)

    def __contains__(self, secret: object) -> bool:
        return secret in self._drop_after

    def __repr__(self) -> str:
        return f"<LearntSecrets: {len(self)} of at most {self.cap}, version {self.version}>"

    def learn(self, secret: str, expires_at: dt.datetime | None = None) -> None:
        """See :func:`learn_secret`."""
        drop_after = None if expires_at is None else _epoch(expires_at) + GRACE
        with self._lock:
            now = self._clock()
            if now >= self._next_drop:
                self._drop_expired(now)
            known = self._drop_after
            if secret in known:  # used again: the last to be pushed out
                known[secret] = _later(known.pop(secret), drop_after)
                return
            if drop_after is not None and drop_after <= now:
                return
            known[secret] = drop_after
            if drop_after is not None:
                self._next_drop = min(self._next_drop, drop_after)
            while len(known) > self.cap:
                known.pop(next(iter(known)))
            self.version += 1

    def current(self) -> SecretIndex:
        """The index of the set as it is (built here, at most once per version)."""
        version, index = self.index
        if version == self.version:
            return index
        with self._lock:
            version, secrets = self.version, tuple(self._drop_after)
        index = build_index(secrets)  # outside the lock: learning goes on meanwhile
        if version >= self.index[0]:  # unless another thread built a newer one
            self.index = (version, index)
        return index

    def _drop_expired(self, now: float) -> None:
        """Drop the secrets past their grace (under the lock)."""
        expired = [s for s, after in self._drop_after.items() if after is not None and after <= now]
        for secret in expired:
            del self._drop_after[secret]
        if expired:
            self.version += 1
        self._next_drop = min(
            (after for after in self._drop_after.values() if after is not None), default=math.inf
        )


def _epoch(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def _later(one: float | None, other: float | None) -> float | None:
    return None if one is None or other is None else max(one, other)


#: The process's set (tests swap it for a fresh one).
LEARNT = LearntSecrets()


def learn_secret(secret: str | None, expires_at: dt.datetime | None = None) -> None:
    """Mask ``secret`` in every hook's texts from now on (cheap when known: called per request).

    ``expires_at`` is when the secret stops being accepted, an aware datetime (a naive one is
    read as UTC, as botocore and gcloud-aio write theirs): :data:`GRACE` later it is dropped,
    when the set is next touched. Without it, the secret stays until 1,024 more recently used
    ones push it out. Secrets shorter than 8 characters are not learnt (they would mask words).
    """
    if secret and len(secret) >= 8:
        LEARNT.learn(secret, expires_at)
