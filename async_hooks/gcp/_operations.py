"""``AsyncGcpHook``'s google.longrunning operations: ``wait_for_operation`` (a ``PollPlan``
whose describe is one GET) and ``cancel_operation`` (``operations.cancel``)."""

from __future__ import annotations

from typing import Any

from yarl import URL

from async_hooks._core.waiting import JobResult, OnStatus, PollPlan, PollTiming
from async_hooks.errors import HookConfigError
from async_hooks.gcp._calls import GcpCalls
from async_hooks.gcp._settings import api_root_url
from async_hooks.gcp._urls import rebase

__all__ = ["OPERATION_TIMEOUT", "OperationMethods", "with_verb"]

#: A finite default for operations: google-api-core's async futures wait forever by default.
OPERATION_TIMEOUT = 3600.0


def with_verb(url: URL, verb: str) -> URL:
    """``url`` with a custom method appended to its path (``.../x:cancel``)."""
    return url.with_path(f"{url.raw_path}{verb}", encoded=True).with_query(url.query)


class OperationMethods(GcpCalls):
    """Waits on, and cancels, google.longrunning operations."""

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
        on_status: OnStatus | None = None,
    ) -> JobResult:
        """Poll a google.longrunning Operation (by full URL, or by its name under ``api_root``,
        e.g. ``https://dataproc.googleapis.com/v1``) until ``done``; an ``error`` raises
        ``JobFailedError`` with its message. The default timeout is an hour, not forever.
        With the hook's ``api_root``, a ``*.googleapis.com`` URL or root goes there instead."""
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
        return await self._wait(plan, timing, on_status)

    async def cancel_operation(
        self, name_or_url: str, *, api_root: str | None = None
    ) -> dict[str, Any]:
        """Ask Google to cancel a google.longrunning Operation (``operations.cancel``: POST
        ``{name}:cancel``), named as ``wait_for_operation`` names it. Returns the answer
        (usually ``{}``); the operation ends later, with a CANCELLED error, if it could be."""
        url = with_verb(self._operation_url(name_or_url, api_root), ":cancel")
        return await self._rest_json("operations", "cancel", "POST", url, body={})

    def _operation_url(self, name_or_url: str, api_root: str | None) -> URL:
        if not isinstance(name_or_url, str) or not name_or_url:
            raise HookConfigError("name_or_url must be an operation name or URL")
        if name_or_url.startswith(("https://", "http://")):
            return rebase(self.api_root, URL(name_or_url))
        root = api_root_url("api_root", api_root)
        if root is not None:
            return rebase(self.api_root, URL(f"{root}/{name_or_url.lstrip('/')}"))
        if self.api_root is None:
            raise HookConfigError(
                f"operation {name_or_url!r} is a name: pass api_root= (e.g. "
                "'https://dataproc.googleapis.com/v1') or a full URL"
            )
        return URL(f"{self.api_root}/{name_or_url.lstrip('/')}")
