"""A moto server on 127.0.0.1 for AWS tests, and helpers for its control API.

moto is a test dependency (``moto[server]``); it is imported only when a server starts.
"""

from __future__ import annotations

import json
import urllib.request
from types import TracebackType
from typing import Any

__all__ = ["MotoServer"]


class MotoServer:
    """moto's ``ThreadedMotoServer`` on 127.0.0.1 with a free port (its own thread).

    ``set_config`` posts to ``/moto-api/config`` (e.g. ``{"batch": {"use_docker": False}}``),
    ``set_transition`` to ``/moto-api/state-manager/set-transition`` (e.g. ``"glue::job_run",
    {"progression": "manual", "times": 2}``), ``reset`` to ``/moto-api/reset``.
    """

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url: str = ""

    def start(self) -> MotoServer:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def _post(self, path: str, body: Any = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(self.url + path, data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:
            payload: bytes = answer.read()
            return payload

    def reset(self) -> None:
        """Forget every resource (and the state-manager's transitions)."""
        self._post("/moto-api/reset")

    def set_config(self, config: dict[str, Any]) -> None:
        self._post("/moto-api/config", config)

    def set_transition(self, model_name: str, transition: dict[str, Any]) -> None:
        self._post(
            "/moto-api/state-manager/set-transition",
            {"model_name": model_name, "transition": transition},
        )

    def unset_transition(self, model_name: str) -> None:
        self._post("/moto-api/state-manager/unset-transition", {"model_name": model_name})

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
