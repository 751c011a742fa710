"""Parse a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110 section 10.2.3).

An HTTP-date is in GMT in each of its three forms (IMF-fixdate, RFC 850 and asctime, which has
no zone at all): a recipient must accept all three, so a date without a zone is read as GMT.
"""

from __future__ import annotations

import math
import time
from datetime import timezone
from email.utils import parsedate_to_datetime

__all__ = ["parse_retry_after"]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait, or ``None`` when the header is absent or unreadable.

    A date in the past means "now" (0.0). Unreadable values are ignored rather than trusted.
    """
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # asctime ("Tue Dec  1 09:41:03 2026") or "-0000": GMT
            when = when.replace(tzinfo=timezone.utc)
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds
