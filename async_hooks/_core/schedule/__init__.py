"""The shared poll schedule: waits of one batch key (connection, kind, identifiers) on one loop
share their polls, whenever each began.

Read top-down: ``wait.py`` (a wait: join, sleep, read what it was told, end) ->
``registry.py`` (the loop's schedules, one per key, forgotten with their last wait) ->
``schedule.py`` (one key's waits, grouped by interval, and the hooks that lend their fetchers) ->
``tick.py`` (one round of polls and what it tells each wait) -> ``state.py`` (one wait's state);
beside them ``group.py`` (a group and its timer), ``deadlines.py`` (waits' deadlines, one timer
per bucket) and ``payloads.py`` (the payload a sleeping wait keeps).
"""

from async_hooks._core.schedule.registry import Schedules, ScheduleSource
from async_hooks._core.schedule.wait import wait_shared

__all__ = ["ScheduleSource", "Schedules", "wait_shared"]
