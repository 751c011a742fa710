"""Run every benchmark side by side and write ``benchmarks/results/``: a JSON file per run,
``latest.json``, ``latest.md`` (the tables the README and docs show) and ``latest.png``.

``python -m benchmarks.run [--quick]`` (``nox -s bench -- --quick``): the quick run uses
N = 100 and 1,000 and fewer repetitions; the full run adds N = 3,000.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import bridge, burst, imports, percall, servers
from benchmarks.waits import APPROACHES

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).parent.parent
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
#: A thread per wait stops being something a machine allows well before 10,000.
MAX_THREADS = 2000
LABELS = {
    "threads": "boto3, thread per wait",
    "pool32": "boto3, 32-thread pool",
    "aiobotocore": "raw aiobotocore, one client",
    "hooks": "async_hooks",
    "hooks_coalesced": "async_hooks, coalesced",
}


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def _waits(sizes: list[int], poll: float, log: Any) -> list[dict[str, Any]]:
    rows = []
    with servers.moto() as url:
        for n in sizes:
            for approach in APPROACHES:
                if approach == "threads" and n > MAX_THREADS:
                    continue
                log(f"waits: {approach} N={n}")
                out = subprocess.run(
                    [sys.executable, "-m", "benchmarks.waits", approach, str(n), url, str(poll)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if out.returncode != 0:
                    log(out.stderr[-2000:])
                    raise SystemExit(f"waits benchmark {approach} N={n} failed")
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def _table_waits(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| N | approach | wall s | client CPU s | RSS/wait KiB | API calls | calls/wait"
        " | threads | loop lag p99 ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lag = f"{r['lag_p99_ms']:.1f}" if r["lag_p99_ms"] is not None else "-"
        lines.append(
            f"| {r['n']:,} | {LABELS[r['approach']]} | {r['wall_s']:.1f} | {r['cpu_s']:.2f}"
            f" | {r['rss_per_wait_kib']:.1f} | {r['calls']:,} | {r['calls_per_wait']:.2f}"
            f" | {r['threads']} | {lag} |"
        )
    return "\n".join(lines)


def _ratios(rows: list[dict[str, Any]]) -> str:
    lines = []
    for n in sorted({r["n"] for r in rows}):
        at = {r["approach"]: r for r in rows if r["n"] == n}
        ours = at.get("hooks_coalesced")
        if not ours:
            continue
        for base in ("threads", "pool32", "aiobotocore"):
            if base in at:
                b = at[base]
                lines.append(
                    f"- N={n:,}, coalesced async_hooks vs {LABELS[base]}: "
                    f"{b['calls'] / max(ours['calls'], 1):.0f}x fewer API calls, "
                    f"{b['cpu_s'] / max(ours['cpu_s'], 1e-9):.1f}x less client CPU, "
                    f"{b['wall_s'] / ours['wall_s']:.1f}x faster"
                )
    return "\n".join(lines)


def _markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    pc, br, imp = result["per_call"], result["bridge"], result["imports"]
    burst_rows = "\n".join(
        f"| {r['approach']} | {r['succeeded']}/300 | {r['wall_s']:.1f} | {r['throttled_answers']}"
        f" | {r['requests']} |"
        for r in result["burst"]
    )
    return f"""### Benchmark results ({"quick" if result["quick"] else "full"} run, {result["date"]})

Machine: {m["cpus"]} CPUs, {m["processor"]}, {m["platform"]}, Python {m["python"]}.
Servers run in their own processes (moto for job lifecycles, a minimal endpoint for overhead).

