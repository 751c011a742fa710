"""The GCP provider: ``AsyncGcpHook`` on gcloud-aio (Cloud Storage, operations, BigQuery).

Importing this package imports gcloud-aio; ``import async_hooks`` does not, until
``async_hooks.AsyncGcpHook`` is first used.
"""

from async_hooks.gcp.hook import AsyncGcpHook, GcpSync

__all__ = ["AsyncGcpHook", "GcpSync"]
