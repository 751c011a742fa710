"""Import time of async_hooks, and of it with a provider's hook first used."""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Any

SNIPPETS = {
    "python": "pass",
    "import async_hooks": "import async_hooks",
    "+ AsyncAwsHook": "import async_hooks; async_hooks.AsyncAwsHook",
    "+ AsyncGcpHook": "import async_hooks; async_hooks.AsyncGcpHook",
}


def _median_ms(code: str, runs: int) -> float:
    timer = (
        f"import time; t = time.perf_counter(); exec(compile({code!r}, 's', 'exec'));"
        " print(time.perf_counter() - t)"
    )
    samples = [
        float(subprocess.run([sys.executable, "-c", timer], capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(runs)
    ]  # fmt: skip
    return statistics.median(samples) * 1000


def run(quick: bool) -> dict[str, Any]:
    runs = 3 if quick else 7
    return {name: _median_ms(code, runs) for name, code in SNIPPETS.items()}
