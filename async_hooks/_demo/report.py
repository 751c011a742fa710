"""The demo's numbers: one row per approach, and what they say, stated plainly.

The conclusion compares async_hooks with both baselines: far fewer calls and threads than a
thread per job; about as many calls as a careful poller that batches by hand, which is the
point: the waits are written one job at a time and the hook batches them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Phase", "conclusion", "table"]


@dataclass
class Phase:
    """One approach's run: wall time, API calls, threads it used, RSS growth, outcomes."""

    name: str
    seconds: float = 0.0
    calls: int = 0
    threads: int = 0
    rss_mib: float = 0.0
    succeeded: int = 0
    failed: int = 0


#: What the table's columns mean, printed under it.
LEGEND = (
    "wall: from the start of the waits to the last one's end. API calls: describe calls made.",
    "threads: threads the approach added while it waited (the embedded moto server's aside;",
    "async_hooks counts its event loop's). peak RSS +: the most the process's resident memory",
    "grew above where it was when the approach began. ok/failed: jobs that succeeded / did not.",
)


def table(phases: list[Phase]) -> str:
    width = max(len(p.name) for p in phases) + 2
    lines = [
        f"\n{'approach':{width}} {'wall':>8} {'API calls':>10} {'threads':>8} {'peak RSS +':>11}"
        f" {'ok/failed':>10}"
    ]
    for p in phases:
        lines.append(
            f"{p.name:{width}} {p.seconds:7.2f}s {p.calls:10d} {p.threads:8d}"
            f" {p.rss_mib:7.1f} MiB {p.succeeded:>5}/{p.failed}"
        )
    return "\n".join([*lines, "", *LEGEND]) + "\n"


def _ratio(theirs: int, ours: int) -> str:
    if ours == 0:
        return "no calls"
    ratio = theirs / ours
    if ratio >= 1.5:
        return f"{ratio:.0f}x fewer API calls"
    if ratio <= 1 / 1.5:
        return f"{1 / ratio:.1f}x more API calls"
    return f"about as many API calls ({ours} vs {theirs})"


def conclusion(phases: list[Phase]) -> str:
    if len(phases) < 2:
        return ""
    ours, *others = phases
    lines = [""]
    for other in others:
        threads = other.threads - ours.threads
        fewer = f", {threads} fewer threads" if threads > 0 else ""
        lines.append(f"async_hooks vs {other.name}: {_ratio(other.calls, ours.calls)}{fewer}.")
    if len(others) == 2:
        lines.append(
            "The careful poller batches because one loop knows every id; async_hooks batches "
            "waits\nwritten one job at a time (a trigger, a task each), whenever each began."
        )
    return "\n".join(lines) + "\n"
