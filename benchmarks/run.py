"""Run every benchmark side by side and write ``benchmarks/results/``: a JSON file per run,
``latest.json``, ``latest.md`` (the tables docs/benchmarks.md shows) and ``latest.png``.

``python -m benchmarks.run [--quick]`` (``nox -s bench -- --quick``). The full run: concurrent
waits on moto for N = 100, 1,000 and 3,000 (at 3,000 only raw aiobotocore and coalesced
async_hooks), the scale rows (100,000 Batch waits polled every 5 s with lean job details,
20,000 and 100,000 with full ones), staggered starts (N = 20
and 200), per-call cost, the sync bridge, a throttled burst, throttled waits (100 Batch waits
under 60 s of 90 % throttling, ``throttling.py``), Google scale (2,000 BigQuery waits polled
every 5 s at 100 ms a request, ``gcp_scale.py``), import time and masking a payload with 0,
200 and 1,024 learnt secrets (``masking.py``, whose paragraph follows ``report.py``'s tables).
The quick run (about three minutes) stops the waits at 1,000 (without the boto3 rows there),
the scale row at 10,000 (polled every 2 s), the staggered row at 20, repeats less and leaves
out the two issue-19 rows (about 80 s each, whatever N). Every row of waits runs in a process
of its own; ``report.py`` writes the tables.

``--only NAME [NAME ...]`` runs only those sections (``python -m benchmarks.run --only
throttling``; the names are ``SECTIONS``) and writes ``latest-only-NAME[-NAME...].json`` and
``.md`` beside the others: the full and quick results and the published tables stay as they are.
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

from benchmarks import (
    bridge,
    burst,
    gcp_scale,
    imports,
    masking,
    percall,
    scale,
    servers,
    staggered,
    throttling,
)
from benchmarks.report import markdown, plot
from benchmarks.waits import APPROACHES

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).parent.parent
#: A full run's tables go into docs/benchmarks.md, between these lines (the copy of
#: latest-full.md there, which tests/test_docs_inlined.py keeps equal to it).
PAGE = ROOT / "docs" / "benchmarks.md"
PAGE_START = "<!-- inlined from benchmarks/results/latest-full.md"
PAGE_END = "<!-- end of benchmarks/results/latest-full.md -->"
#: A thread per wait stops being something a machine allows well before 10,000.
MAX_THREADS = 2000
#: From this N on, only these concurrent-waits rows run (full run, quick run). The others cost
#: the most minutes (moto serves every uncoalesced poll: 140 s a row at 3,000) and show at the
#: smaller Ns what they would show here; async_hooks uncoalesced tracks raw aiobotocore.
ONLY_AT = {
    False: (3000, ("aiobotocore", "hooks_coalesced")),
    True: (1000, ("aiobotocore", "hooks", "hooks_coalesced")),
}
#: The scale row's jobs succeed on their 6th describe, polled every 5 s (the quick run: 2 s,
#: which changes its wall time only).
SCALE_POLLS, SCALE_INTERVAL, SCALE_INTERVAL_QUICK = 6, 5.0, 2.0
#: Staggered starts: waits started evenly over 5 s, polled every second, ending on the 10th poll.
STAGGERED_POLLS, STAGGERED_INTERVAL, STAGGERED_SPREAD = 10, 1.0, 5.0
#: Throttled waits (issue 19): 100 Batch waits polled every 2 s through 60 s of 90 % throttling.
THROTTLING_N, THROTTLING_INTERVAL = 100, 2.0
#: Google scale (issue 19): 2,000 BigQuery waits polled every 5 s, jobs running 40 s.
GCP_SCALE_N, GCP_SCALE_INTERVAL = 2000, 5.0
#: A row of fixed duration (the two above take about 80 s) stops after this many seconds at most.
ROW_TIMEOUT = 900
#: What ``--only`` may name, in the order a run runs them.
SECTIONS = (
    "waits", "scale", "staggered", "per_call", "bridge", "burst", "throttling", "gcp_scale",
    "imports", "masking",
)  # fmt: skip
#: The sections the quick run leaves out (unless ``--only`` names them).
NOT_QUICK = ("throttling", "gcp_scale")


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def _row(module: str, args: list[Any], log: Any, timeout: float | None = None) -> dict[str, Any]:
    """One benchmark row from ``python -m benchmarks.<module> ARGS...``, in its own process."""
    command = [sys.executable, "-m", f"benchmarks.{module}", *map(str, args)]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        raise SystemExit(f"{module} benchmark did not end within {timeout:g} s") from expired
    if out.returncode != 0:
        log(out.stderr[-2000:])
        raise SystemExit(f"{module} benchmark {' '.join(map(str, args[:2]))} failed")
    row: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return row


def _waits(sizes: list[int], poll: float, quick: bool, log: Any) -> list[dict[str, Any]]:
    rows = []
    only_from, only = ONLY_AT[quick]
    with servers.moto() as url:
        for n in sizes:
            for approach in APPROACHES:
                if approach == "threads" and n > MAX_THREADS:
                    continue
                if n >= only_from and approach not in only:
                    continue
                log(f"waits: {approach} N={n}")
                rows.append(_row("waits", [approach, n, url, poll], log))
    return rows


def _scale(sizes: list[tuple[int, str]], poll: float, log: Any) -> dict[str, Any]:
    """The scale rows: (N, job detail) pairs, each approach in a process of its own."""
    rows = []
    with servers.endpoint(batch_polls=SCALE_POLLS) as url:
        for n, detail in sizes:
            for approach in scale.APPROACHES:
                log(f"scale: {approach} N={n} {detail} job details")
                rows.append(_row("scale", [approach, n, url, poll, detail], log))
    return {"n": max(n for n, _ in sizes), "poll_s": poll, "batch_polls": SCALE_POLLS, "rows": rows}


def _staggered(sizes: list[int], log: Any) -> dict[str, Any]:
    rows = []
    with servers.endpoint(batch_polls=STAGGERED_POLLS) as url:
        for n in sizes:
            for approach in staggered.APPROACHES:
                log(f"staggered: {approach} N={n}")
                args = [approach, n, url, STAGGERED_INTERVAL, STAGGERED_SPREAD]
                rows.append(_row("staggered", args, log))
    return {
        "poll_s": STAGGERED_INTERVAL,
        "spread_s": STAGGERED_SPREAD,
        "batch_polls": STAGGERED_POLLS,
        "rows": rows,
    }


def _commit() -> str:
    """The commit measured, ``+ local changes`` when the working tree differs from it."""

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip() if out.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (
        " + local changes" if git("status", "--porcelain", "--", "async_hooks") else ""
    )


def _throttling(log: Any) -> dict[str, Any]:
    """The throttled-waits row; ``throttling.py`` starts its own endpoint."""
    log(f"throttling: {THROTTLING_N} Batch waits, {throttling.THROTTLE_S:g} s of 429s")
    return _row("throttling", [THROTTLING_N, THROTTLING_INTERVAL], log, ROW_TIMEOUT)


def _gcp_scale(log: Any) -> dict[str, Any]:
    """The Google scale row; ``gcp_scale.py`` starts its own server."""
    log(
        f"gcp_scale: {GCP_SCALE_N:,} BigQuery waits every {GCP_SCALE_INTERVAL:g} s,"
        f" jobs of {gcp_scale.JOB_S:g} s"
    )
    return _row("gcp_scale", [GCP_SCALE_N, GCP_SCALE_INTERVAL], log, ROW_TIMEOUT)


def publish(table: Path, plot: Path) -> None:
    """Put a full run's tables in docs/benchmarks.md (between its markers, with the commit
    measured) and its plot in the docs."""
    text = PAGE.read_text()
    start = text.index("\n", text.index(PAGE_START)) + 1
    end = text.index(PAGE_END)
    stamp = f"_Measured on commit {_commit()}._\n\n"
    PAGE.write_text(text[:start] + stamp + table.read_text() + text[end:])
    assets = ROOT / "docs" / "assets"
    assets.mkdir(exist_ok=True)
    (assets / "bench-full.png").write_bytes(plot.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller Ns, about three minutes")
    parser.add_argument("--sizes", type=int, nargs="*", help="override the Ns of the waits")
    parser.add_argument("--scale", type=int, help="override the N of the scale row")
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, metavar="NAME",
        help=f"run only these sections ({', '.join(SECTIONS)})",
    )  # fmt: skip
    args = parser.parse_args()
    only = [name for name in SECTIONS if name in (args.only or ())]

    def wanted(name: str) -> bool:
        if only:
            return name in only
        return not (args.quick and name in NOT_QUICK)

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
    if only:
        result["only"] = only
    if wanted("waits"):
        # The quick run polls faster so that it fits in three minutes; the rows stay comparable.
        result["poll_interval"] = 0.1 if args.quick else 0.25
        result["waits"] = _waits(sizes, result["poll_interval"], args.quick, log)
        if max(sizes) >= ONLY_AT[args.quick][0]:
            result["waits_only_at"] = ONLY_AT[args.quick]
    if wanted("scale"):
        scale_n = args.scale or (10_000 if args.quick else 100_000)
        interval = SCALE_INTERVAL_QUICK if args.quick else SCALE_INTERVAL
        # Lean job details (what the goals are set on) at full N; full details, where
        # botocore's parse dominates, at a fifth of it (the full run only).
        # Full details at N/5 (the README's headline) and at N: at 100,000 the endpoint, on the
        # same 2 cores, serves a tick in about 14 s instead of 5 (it writes 165 MB a tick).
        full = [(scale_n // 5, "full"), (scale_n, "full")]
        scale_sizes = [(scale_n, "lean")] + ([] if args.quick else full)
        result["scale"] = _scale(scale_sizes, interval, log)
    if wanted("staggered"):
        result["staggered"] = _staggered([20] if args.quick else [20, 200], log)
    if wanted("per_call"):
        with servers.endpoint() as url:
            log("per-call cost")
            result["per_call"] = percall.run(url, args.quick)
    if wanted("bridge"):
        log("sync bridge")
        result["bridge"] = bridge.run(args.quick)
    if wanted("burst"):
        with servers.endpoint(rate=20) as url:
            log("throttled burst")
            result["burst"] = burst.run(url)
    if wanted("throttling"):
        result["throttling"] = _throttling(log)
    if wanted("gcp_scale"):
        result["gcp_scale"] = _gcp_scale(log)
    if wanted("imports"):
        log("import time")
        result["imports"] = imports.run(args.quick)
    if wanted("masking"):
        log("masking a payload with 0, 200 and 1,024 learnt secrets")
        result["masking"] = masking.run(args.quick)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    kind = "quick" if args.quick else "full"
    if only:  # a partial run: files of its own, the full and quick results left as they are
        kind = "only-" + "-".join(only)
    for name in (f"{stamp}-{kind}.json", f"latest-{kind}.json"):
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    tables = markdown(result)
    if "masking" in result:
        tables += "\n" + masking.markdown(result["masking"])
    (RESULTS / f"latest-{kind}.md").write_text(tables)
    written = "json,md"
    if "waits" in result:
        plot(result["waits"], RESULTS / f"latest-{kind}.png")
        written += ",png"
    log(f"wrote {RESULTS}/latest-{kind}.{{{written}}}")
    if not args.quick and not only:
        publish(RESULTS / "latest-full.md", RESULTS / "latest-full.png")
        log("updated docs/benchmarks.md and docs/assets/bench-full.png")
    print(tables)


if __name__ == "__main__":
    main()
