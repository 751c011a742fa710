"""Finding every occurrence of a set of secrets in a text, at a cost that does not grow with
their number (``redact.py`` builds one index per set and masks what it finds).

Checking each secret in turn (``secret in text``) scans the text once per secret: with the
1,024 secrets a long-running process may learn, masking one describe payload took 10-20 ms. A
regex alternation of the secrets is slower still. Here each secret at least
:data:`INDEXED_FROM` long (AWS secret keys and session tokens, Google access tokens, the lines
of a PEM key) is indexed by its :data:`GRAM`-character windows at offsets ``0 .. stride - 1``,
where ``stride`` is at most the shortest indexed length less ``GRAM - 1``. A text's windows at
every ``stride``-th position are then looked up in one dict: any occurrence of an indexed
secret, wherever it starts, covers exactly one such window, at one of its indexed offsets. A
text none of whose windows is a key (nearly every text) costs about ``len(text) / stride``
lookups: one or two for a 40-80 character ARN. The few shorter secrets (a hook's own password)
are searched one by one, as before.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

__all__ = ["GRAM", "INDEXED_FROM", "SecretIndex", "masked"]

#: Length of the windows a text is looked up by.
GRAM = 16
#: The most offsets a secret is indexed at, which is the stride texts are looked up at. The dict
#: holds as many keys a secret: with AWS's 40-character keys among them, the stride is 25 and
#: 1,024 secrets take ~5 MB (a process whose learnt secrets expire holds a few dozen).
MAX_STRIDE = 32
#: Secrets this long and longer are indexed (a stride of at least 9); shorter ones are searched
#: one by one: a short secret in the index would shrink the stride for every text.
INDEXED_FROM = GRAM + 8


class SecretIndex:
    """One set of secrets, compiled for finding them (immutable: build a new one per set)."""

    __slots__ = ("_beyond", "_first", "_grams", "_plain", "_stride", "shortest")

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = {s for s in secrets if s}
        indexed = {s for s in unique if len(s) >= INDEXED_FROM}
        #: No text shorter than this holds a secret of the set.
        self.shortest = min(map(len, unique), default=sys.maxsize)
        self._plain = tuple(sorted(unique - indexed, key=len, reverse=True))
        least = min(map(len, indexed), default=sys.maxsize)
        self._stride = min(MAX_STRIDE, least - GRAM + 1) if indexed else 1
        # The windows looked up: from ``_first`` to the text's length less ``_beyond``.
        self._first, self._beyond = self._stride - 1, least - self._stride + 1
        #: Each window of an indexed secret, to the (offset, secret) pairs that have it there.
        self._grams: dict[str, tuple[tuple[int, str], ...]] = {}
        shared: dict[str, list[tuple[int, str]]] = {}  # windows of more than one pair
        for secret in indexed:
            for offset in range(self._stride):
                gram = secret[offset : offset + GRAM]
                found = self._grams.get(gram)
                if found is None:  # nearly always: one pair, one small tuple
                    self._grams[gram] = ((offset, secret),)
                else:
                    shared.setdefault(gram, list(found)).append((offset, secret))
        self._grams.update((gram, tuple(found)) for gram, found in shared.items())

    def __len__(self) -> int:
        return len(self._plain) + len({s for found in self._grams.values() for _, s in found})

    def __repr__(self) -> str:
        return f"<SecretIndex of {len(self)} secrets>"

    def find(self, text: str) -> tuple[tuple[int, int], ...]:
        """The ``(start, end)`` of every occurrence in ``text`` of a secret of the set,
        overlapping ones and those inside longer words included."""
        size = len(text)
        if size < self.shortest:
            return ()
        found = self._find_plain(text) if self._plain else ()
        # Windows at q = stride - 1, 2 * stride - 1, ... up to ``last``: an occurrence at p has
        # the one q in p .. p + stride - 1, whose window is the secret's at offset q - p
        # (indexed, and inside the text), so no occurrence starting at or before
        # ``size - least`` (every one) is missed.
        q, stride, grams, last = self._first, self._stride, self._grams, size - self._beyond
        while q <= last:
            if text[q : q + GRAM] in grams:  # nearly every text has no such window
                return found + self._find_indexed(text, q, last)
            q += stride
        return found

    def _find_plain(self, text: str) -> tuple[tuple[int, int], ...]:
        found = []
        for secret in self._plain:
            at = text.find(secret)
            while at >= 0:
                found.append((at, at + len(secret)))
                at = text.find(secret, at + 1)
        return tuple(found)

    def _find_indexed(self, text: str, first: int, last: int) -> tuple[tuple[int, int], ...]:
        found = []
        for q in range(first, last + 1, self._stride):  # the windows before first: no key
            for offset, secret in self._grams.get(text[q : q + GRAM], ()):
                start = q - offset
                if start >= 0 and text.startswith(secret, start):
                    found.append((start, start + len(secret)))
        return tuple(found)


def masked(text: str, spans: Iterable[tuple[int, int]], mask: str) -> str:
    """``text`` with each span (at least one) replaced by ``mask``; overlapping spans (a secret
    containing or overlapping another) are masked as one, so that no part of either shows."""
    spans = sorted(spans)
    pieces: list[str] = []
    kept = 0  # text[:kept] is done
    start, end = spans[0]
    for next_start, next_end in spans[1:]:
        if next_start < end:
            end = max(end, next_end)
            continue
        pieces += (text[kept:start], mask)
        kept, start, end = end, next_start, next_end
    pieces += (text[kept:start], mask, text[end:])
    return "".join(pieces)
