"""Child processes a deployment starts: each by PID in its own process group, its output in a
log file, stopped with its whole group (also when start-up fails half-way)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = ["DeploymentError", "ManagedProcess", "free_port", "wait_until"]


class DeploymentError(RuntimeError):
    """A deployment's process failed to start or a wait on it ran out of time; the message
    names the process and ends with the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 free right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ManagedProcess:
    """One command, started in its own session (so its children share its process group),
    stdout and stderr appended to ``log``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> None:
        self.name, self.argv, self.log = name, list(argv), log
        self._env, self._cwd, self._user = env, cwd, user
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise DeploymentError(f"{self.name} was never started")
        return self._popen.pid

    def start(self) -> ManagedProcess:
        with self.log.open("ab") as out:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(self._env) if self._env is not None else None,
                cwd=self._cwd,
                user=self._user,
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the process's group (it and every child it started)."""
        if self._popen is None:
            return
        try:
            os.killpg(self._popen.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the group, then SIGKILL to what is left after ``timeout`` seconds
        (Airflow's scheduler would wait for its running tasks)."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(signal.SIGKILL)  # children that outlived their parent, too
        self._popen.wait()

    def tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log."""
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log yet)"
        return "\n".join(text.splitlines()[-lines:])

    def describe_failure(self, what: str) -> str:
        state = "running" if self.alive else f"exited with {self.returncode}"
        return f"{what} ({self.name}, {state}); {self.log} ends with:\n{self.tail()}"


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    watch: Sequence[ManagedProcess] = (),
    interval: float = 0.25,
) -> None:
    """Return once ``condition()`` is true; ``DeploymentError`` if a watched process exits
    first or ``timeout`` seconds pass (with the log tail of the process concerned)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        for process in watch:
            if not process.alive:
                raise DeploymentError(process.describe_failure(f"exited while waiting for {what}"))
        if time.monotonic() > deadline:
            raise DeploymentError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
