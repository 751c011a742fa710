"""The installed Airflow's version, and what it means for a trigger (cheap: package metadata only,
Airflow itself is not imported).

``thread_wakeups_unsafe``: on Airflow 3.1.0 through 3.2.1 a trigger must not await a thread
(``asyncio.to_thread``, ``loop.run_in_executor``, anything completed from another thread). The
triggerer runs every trigger under greenback's portal (``run_trigger`` calls
``greenback.ensure_portal()``, from 3.1.0), and its ``TriggerCommsDecoder.asend`` writes a request
and then reads "the" next frame from the supervisor while holding a lock, assuming the answer
read is its own. A thread's completion woken up while a request waits lets a second request in,
the answers are read crossed, and the runner dies with "Response read out of order! Got
frame.id=N, expect_id=M": every trigger of that triggerer stops (apache/airflow #67380, on
3.2.1; #64620, on 3.1.8, the same channel racing from ``async_to_sync``'s second loop). Fixed in
3.2.2 by apache/airflow #66412, which replaced the lock with one reader task (``_reader_loop``)
answering each request's own future (``_pending``, keyed by frame id).

Checked in the ``apache-airflow-core`` wheels' ``airflow/jobs/triggerer_job_runner.py``:

- 3.0.0-3.0.2: no ``TriggerCommsDecoder``; 3.0.3-3.0.6: the locked ``asend`` but no greenback
  portal (the wake-up above cannot happen).
- 3.1.0-3.1.8 (every 3.1 release): portal + ``asend`` under an ``asyncio.Lock``, one identical
  ``TriggerCommsDecoder``. Affected.
- 3.2.0: portal + ``asend`` under ``_async_lock``; 3.2.1: the same, with a ``threading.Lock``
  only around the sync ``send``/``_read_frame``. Affected.
- 3.2.2, 3.3.0-3.3.2: ``_pending`` futures and ``_reader_loop``, no lock. Not affected.

3.0 and 3.1 are below the library's floor (3.2.0) for other reasons; the range is kept whole.
"""

from __future__ import annotations

import functools
import re
import sys
from importlib import metadata

__all__ = ["THREAD_WAKEUPS_UNSAFE", "airflow_version", "thread_wakeups_unsafe"]

#: ``[first, fixed)``: the Airflow releases where a trigger awaiting a thread can kill the
#: triggerer's runner (apache/airflow #67380, #64620; fixed by #66412 in 3.2.2).
THREAD_WAKEUPS_UNSAFE: tuple[tuple[int, int, int], tuple[int, int, int]] = ((3, 1, 0), (3, 2, 2))


@functools.cache
def airflow_version() -> tuple[int, int, int]:
    """The installed Airflow as ``(major, minor, patch)`` (a pre-release counts as its release:
    ``3.2.2rc1`` is ``(3, 2, 2)``); ``(0, 0, 0)`` without Airflow."""
    loaded = sys.modules.get("airflow")
    text = getattr(loaded, "__version__", None)
    if not isinstance(text, str):
        text = ""
        # The triggerer's code is in apache-airflow-core (3.x); apache-airflow is its meta-package.
        for distribution in ("apache-airflow-core", "apache-airflow"):
            try:
                text = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return _parsed(text)


def _parsed(text: str) -> tuple[int, int, int]:
    found = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    if found is None:
        return (0, 0, 0)
    numbers = [int(part or 0) for part in found.groups()]
    return (numbers[0], numbers[1], numbers[2])


def thread_wakeups_unsafe(version: tuple[int, int, int] | None = None) -> bool:
    """Whether a trigger on this Airflow (or on ``version``) must never await a thread: True on
    3.1.0 through 3.2.1, where such a wake-up can kill the triggerer's runner (see the module)."""
    first, fixed = THREAD_WAKEUPS_UNSAFE
    return first <= (airflow_version() if version is None else version) < fixed
