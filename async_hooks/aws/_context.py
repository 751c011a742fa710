"""What a job kind may ask of the hook that waits on it: calls and the loop's shared values.

Kinds talk to this small protocol, never to ``AsyncAwsHook`` itself, so a kind's module imports
no hook and a hook's private methods stay its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Protocol, TypeVar

__all__ = ["KindContext"]

T = TypeVar("T")


class KindContext(Protocol):
    """The hook as a job kind sees it."""

    async def call(self, service: str, operation: str, /, **params: Any) -> dict[str, Any]:
        """One API operation through the hook's pipeline (throttled, retried, counted)."""
        ...

    async def shared(self, key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
        """The value for ``key`` on this connection and loop, built once however many ask
        (a failed build is forgotten): for what never changes, such as a task definition."""
        ...
