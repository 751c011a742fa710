"""Memory as the operating system sees it: resident set size, sampled while work runs."""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["RssSampler", "current_rss"]


def current_rss() -> int:
    """Resident memory now, in bytes (Linux); falls back to the peak elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class RssSampler:
    """Samples RSS on a thread, so a phase's peak growth is known even after earlier phases.

    ``with RssSampler() as rss:`` samples ``current_rss()`` every ``every`` seconds while the
    block runs, and once more when it ends; then ``rss.start_rss`` and ``rss.peak`` (bytes) and
    ``rss.growth_mib`` say how much the block made the process grow at most.
    """

    def __init__(self, every: float = 0.02) -> None:
        self.every: float = every
        self.peak: int = 0
        self.start_rss: int = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, current_rss())

    def __enter__(self) -> RssSampler:
        self.start_rss = current_rss()
        self.peak = self.start_rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss())

    @property
    def growth_mib(self) -> float:
        """The peak above the start, in MiB."""
        return (self.peak - self.start_rss) / (1024 * 1024)
