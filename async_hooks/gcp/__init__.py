"""The GCP provider: ``AsyncGcpHook`` on gcloud-aio and Google's REST APIs (Cloud Storage,
operations, job kinds from BigQuery to Cloud Run).

Importing this package imports gcloud-aio; ``import async_hooks`` does not, until
``async_hooks.AsyncGcpHook`` is first used.
"""

from async_hooks.gcp.hook import AsyncGcpHook, GcpSync
from async_hooks.gcp.kinds import GcpJobKind, get_job_kind, job_kinds

__all__ = ["AsyncGcpHook", "GcpJobKind", "GcpSync", "get_job_kind", "job_kinds"]
