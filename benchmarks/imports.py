"""Import time of async_hooks, and of it with a provider's hook first used.

Each figure is the median over fresh interpreters; the snippets take turns (one interpreter of
each per round), so a burst of load on the machine spreads over all of them instead of landing
on one.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Any

SNIPPETS = {
    "python": "pass",
    "import async_hooks": "import async_hooks",
    "+ AsyncHttpHook": "import async_hooks; async_hooks.AsyncHttpHook",
    "+ AsyncAwsHook": "import async_hooks; async_hooks.AsyncAwsHook",
    "+ AsyncGcpHook": "import async_hooks; async_hooks.AsyncGcpHook",
}


def _seconds(code: str) -> float:
    timer = (
        f"import time; t = time.perf_counter(); exec(compile({code!r}, 's', 'exec'));"
        " print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", timer], capture_output=True, text=True, check=True)
    return float(out.stdout)


def run(quick: bool) -> dict[str, Any]:
    runs = 3 if quick else 7
    samples: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    for _ in range(runs):
        for name, code in SNIPPETS.items():
            samples[name].append(_seconds(code))
    return {name: statistics.median(s) * 1000 for name, s in samples.items()}
