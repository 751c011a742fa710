"""Retries that resume: an operator that submits a job, then waits, records the job's id when it
submits, and a retry (a worker killed mid-wait, a user's clear) waits on that job instead of
starting another one.

Where: Airflow 3.3's task state store (``context["task_state_store"]``, AIP-103), kept across a
task's tries. Before 3.3 there is none, and a task's XComs do not outlive its try (Airflow clears
them when the next try starts), so the id goes to an Airflow Variable named after the task
instance instead (kept, like the store's record, until the job fails; Airflow's
``[state_store] clear_on_success`` clears the store's on success).

A retry resubmits only when the recorded job can no longer succeed: the wait on it saw a failure
state, or its deadline stopped it, and the record was dropped then, as Airflow's own
``ResumableJobMixin`` resubmits after a failed job. An error that only ended the wait keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from async_hooks.errors import HookConfigError

__all__ = ["RESUME_KEY", "JobRecord", "job_record"]

logger = logging.getLogger("async_hooks")

#: The key a submitted job's id is kept under (renaming it breaks retries in flight).
RESUME_KEY = "async_hooks_job_id"


class JobRecord(Protocol):
    """Where a task instance keeps its submitted job's id across tries."""

    def get(self) -> str | None: ...
    def set(self, job_id: str) -> None: ...
    def delete(self) -> None: ...


class _StateStoreRecord:
    """Airflow 3.3+: the task state store, scoped to the task instance by Airflow."""

    def __init__(self, store: Any, key: str) -> None:
        self._store, self._key = store, key

    def get(self) -> str | None:
        value = self._store.get(self._key)
        return value if isinstance(value, str) and value else None

    def set(self, job_id: str) -> None:
        self._store.set(self._key, job_id)

    def delete(self) -> None:
        self._store.delete(self._key)


class _VariableRecord:
    """Before 3.3: an Airflow Variable named after the task instance and the key."""

    def __init__(self, ti: Any, key: str) -> None:
        map_index = getattr(ti, "map_index", -1)
        self._name = f"{key}.{ti.dag_id}.{ti.run_id}.{ti.task_id}.{map_index}"

    def get(self) -> str | None:
        from airflow.sdk import Variable

        value = Variable.get(self._name, default=None)
        return value if isinstance(value, str) and value else None

    def set(self, job_id: str) -> None:
        from airflow.sdk import Variable

        Variable.set(self._name, job_id, description="async_hooks: the job this task submitted")

    def delete(self) -> None:
        from airflow.sdk import Variable

        Variable.delete(self._name)


def job_record(context: Any, key: str = RESUME_KEY) -> JobRecord:
    """The record of ``context``'s task instance: the state store where Airflow has one."""
    if not isinstance(key, str) or not key:
        raise HookConfigError("the resume key must be a non-empty string")
    store = context.get("task_state_store") if hasattr(context, "get") else None
    if store is not None:
        return _StateStoreRecord(store, key)
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is None:
        raise HookConfigError("resuming needs an Airflow task context (context['ti'])")
    return _VariableRecord(ti, key)


def submit_or_resume_id(record: JobRecord, submit: Callable[[], object]) -> tuple[str, bool]:
    """The recorded job's id (True: resumed), or ``submit()``'s, recorded first (False)."""
    recorded = record.get()
    if recorded is not None:
        logger.info("resuming job %s instead of submitting again", recorded)
        return recorded, True
    job_id = submit()
    if not isinstance(job_id, str) or not job_id:
        raise HookConfigError(
            f"submit must return the job's id as a non-empty string, not {type(job_id).__name__}"
        )
    record.set(job_id)
    return job_id, False
