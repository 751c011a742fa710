"""``AsyncGcpHook``'s waits on Google's REST APIs: google.longrunning operations
(``wait_for_operation``) and BigQuery jobs (``wait_for_job("bigquery", ...)``), each a
``PollPlan`` whose describe is one GET (``_get_json``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from yarl import URL

from async_hooks._core.paths import MISSING, lookup
from async_hooks._core.waiting import DEFAULT_TIMEOUT, JobResult, PollPlan, PollTiming
from async_hooks.errors import HookConfigError
from async_hooks.gcp._calls import GcpCalls
from async_hooks.gcp._settings import api_root_url

__all__ = ["BIGQUERY_ROOT", "OPERATION_TIMEOUT", "JobMethods"]

BIGQUERY_ROOT = "https://bigquery.googleapis.com"
#: A finite default for operations: google-api-core's async futures wait forever by default.
OPERATION_TIMEOUT = 3600.0


class JobMethods(GcpCalls):
    """Waits on operations and BigQuery jobs."""

    async def wait_for_operation(
        self,
        name_or_url: str,
        *,
        api_root: str | None = None,
        poll_interval: float = 5.0,
        timeout: float | None = OPERATION_TIMEOUT,
        backoff: float = 1.0,
        max_poll_interval: float = 60.0,
        jitter: float = 0.1,
    ) -> JobResult:
        """Poll a google.longrunning Operation (by full URL, or by its name under ``api_root``,
        e.g. ``https://dataproc.googleapis.com/v1``) until ``done``; an ``error`` raises
        ``JobFailedError`` with its message. The default timeout is an hour, not forever."""
        url = self._operation_url(name_or_url, api_root)
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)

        async def describe() -> dict[str, Any]:
            return await self._get_json("operations", url)

        def status_of(operation: dict[str, Any]) -> str:
            if not operation.get("done"):
                return "RUNNING"
            return "FAILED" if operation.get("error") else "DONE"

        def reason_of(operation: dict[str, Any]) -> str | None:
            error = operation.get("error") or {}
            message = error.get("message")
            code = error.get("code")
            return f"{message} (code {code})" if message and code is not None else message

        plan = PollPlan(
            "operation",
            name_or_url,
            describe,
            status_of,
            frozenset({"DONE"}),
            frozenset({"FAILED"}),
            reason_of,
        )
        return await self._wait(plan, timing)

    async def wait_for_job(
        self,
        kind: str,
        job_id: str,
        *,
        location: str | None = None,
        project: str | None = None,
        poll_interval: float = 5.0,
        timeout: float | None = DEFAULT_TIMEOUT,
        backoff: float = 1.0,
        max_poll_interval: float = 60.0,
        jitter: float = 0.1,
    ) -> JobResult:
        """Wait on a BigQuery job (``kind="bigquery"``): ``jobs.get`` until ``status.state`` is
        ``DONE``; ``status.errorResult`` then raises ``JobFailedError`` with its message."""
        if kind != "bigquery":
            raise HookConfigError(f"unknown GCP job kind {kind!r}; known: bigquery")
        if not isinstance(job_id, str) or not job_id:
            raise HookConfigError("job_id must be a non-empty string")
        project = project or self.project
        if not project:
            raise HookConfigError("BigQuery needs a project: pass project= or set it on the hook")
        root = self.api_root or BIGQUERY_ROOT
        url = URL(
            f"{root}/bigquery/v2/projects/{quote(project, safe='')}/jobs/{quote(job_id, safe='')}",
            encoded=True,
        )
        if location:
            url = url.with_query(location=location)
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)

        async def describe() -> dict[str, Any]:
            return await self._get_json("bigquery", url)

        def status_of(job: dict[str, Any]) -> str:
            state = lookup(job, "status.state")
            if state is MISSING:
                raise HookConfigError(f"BigQuery job {job_id} answer has no status.state")
            if state == "DONE" and lookup(job, "status.errorResult") not in (MISSING, None):
                return "DONE_WITH_ERROR"
            return str(state)

        def reason_of(job: dict[str, Any]) -> str | None:
            message = lookup(job, "status.errorResult.message")
            return None if message is MISSING else str(message)

        def verdict(job: dict[str, Any], status: str) -> bool | None:
            if status == "DONE":
                return True
            return False if status == "DONE_WITH_ERROR" else None

        plan = PollPlan(
            "bigquery",
            job_id,
            describe,
            status_of,
            frozenset({"DONE"}),
            frozenset({"DONE_WITH_ERROR"}),
            reason_of,
            verdict,
        )
        return await self._wait(plan, timing)

    def _operation_url(self, name_or_url: str, api_root: str | None) -> URL:
        if not isinstance(name_or_url, str) or not name_or_url:
            raise HookConfigError("name_or_url must be an operation name or URL")
        if name_or_url.startswith(("https://", "http://")):
            return URL(name_or_url)
        root = api_root_url("api_root", api_root) or self.api_root
        if root is None:
            raise HookConfigError(
                f"operation {name_or_url!r} is a name: pass api_root= (e.g. "
                "'https://dataproc.googleapis.com/v1') or a full URL"
            )
        return URL(f"{root}/{name_or_url.lstrip('/')}")
