"""``AsyncGcpHook``'s Cloud Storage methods, on gcloud-aio's ``Storage``: ``upload``,
``download``, ``exists``, ``list_objects``, ``delete`` and ``wait_for_object``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from async_hooks._core.waiting import (
    DEFAULT_TIMEOUT,
    JobResult,
    OnStatus,
    PollTiming,
    presence_plan,
)
from async_hooks.errors import NotFoundError
from async_hooks.gcp._calls import GcpCalls, GcpClient
from async_hooks.gcp._errors import STORAGE_TARGET
from async_hooks.gcp._settings import check_names

__all__ = ["StorageMethods"]

T = TypeVar("T")


class StorageMethods(GcpCalls):
    """Cloud Storage objects: each call one pipeline call (``_storage_call``)."""

    async def upload(
        self,
        bucket: str,
        name: str,
        data: bytes | str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        if_generation_match: int | None = None,
    ) -> dict[str, Any]:
        """Upload ``data`` as ``gs://bucket/name``; returns the object resource.

        Retried after a possible write only with ``if_generation_match`` (Google's rule:
        conditionally idempotent); otherwise only where the server cannot have acted.
        """
        check_names(bucket, name)
        parameters = (
            {"ifGenerationMatch": str(if_generation_match)}
            if if_generation_match is not None
            else None
        )

        async def run(client: GcpClient) -> dict[str, Any]:
            answer: dict[str, Any] = await client.storage.upload(
                bucket,
                name,
                data,
                content_type=content_type,
                metadata=dict(metadata) if metadata else None,
                parameters=parameters,
                timeout=int(self.timeout),
            )
            return answer

        idempotent = if_generation_match is not None
        return await self._object_call(bucket, name, "upload", run, idempotent=idempotent)

    async def download(self, bucket: str, name: str) -> bytes:
        """The object's bytes; a missing object raises ``NotFoundError``."""
        check_names(bucket, name)

        async def run(client: GcpClient) -> bytes:
            body: bytes = await client.storage.download(bucket, name, timeout=int(self.timeout))
            return body

        return await self._object_call(bucket, name, "download", run)

    async def exists(self, bucket: str, name: str) -> bool:
        """Whether ``gs://bucket/name`` exists (a metadata read)."""
        check_names(bucket, name)
        try:
            await self._metadata(bucket, name)
        except NotFoundError:
            return False
        return True

    async def list_objects(self, bucket: str, prefix: str | None = None) -> list[str]:
        """Every object name in ``bucket`` under ``prefix``, across all pages."""
        check_names(bucket)
        names: list[str] = []
        page_token = ""
        while True:
            params = {"pageToken": page_token}
            if prefix:
                params["prefix"] = prefix

            async def run(client: GcpClient, params: dict[str, str] = params) -> dict[str, Any]:
                page: dict[str, Any] = await client.storage.list_objects(
                    bucket, params=params, timeout=int(self.timeout)
                )
                return page

            page = await self._object_call(bucket, prefix or "", "list_objects", run)
            names.extend(item["name"] for item in page.get("items", []))
            page_token = page.get("nextPageToken") or ""
            if not page_token:
                return names

    async def delete(
        self, bucket: str, name: str, *, if_generation_match: int | None = None
    ) -> None:
        """Delete the object; a missing one raises ``NotFoundError``."""
        check_names(bucket, name)
        params = (
            {"ifGenerationMatch": str(if_generation_match)}
            if if_generation_match is not None
            else None
        )

        async def run(client: GcpClient) -> None:
            await client.storage.delete(bucket, name, params=params, timeout=int(self.timeout))

        idempotent = if_generation_match is not None
        await self._object_call(bucket, name, "delete", run, idempotent=idempotent)

    async def wait_for_object(
        self,
        bucket: str,
        name: str,
        *,
        poll_interval: float = 5.0,
        timeout: float | None = DEFAULT_TIMEOUT,
        backoff: float = 1.0,
        max_poll_interval: float = 60.0,
        jitter: float = 0.1,
        on_status: OnStatus | None = None,
    ) -> JobResult:
        """Wait until ``gs://bucket/name`` exists (a 404 means "not yet"); ``on_status`` is
        told ``ABSENT`` and then ``PRESENT``."""
        check_names(bucket, name)
        timing = PollTiming(poll_interval, timeout, backoff, max_poll_interval, jitter)

        async def head() -> dict[str, Any]:
            return await self._metadata(bucket, name)

        plan = presence_plan("gcs-object", f"gs://{bucket}/{name}", head)
        return await self._wait(plan, timing, on_status)

    async def _metadata(self, bucket: str, name: str) -> dict[str, Any]:
        async def run(client: GcpClient) -> dict[str, Any]:
            found: dict[str, Any] = await client.storage.download_metadata(
                bucket, name, timeout=int(self.timeout)
            )
            return found

        return await self._object_call(bucket, name, "get_metadata", run)

    async def _object_call(
        self,
        bucket: str,
        name: str,
        operation: str,
        run: Callable[[GcpClient], Awaitable[T]],
        *,
        idempotent: bool = True,
    ) -> T:
        """``_storage_call``, its errors naming ``gs://bucket/name`` and the host they came
        from (``download gs://data/a.json via https://storage.googleapis.com/...``)."""
        token = STORAGE_TARGET.set(f"gs://{bucket}/{name}")
        try:
            return await self._storage_call(operation, run, idempotent=idempotent)
        finally:
            STORAGE_TARGET.reset(token)
