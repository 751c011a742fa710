"""Where a re-created trigger's back-off resumes.

Airflow never updates a trigger's stored kwargs, so a trigger re-created after a failover knows
only the ``polls`` it was deferred with, not the polls its predecessor made. The time since the
wait began is known (``started_at`` travels, or is kept in an XCom), and the back-off is a pure
function of it: the interval resumes where the first trigger's would be by now.
"""

from __future__ import annotations

__all__ = ["polls_by", "resumed_interval"]

#: More polls than this change nothing: the interval has long reached its ceiling.
_MAX_STEPS = 10_000


def polls_by(elapsed: float, interval: float, backoff: float, ceiling: float) -> int:
    """How many polls a wait starting at ``interval``, growing by ``backoff`` up to
    ``ceiling``, has made ``elapsed`` seconds after it began."""
    if elapsed <= 0 or interval <= 0:
        return 0
    polls, spent, step = 0, 0.0, interval
    while polls < _MAX_STEPS:
        if spent + step > elapsed:
            return polls
        spent += step
        polls += 1
        if step >= ceiling:  # constant from here on: the rest at once
            return polls + min(_MAX_STEPS, int((elapsed - spent) // step))
        step = min(step * backoff, max(ceiling, interval))
    return polls


def resumed_interval(timing: dict[str, float], polls: int, elapsed: float) -> float | None:
    """The poll interval a resumed wait starts with, ``None`` for a wait not resumed (less than
    one interval old, no polls carried) or one without back-off."""
    interval = timing.get("poll_interval", 5.0)
    backoff = timing.get("backoff", 1.0)
    ceiling = max(timing.get("max_poll_interval", 60.0), interval)
    if backoff <= 1.0 or interval <= 0:
        return None
    made = max(polls, polls_by(elapsed, interval, backoff, ceiling))
    if made == 0:
        return None
    return float(min(interval * backoff ** min(made, 64), ceiling))
