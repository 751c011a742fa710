"""Google Cloud job kinds for ``AsyncGcpHook.wait_for_job`` and ``cancel_job``: one small
declarative table, as the AWS kinds are (``async_hooks.aws.kinds``).

A kind says which REST resource describes a job (its host and resource name template), where
the status and the failure reason are, which states end it, and how the job is cancelled. A job
is named by its short id (the project from the hook, ``location=`` and the kind's other
identifiers as keywords) or by its full resource name (``projects/.../...``), whose project and
location win over the hook's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from async_hooks._core.paths import MISSING, lookup
from async_hooks.errors import HookConfigError

__all__ = ["CancelCall", "GcpJobKind", "JobRef", "get_job_kind", "job_kinds"]

#: A path segment of a resource name: a project, location or id (no ``/``, no white space).
_SEGMENT = re.compile(r"[^/\s]+")
#: A location is also a host name's first label (Vertex AI's ``{location}-aiplatform``).
_LOCATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class CancelCall:
    """How a kind's job is cancelled: ``method`` on the job's resource path plus ``suffix``
    (``":cancel"``), with ``body(ref)`` as JSON. ``via_field`` names a field of the job that
    holds a google.longrunning operation to cancel instead (Dataproc batches have no cancel
    method: their creating operation is cancelled)."""

    method: str = "POST"
    suffix: str = ":cancel"
    body: Callable[[JobRef], Any] = field(default=lambda ref: {})
    via_field: str | None = None


@dataclass(frozen=True)
class JobRef:
    """One job resolved: its kind, project, location (or None), other identifiers and id."""

    kind: GcpJobKind
    project: str
    location: str | None
    values: Mapping[str, str]
    job_id: str

    @property
    def name(self) -> str:
        """The full resource name: ``projects/p/locations/l/...``."""
        return self.kind.name_for(self)

    @property
    def host(self) -> str:
        return self.kind.host.format(location=self.location or "")

    def path(self) -> str:
        """The REST path (percent-encoded): ``/v1/projects/p/...``."""
        return f"/{self.kind.version}/{self.name}"

    def query(self) -> dict[str, str]:
        if self.kind.location_query and self.location:
            return {"location": self.location}
        return {}


@dataclass(frozen=True)
class GcpJobKind:
    """How to wait on, and cancel, one kind of Google Cloud job.

    ``templates`` are the resource name's shapes, the preferred first (``{project}``,
    ``{location}``, ``{id}`` and the kind's ``identifiers``); a short id is placed into the first
    whose identifiers are all known. ``host`` may hold ``{location}``. ``identifiers`` maps each
    keyword ``wait_for_job`` takes besides ``project=`` to what it is; ``required`` are those a
    short id cannot do without. ``status`` and ``reason`` replace the status and reason paths
    where a field alone cannot tell (BigQuery's ``DONE`` with an error, Cloud Run's counts and
    conditions); ``verdict`` replaces the state sets. ``location_query`` sends the location as
    ``?location=`` (BigQuery).
    """

    name: str
    service: str
    host: str
    version: str
    templates: tuple[str, ...]
    status_path: str
    success: frozenset[str]
    failure: frozenset[str]
    reason_paths: tuple[str, ...] = ()
    identifiers: Mapping[str, str] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    location_query: bool = False
    status: Callable[[dict[str, Any]], str] | None = None
    reason: Callable[[dict[str, Any]], str | None] | None = None
    verdict: Callable[[dict[str, Any], str], bool | None] | None = None
    cancel: CancelCall | None = None

    def __post_init__(self) -> None:
        if self.success & self.failure:
            raise HookConfigError(f"job kind {self.name!r}: a state is both success and failure")

    @property
    def states(self) -> frozenset[str]:
        """Every state that ends a job of this kind."""
        return self.success | self.failure

    # ------------------------------------------------------------------ names

    def resolve(self, job_id: str, project: str | None, values: Mapping[str, Any]) -> JobRef:
        """``job_id`` (a short id or a full resource name) as a ``JobRef``; a full name's
        project and location win over ``project`` and ``values``."""
        if not isinstance(job_id, str) or not job_id or not job_id.isprintable():
            raise HookConfigError(f"{self.name} job id must be a non-empty single-line string")
        unknown = sorted(set(values) - set(self.identifiers))
        if unknown:
            raise HookConfigError(f"{self.name} waits take {self._wanted()}; unknown {unknown}")
        given = {k: _segment(self.name, k, v) for k, v in values.items() if v is not None}
        if job_id.startswith("projects/"):
            parts = self._parse(job_id.strip("/"))
        else:
            if project is None:
                raise HookConfigError(
                    f"{self.name} needs a project: pass project= or set it on the hook, or a"
                    " full resource name"
                )
            missing = sorted(self.required - set(given))
            if missing:
                raise HookConfigError(
                    f"{self.name} waits on a short id take {self._wanted()}; missing {missing}"
                    f" (or pass the full resource name, {self.templates[0]})"
                )
            parts = {**given, "project": _segment(self.name, "project", project), "id": job_id}
            _segment(self.name, "job id", job_id)
        location = parts.pop("location", None)
        if location is not None and not _LOCATION.fullmatch(location):
            raise HookConfigError(f"{self.name}: location must be a region name like us-central1")
        return JobRef(
            self,
            parts.pop("project"),
            location,
            {k: v for k, v in parts.items() if k != "id"},
            parts["id"],
        )

    def name_for(self, ref: JobRef) -> str:
        known = {**ref.values, "project": ref.project, "id": ref.job_id}
        if ref.location is not None:
            known["location"] = ref.location
        for template in self.templates:
            if set(_PLACEHOLDER.findall(template)) <= set(known):
                return _PLACEHOLDER.sub(lambda m: quote(known[m.group(1)], safe=""), template)
        raise HookConfigError(f"{self.name} job needs {self._wanted()}")  # pragma: no cover

    def _parse(self, name: str) -> dict[str, str]:
        for template in self.templates:
            pattern = _PLACEHOLDER.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", template)
            found = re.fullmatch(pattern, name)
            if found is not None:
                return dict(found.groupdict())
        shapes = " or ".join(self.templates)
        raise HookConfigError(f"{self.name} resource name must look like {shapes}")

    def _wanted(self) -> str:
        return ", ".join(f"{k}=" for k in self.identifiers) or "no identifiers"

    # ------------------------------------------------------------------ reading a job

    def status_of(self, job: dict[str, Any]) -> str:
        if self.status is not None:
            return self.status(job)
        value = lookup(job, self.status_path)
        return "UNKNOWN" if value is MISSING or value in (None, "") else str(value)

    def reason_of(self, job: dict[str, Any]) -> str | None:
        if self.reason is not None:
            return self.reason(job)
        parts = []
        for path in self.reason_paths:
            value = lookup(job, path)
            if value is not MISSING and value not in (None, ""):
                parts.append(str(value))
        return ": ".join(parts) or None


def _segment(kind: str, what: str, value: object) -> str:
    if not isinstance(value, str) or not _SEGMENT.fullmatch(value):
        raise HookConfigError(f"{kind}: {what} must be a non-empty string without '/' or spaces")
    return value


# ---------------------------------------------------------------------- kinds' own readers


def _bigquery_status(job: dict[str, Any]) -> str:
    state = lookup(job, "status.state")
    if state is MISSING:
        raise HookConfigError("BigQuery job answer has no status.state")
    if state == "DONE" and lookup(job, "status.errorResult") not in (MISSING, None):
        return "DONE_WITH_ERROR"
    return str(state)


def _cloud_run_status(execution: dict[str, Any]) -> str:
    """Cloud Run executions have no state field: one ends when ``completionTime`` is set, and
    succeeded when no task failed or was cancelled (as Airflow's provider judges it)."""
    if not execution.get("completionTime"):
        return "RUNNING"
    if _count(execution, "failedCount"):
        return "FAILED"
    if _count(execution, "cancelledCount"):
        return "CANCELLED"
    return "SUCCEEDED"


def _count(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name) or 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _cloud_run_reason(execution: dict[str, Any]) -> str | None:
    for condition in execution.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Completed":
            message = condition.get("message")
            return str(message) if message else None
    return None


def _states(*names: str) -> frozenset[str]:
    return frozenset(names)


_LOCATED = {"location": "region or location, e.g. us-central1"}

_KINDS: dict[str, GcpJobKind] = {}

for _kind in (
    GcpJobKind(
        name="bigquery",
        service="bigquery",
        host="bigquery.googleapis.com",
        version="bigquery/v2",
        templates=("projects/{project}/jobs/{id}",),
        status_path="status.state",
        success=_states("DONE"),
        failure=_states("DONE_WITH_ERROR"),
        reason_paths=("status.errorResult.message",),
        identifiers={"location": "the job's location, e.g. EU (optional)"},
        location_query=True,
        status=_bigquery_status,
        cancel=CancelCall(suffix="/cancel", body=lambda ref: None),
    ),
    GcpJobKind(
        name="dataproc",
        service="dataproc",
        host="dataproc.googleapis.com",
        version="v1",
        templates=("projects/{project}/regions/{location}/jobs/{id}",),
        status_path="status.state",
        success=_states("DONE"),
        failure=_states("ERROR", "CANCELLED"),
        reason_paths=("status.details",),
        identifiers={"location": "the cluster's region, e.g. us-central1"},
        required=frozenset({"location"}),
        cancel=CancelCall(),
    ),
    GcpJobKind(
        name="dataproc-batch",
        service="dataproc",
        host="dataproc.googleapis.com",
        version="v1",
        templates=("projects/{project}/locations/{location}/batches/{id}",),
        status_path="state",
        success=_states("SUCCEEDED"),
        failure=_states("FAILED", "CANCELLED"),
        reason_paths=("stateMessage",),
        identifiers=_LOCATED,
        required=frozenset({"location"}),
        cancel=CancelCall(via_field="operation"),
    ),
    GcpJobKind(
        name="dataflow",
        service="dataflow",
        host="dataflow.googleapis.com",
        version="v1b3",
        templates=("projects/{project}/locations/{location}/jobs/{id}",),
        status_path="currentState",
        success=_states("JOB_STATE_DONE", "JOB_STATE_DRAINED", "JOB_STATE_UPDATED"),
        failure=_states("JOB_STATE_FAILED", "JOB_STATE_CANCELLED"),
        reason_paths=("currentState",),
        identifiers={"location": "the job's regional endpoint, e.g. us-central1"},
        required=frozenset({"location"}),
        cancel=CancelCall(
            method="PUT", suffix="", body=lambda ref: {"requestedState": "JOB_STATE_CANCELLED"}
        ),
    ),
    GcpJobKind(
        name="vertex-custom-job",
        service="aiplatform",
        host="{location}-aiplatform.googleapis.com",
        version="v1",
        templates=("projects/{project}/locations/{location}/customJobs/{id}",),
        status_path="state",
        success=_states("JOB_STATE_SUCCEEDED"),
        failure=_states("JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"),
        reason_paths=("error.message",),
        identifiers=_LOCATED,
        required=frozenset({"location"}),
        cancel=CancelCall(),
    ),
    GcpJobKind(
        name="vertex-pipeline",
        service="aiplatform",
        host="{location}-aiplatform.googleapis.com",
        version="v1",
        templates=("projects/{project}/locations/{location}/pipelineJobs/{id}",),
        status_path="state",
        success=_states("PIPELINE_STATE_SUCCEEDED"),
        failure=_states("PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"),
        reason_paths=("error.message",),
        identifiers=_LOCATED,
        required=frozenset({"location"}),
        cancel=CancelCall(),
    ),
    GcpJobKind(
        name="cloud-build",
        service="cloudbuild",
        host="cloudbuild.googleapis.com",
        version="v1",
        templates=(
            "projects/{project}/locations/{location}/builds/{id}",
            "projects/{project}/builds/{id}",  # the global region's legacy path
        ),
        status_path="status",
        success=_states("SUCCESS"),
        failure=_states("FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED"),
        reason_paths=("statusDetail",),
        identifiers={"location": "the build's region (optional: global)"},
        cancel=CancelCall(
            body=lambda ref: {"projectId": ref.project, "id": ref.job_id} if ref.location else {}
        ),
    ),
    GcpJobKind(
        name="cloud-run-job",
        service="run",
        host="run.googleapis.com",
        version="v2",
        templates=("projects/{project}/locations/{location}/jobs/{job}/executions/{id}",),
        status_path="completionTime",
        success=_states("SUCCEEDED"),
        failure=_states("FAILED", "CANCELLED"),
        identifiers={**_LOCATED, "job": "the Cloud Run job's name"},
        required=frozenset({"location", "job"}),
        status=_cloud_run_status,
        reason=_cloud_run_reason,
        cancel=CancelCall(),
    ),
):
    _KINDS[_kind.name] = _kind


def get_job_kind(name: str) -> GcpJobKind:
    try:
        return _KINDS[name]
    except (KeyError, TypeError):
        raise HookConfigError(
            f"unknown GCP job kind {name!r}; known: {', '.join(sorted(_KINDS))}"
        ) from None


def job_kinds() -> dict[str, GcpJobKind]:
    """Every built-in kind by name (a copy): ``name``, ``identifiers`` (keyword -> meaning),
    ``required``, ``success`` and ``failure`` states, ``templates``."""
    return dict(_KINDS)
