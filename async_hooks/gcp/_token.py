"""One shared Google access token per identity and loop, on gcloud-aio-auth's ``Token``.

What gcloud-aio-auth does that the pipeline must not have done behind its back:

- ``acquire_access_token`` retries a grant five times under tenacity (7-12 s for a refused
  grant, under the pipeline's own retries): here one grant is one request, and the pipeline's
  retry (which sees every failure) is the only retry (docs/pipeline.md, "Retry").
- every caller awaits the refresh task *unshielded*, so one caller's cancellation cancels it for
  all (talkiq/gcloud-aio #500): here callers await it shielded.
- a background refresh is a task nobody awaits: its failure was "never retrieved", and it
  outlived the hook's ``close()``. Here every task the token starts is tracked, its outcome
  read, and ``aclose()`` cancels and awaits whatever is still running.

``tests/test_upstream_pins.py`` pins the upstream code this relies on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import weakref
from typing import Any

from gcloud.aio.auth import Token

from async_hooks.errors import HookConfigError

__all__ = ["SharedToken", "build_token"]


class SharedToken(Token):
    """A gcloud-aio ``Token``: one grant request per acquisition, shielded from any one
    caller's cancellation, and closed with the hook's client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tasks: set[asyncio.Future[Any]] = set()  # still running
        self._seen: weakref.WeakSet[asyncio.Future[Any]] = weakref.WeakSet()

    async def acquire_access_token(self, timeout: int = 10) -> None:  # type: ignore[override]
        # The undecorated upstream function: the same bookkeeping, without its five retries.
        await _ACQUIRE_ONCE(self, timeout)

    async def ensure_token(self) -> None:
        waiting = asyncio.ensure_future(super().ensure_token())
        self._track(waiting)
        await asyncio.shield(waiting)

    def _track(self, task: asyncio.Future[Any]) -> None:
        if task in self._seen:
            return
        self._seen.add(task)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # read: a failed refresh is the callers' error, not the loop's
        # The refresh that ``ensure_token`` started, a background one included, which nobody
        # else awaits: tracked from the moment the call that started it ends.
        if self.acquiring is not None:
            self._track(self.acquiring)

    def expiry_of(self, token: str) -> dt.datetime | None:
        """When ``token`` (this token's value) expires, as gcloud-aio recorded it on acquiring
        it (aware UTC; older gcloud-aio-auth wrote naive UTC, which ``learn_secret`` reads as
        UTC); None if not known."""
        acquired = getattr(self, "access_token_acquired_at", None)
        duration = getattr(self, "access_token_duration", None)
        if token != self.access_token or not isinstance(acquired, dt.datetime):
            return None
        if not isinstance(duration, (int, float)) or duration <= 0:
            return None
        return acquired + dt.timedelta(seconds=duration)

    async def aclose(self) -> None:
        """Cancel and await the refreshes still running (before the session closes)."""
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.acquiring = None


#: ``BaseToken.acquire_access_token`` without tenacity's ``@retry`` (tenacity keeps the
#: decorated function as ``__wrapped__``).
_ACQUIRE_ONCE: Any = Token.acquire_access_token.__wrapped__


def build_token(data: dict[str, Any] | None, session: Any, scopes: list[str]) -> SharedToken:
    """A shared token on ``session``: from the credentials data, else application defaults.

    Application defaults read the file ``GOOGLE_APPLICATION_CREDENTIALS`` names (gcloud-aio
    before 5.6: also one under ``CLOUDSDK_CONFIG``): a file that is not there is configuration,
    not an ``OSError`` to retry."""
    service_file = io.StringIO(json.dumps(data)) if data is not None else None
    try:
        return SharedToken(service_file=service_file, session=session, scopes=scopes)
    except OSError as error:
        if data is not None:
            raise
        why = error.strerror or type(error).__name__
        if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
            where = "GOOGLE_APPLICATION_CREDENTIALS names a file that cannot be read"
        else:
            where = "CLOUDSDK_CONFIG holds no readable application_default_credentials.json"
        raise HookConfigError(f"{where}: {why}") from None
