"""Servers in their own processes: the moto server and the minimal endpoint."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                answer.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def process(args: list[str], probe: str) -> Iterator[None]:
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_up(probe)
        yield
    finally:
        child.terminate()
        child.wait(timeout=30)


@contextmanager
def moto() -> Iterator[str]:
    """``moto_server`` on 127.0.0.1 in its own process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with process(args, f"{url}/moto-api/data.json"):
        yield url


@contextmanager
def counting_moto() -> Iterator[str]:
    """moto in its own process, counting requests per operation (``/__counts``)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "benchmarks.counting_moto", "--port", str(port)]
    with process(args, f"{url}/moto-api/data.json"):
        yield url


@contextmanager
def endpoint(rate: float | None = None, batch_polls: int | None = None) -> Iterator[str]:
    """The minimal endpoint (``benchmarks/endpoint.py``) in its own process: ``rate`` makes it
    throttle, ``batch_polls`` is how many describes a Batch job takes to succeed."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "benchmarks.endpoint", "--port", str(port)]
    if rate is not None:
        args += ["--rate", str(rate)]
    if batch_polls is not None:
        args += ["--batch-polls", str(batch_polls)]
    with process(args, f"{url}/stats"):
        yield url


def post(url: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read()
    return json.loads(text) if text.strip().startswith(b"{") else None


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())
