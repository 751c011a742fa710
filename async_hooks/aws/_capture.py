"""The raw bytes of a successful JSON answer, for the status path (``_status.py``).

botocore emits ``before-parse`` with the answer's ``response_dict`` before its parser runs. The
handler, registered on every client the hook creates, acts only inside ``capture()`` (a context
variable, set around one client call by the pipeline's attempt function): for a 2xx answer of a
JSON protocol it takes the body and leaves botocore an empty object to parse, so the page is
read once, by the status path. Error answers are left alone: botocore parses them and raises its
``ClientError``, which the pipeline maps, once, as for any call; the throttle, the retries, the
budget and the stats see the call as any other.
"""

from __future__ import annotations

import contextvars
from typing import Any

__all__ = ["JSON_PROTOCOLS", "Captured", "capture_body", "install"]

#: The protocols whose answers are JSON documents (the status path's decoder reads these only).
JSON_PROTOCOLS = frozenset({"json", "rest-json"})
_EMPTY = b"{}"

_CAPTURE: contextvars.ContextVar[Captured | None] = contextvars.ContextVar(
    "async_hooks_aws_capture", default=None
)


class Captured:
    """What one call's answer left for the status path: its body (None: not captured, the
    client's parsed answer stands) and the client's protocol."""

    __slots__ = ("_token", "body", "protocol")

    def __init__(self) -> None:
        self.body: bytes | None = None
        self.protocol: str | None = None

    def __enter__(self) -> Captured:
        self._token = _CAPTURE.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _CAPTURE.reset(self._token)

    def take(self) -> bytes | None:
        """The body, let go of here: this object outlives the call in every context copied
        inside it (a task's, a timer's: a cancelled ``TimerHandle`` keeps its context until
        its time comes, 60 s for botocore's read timeout), so it must not hold the page."""
        body, self.body = self.body, None
        return body


def capture_body(operation_model: Any, response_dict: dict[str, Any], **kwargs: Any) -> None:
    """botocore's ``before-parse`` handler (see the module's docstring)."""
    captured = _CAPTURE.get()
    if captured is None:
        return
    service_model = operation_model.service_model
    protocol = getattr(service_model, "resolved_protocol", None) or service_model.protocol
    captured.protocol = protocol
    body = response_dict.get("body")
    if (
        protocol in JSON_PROTOCOLS
        and response_dict.get("status_code", 500) < 300
        and type(body) is bytes
        and not operation_model.has_streaming_output
        and not operation_model.has_event_stream_output
    ):
        captured.body = body
        response_dict["body"] = _EMPTY


def install(client: Any) -> None:
    """Register the handler on ``client`` (once, when the hook creates it)."""
    client.meta.events.register("before-parse", capture_body, unique_id="async-hooks-capture")
