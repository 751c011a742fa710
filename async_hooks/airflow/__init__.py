"""Apache Airflow integration: any hook's wait as a trigger, a sensor, and operator helpers.

Importing this module imports Airflow (about a second); nothing else in ``async_hooks`` does.
``WaitForJobTrigger`` waits in the triggerer, where all triggers share one loop and therefore one
client per connection, one throttle per service and coalesced polls. ``WaitForJobSensor`` waits
on an existing job from the triggerer alone, never holding a worker slot. ``JobWait`` describes a
wait once for an operator's deferrable and blocking paths; ``WaitForJobMixin`` chooses between
them, and its ``submit_or_resume`` makes a retry wait on the job its first try submitted.
"""

from __future__ import annotations

from async_hooks.airflow._accelerate import AccelerateReport, accelerate
from async_hooks.airflow._operator import JobWait, JobWaitError, WaitForJobMixin, result_of
from async_hooks.airflow._resume import RESUME_KEY
from async_hooks.airflow._sensor import WaitForJobSensor
from async_hooks.airflow._trigger import WaitForJobTrigger

__all__ = [
    "RESUME_KEY",
    "AccelerateReport",
    "JobWait",
    "JobWaitError",
    "WaitForJobMixin",
    "WaitForJobSensor",
    "WaitForJobTrigger",
    "accelerate",
    "result_of",
]