**Concurrent waits** on ECS tasks (moto; each task ends after four polls, {result["poll_interval"]} s apart).
RSS per wait is the peak growth above the process after launching the tasks, divided by N;
loop lag is how late a 10 ms sleeper wakes (the first client's model loading included):

{_table_waits(result["waits"])}

{_ratios(result["waits"])}

**Per call** (sequential, minimal endpoint): `hook.call` {pc["hook_call_us"]:.0f} µs vs a cached
aiobotocore client {pc["aiobotocore_cached_us"]:.0f} µs ({pc["hook_vs_aiobotocore"]:.2f}x) vs a new
session and client per call {pc["new_session_per_call_us"]:,.0f} µs ({pc["new_session_vs_hook"]:.0f}x
the hook); `AsyncHttpHook.request` {pc["http_hook_us"]:.0f} µs vs raw aiohttp
{pc["aiohttp_raw_us"]:.0f} µs ({pc["http_hook_vs_aiohttp"]:.2f}x).

**Sync bridge** (a no-op coroutine from a plain thread): `run_sync` {br["run_sync_us"]:.0f} µs,
`asyncio.run` per call {br["asyncio_run_us"]:.0f} µs ({br["asyncio_run_vs_run_sync"]:.1f}x),
asgiref `async_to_sync` {br["asgiref_async_to_sync_us"]:.0f} µs, anyio blocking portal
{br["anyio_portal_us"]:.0f} µs.

**Throttled burst**: 300 calls at concurrency 50 against an endpoint allowing 20 requests/s
(botocore with `max_attempts` 5, as async_hooks' default):

| approach | succeeded | wall s | throttled answers | requests |
|---|---:|---:|---:|---:|
{burst_rows}

**Import time** (median): python {imp["python"]:.0f} ms; `import async_hooks`
{imp["import async_hooks"]:.0f} ms; with `AsyncAwsHook` {imp["+ AsyncAwsHook"]:.0f} ms; with
`AsyncGcpHook` {imp["+ AsyncGcpHook"]:.0f} ms.
"""


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (memory, calls) = plt.subplots(1, 2, figsize=(11, 4.2))
    for approach in APPROACHES:
        mine = sorted((r for r in rows if r["approach"] == approach), key=lambda r: r["n"])
        if not mine:
            continue
        ns = [r["n"] for r in mine]
        memory.plot(ns, [max(r["rss_per_wait_kib"], 0.1) for r in mine], "o-",
                    label=LABELS[approach])  # fmt: skip
        calls.plot(ns, [r["calls"] for r in mine], "o-", label=LABELS[approach])
    for axis, title in ((memory, "peak RSS per wait (KiB)"), (calls, "API calls")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("concurrent waits (N)")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    calls.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def publish(table: Path, plot: Path) -> None:
    """Put a full run's tables in the README (between its markers) and its plot in the docs."""
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    body = table.read_text().replace("### Benchmark results", "#### Benchmark results", 1)
    image = "\n![memory per wait and API calls against N](docs/assets/bench-full.png)\n"
    readme.write_text(text[:start] + "\n" + body + image + text[end:])
    assets = ROOT / "docs" / "assets"
    assets.mkdir(exist_ok=True)
    (assets / "bench-full.png").write_bytes(plot.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="N = 100 and 1,000 only")
    parser.add_argument("--sizes", type=int, nargs="*", help="override the Ns of the waits")
    args = parser.parse_args()
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    # 10,000 was the goal; moto (the server, in its own process) spent over ten minutes of CPU
    # on the 32-thread pool's 10,000 row alone, so the full run stops at 3,000.
    sizes = args.sizes or ([100, 1000] if args.quick else [100, 1000, 3000])
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "quick": args.quick,
        "machine": _machine(),
    }
    # The quick run polls faster so that it fits in three minutes; the rows stay comparable.
    result["poll_interval"] = 0.1 if args.quick else 0.25
    result["waits"] = _waits(sizes, result["poll_interval"], log)
    with servers.endpoint() as url:
        log("per-call cost")
        result["per_call"] = percall.run(url, args.quick)
    log("sync bridge")
    result["bridge"] = bridge.run(args.quick)
    with servers.endpoint(rate=20) as url:
        log("throttled burst")
        result["burst"] = burst.run(url)
    log("import time")
    result["imports"] = imports.run(args.quick)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    kind = "quick" if args.quick else "full"
    for name in (f"{stamp}-{kind}.json", f"latest-{kind}.json"):
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"latest-{kind}.md").write_text(_markdown(result))
    _plot(result["waits"], RESULTS / f"latest-{kind}.png")
    log(f"wrote {RESULTS}/latest-{kind}.{{json,md,png}}")
    if not args.quick:
        publish(RESULTS / "latest-full.md", RESULTS / "latest-full.png")
        log("updated the README's table and docs/assets/bench-full.png")
    print(_markdown(result))


if __name__ == "__main__":
    main()
