"""Apache Airflow integration: any hook's ``wait_for_job`` as a trigger, and operator helpers.

Importing this module imports Airflow (about a second); nothing else in ``async_hooks`` does.
``WaitForJobTrigger`` waits in the triggerer, where all triggers share one loop and therefore one
client per connection, one throttle per service and coalesced polls. ``JobWait`` describes a wait
once for an operator's deferrable and blocking paths; ``WaitForJobMixin`` chooses between them.
"""

from __future__ import annotations

from async_hooks.airflow._operator import JobWait, JobWaitError, WaitForJobMixin, result_of
from async_hooks.airflow._trigger import WaitForJobTrigger

__all__ = ["JobWait", "JobWaitError", "WaitForJobMixin", "WaitForJobTrigger", "result_of"]
