"""``AsyncGcpHook``'s job waits and cancels on Google's REST APIs, one kind table
(``async_hooks.gcp.kinds``) for BigQuery, Dataproc, Dataflow, Vertex AI, Cloud Build and Cloud
Run.

A wait is a ``PollPlan`` whose describe is one GET (``_rest_json``). No Google job API describes
many ids in one call, so each plan's ``BatchDescribe`` has no batch call: it joins the loop's
shared schedule for its connection, kind, project, location and identifiers, where each job is
described once per tick (concurrent waits on one job share that poll), the describes spread over
the waits' jitter.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from typing import Any

from yarl import URL

from async_hooks._core.plan import BatchDescribe
from async_hooks._core.waiting import DEFAULT_TIMEOUT, JobResult, OnStatus, PollPlan, PollTiming
from async_hooks.errors import HookConfigError
from async_hooks.gcp._operations import OperationMethods, with_verb
from async_hooks.gcp._urls import google_url
from async_hooks.gcp.kinds import GcpJobKind, JobRef, get_job_kind

__all__ = ["BIGQUERY_ROOT", "JobMethods"]

BIGQUERY_ROOT = "https://bigquery.googleapis.com"

_Key = tuple[Hashable, ...]


class JobMethods(OperationMethods):
    """Waits on, and cancels, the jobs of every kind in ``async_hooks.gcp.kinds``."""

    _job_kits: dict[_Key, BatchDescribe]

    async def wait_for_job(
        self,
        /,
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
        coalesce: bool = True,
        on_status: OnStatus | None = None,
        **identifiers: Any,
    ) -> JobResult:
        """Wait until a Google Cloud job ends: ``"bigquery"``, ``"dataproc"``,
        ``"dataproc-batch"``, ``"dataflow"``, ``"vertex-custom-job"``, ``"vertex-pipeline"``,
        ``"cloud-build"`` or ``"cloud-run-job"`` (``job=``); see ``async_hooks.gcp.kinds``.

        ``job_id`` is the short id (the project from the hook or ``project=``, ``location=``)
        or the full resource name, whose project and location are used. A failure state raises
        ``JobFailedError`` with the kind's reason (BigQuery's ``status.errorResult.message``,
        Dataproc's ``status.details``...). Concurrent waits on one job share its polls
        (``coalesce=False`` polls alone; ``jitter`` applies only then). ``on_status(result)``
        is called at each status change with the ``JobResult`` so far."""
        spec = get_job_kind(kind)
        ref = self._job_ref(spec, job_id, location, project, identifiers)
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)
        url = self._job_url(ref)

        async def describe() -> dict[str, Any]:
            return await self._rest_json(spec.service, "get", "GET", url)

        plan = PollPlan(
            spec.name,
            job_id,
            describe,
            spec.status_of,
            spec.success,
            spec.failure,
            spec.reason_of,
            spec.verdict,
            self._job_batch(ref) if coalesce else None,
        )
        return await self._wait(plan, timing, on_status)

    async def cancel_job(
        self,
        kind: str,
        job_id: str,
        /,
        *,
        location: str | None = None,
        project: str | None = None,
        **identifiers: Any,
    ) -> dict[str, Any]:
        """Ask Google to cancel a job, named as ``wait_for_job`` names it: BigQuery
        ``jobs.cancel``, Dataproc ``jobs.cancel``, Dataflow ``jobs.update`` to
        ``JOB_STATE_CANCELLED``, Vertex AI and Cloud Build ``:cancel``, Cloud Run
        ``executions.cancel``; a Dataproc batch has no cancel method, so the operation that
        runs it (the batch's ``operation``) is cancelled. Returns the API's answer; the job
        ends later, in its cancelled state. A kind without a cancel raises ``HookConfigError``."""
        spec = get_job_kind(kind)
        cancel = spec.cancel
        if cancel is None:
            raise HookConfigError(f"GCP job kind {spec.name!r} cannot be cancelled")
        ref = self._job_ref(spec, job_id, location, project, identifiers)
        if cancel.via_field is not None:
            job = await self._rest_json(spec.service, "get", "GET", self._job_url(ref))
            operation = job.get(cancel.via_field)
            if not isinstance(operation, str) or not operation.startswith("projects/"):
                raise HookConfigError(
                    f"{spec.name} job {job_id} has no {cancel.via_field} to cancel"
                )
            url = google_url(self.api_root, ref.host, f"/{spec.version}/{operation}")
            return await self._rest_json(
                spec.service, "cancel", "POST", with_verb(url, ":cancel"), body={}
            )
        url = with_verb(self._job_url(ref), cancel.suffix)
        return await self._rest_json(
            spec.service, "cancel", cancel.method, url, body=cancel.body(ref)
        )

    # ------------------------------------------------------------------ helpers

    def _job_ref(
        self,
        spec: GcpJobKind,
        job_id: str,
        location: str | None,
        project: str | None,
        identifiers: Mapping[str, Any],
    ) -> JobRef:
        values = dict(identifiers)
        if location is not None:
            values["location"] = location
        return spec.resolve(job_id, project or self.project, values)

    def _job_url(self, ref: JobRef) -> URL:
        return google_url(self.api_root, ref.host, ref.path(), ref.query())

    def _job_batch(self, ref: JobRef) -> BatchDescribe:
        """The shared schedule's fetchers for the waits of one kind, project, location and
        identifiers on this hook: built once, so that equal keys share one schedule."""
        spec = ref.kind
        values = tuple(sorted(ref.values.items()))
        key: _Key = ("gcp", self._client_key(spec.service), self.api_root, spec.name,
                     ref.project, ref.location, values)  # fmt: skip
        batch = self._job_kits.get(key)
        if batch is None:
            context = dict(ref.values)
            if ref.location is not None:
                context["location"] = ref.location
            batch = self._job_kits[key] = BatchDescribe(
                key=key,
                batch_max=1,
                fetch_many=None,
                fetch_one=functools.partial(self._describe, spec, ref.project, context),
            )
        return batch

    async def _describe(
        self, spec: GcpJobKind, project: str, values: Mapping[str, str], job_id: str
    ) -> dict[str, Any]:
        """One job described, for the shared schedule's tick."""
        ref = spec.resolve(job_id, project, values)
        return await self._rest_json(spec.service, "get", "GET", self._job_url(ref))
