"""The Markdown tables and the plot of a run's results (``benchmarks/run.py`` writes them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.waits import APPROACHES

LABELS = {
    "threads": "boto3, thread per wait",
    "pool32": "boto3, 32-thread pool",
    "aiobotocore": "raw aiobotocore, one client",
    "hooks": "async_hooks",
    "hooks_coalesced": "async_hooks, coalesced",
}
SCALE_LABELS = {
    "aiobotocore_batched": "aiobotocore, hand-batched (100 ids a call, 10 in flight)",
    "hooks": "async_hooks `wait_for_job` (coalesced)",
}
STAGGERED_LABELS = {"coalesced": "async_hooks, coalesced", "alone": "async_hooks, `coalesce=False`"}


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


def _table_scale(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| N | job details | approach | wall s | client CPU s | RSS/wait KiB | CPU/poll ms"
        " | loop lag p99 ms | job polls | polls/call | API calls (server) |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r.get('detail', 'full')} | {SCALE_LABELS[r['approach']]}"
            f" | {r['wall_s']:.1f} | {r['cpu_s']:.1f}"
            f" | {r['rss_per_wait_kib']:.1f} | {r['cpu_per_poll_ms']:.3f} | {r['lag_p99_ms']:.0f}"
            f" | {r['job_polls']:,} | {r['polls_per_call']:.1f}"
            f" | {r['calls']:,} ({r['server_calls']:,}) |"
        )
    ratios = []
    for n, detail in dict.fromkeys((r["n"], r.get("detail", "full")) for r in rows):
        at = {r["approach"]: r for r in rows if (r["n"], r.get("detail", "full")) == (n, detail)}
        ours, base = at.get("hooks"), at.get("aiobotocore_batched")
        if not (ours and base):
            continue
        ratios.append(
            f"- async_hooks / hand-batched aiobotocore at N={n:,}, {detail} job details: "
            f"{ours['cpu_s'] / max(base['cpu_s'], 1e-9):.2f}x the client CPU, "
            f"{ours['rss_per_wait_kib'] / max(base['rss_per_wait_kib'], 1e-9):.1f}x the memory"
            f" per wait, {ours['calls'] / max(base['calls'], 1):.2f}x the API calls, "
            f"{ours['wall_s'] / base['wall_s']:.2f}x the wall time, a loop-lag p99 of"
            f" {ours['lag_p99_ms']:.0f} ms against {base['lag_p99_ms']:.0f} ms"
        )
    return "\n".join(lines) + ("\n\n" + "\n".join(ratios) if ratios else "")


def _table_staggered(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| N | approach | job polls | API calls (server) | calls/poll | wall s |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {STAGGERED_LABELS[r['approach']]} | {r['job_polls']:,}"
            f" | {r['calls']:,} ({r['server_calls']:,}) | {r['calls_per_poll']:.2f}"
            f" | {r['wall_s']:.1f} |"
        )
    return "\n".join(lines)


def _waits_note(result: dict[str, Any]) -> str:
    only = result.get("waits_only_at")
    if not only:
        return ""
    n, approaches = only
    quoted = [f'"{LABELS[a]}"' for a in approaches]
    names = " and ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)
    return (
        f"At N = {n:,} only the rows {names} run: the other rows cost the most minutes (moto serves"
        " every uncoalesced poll) and show at the smaller Ns what they would show there.\n"
    )


def _sizes(rows: list[dict[str, Any]]) -> str:
    return " and ".join(f"{n:,}" for n in sorted({r["n"] for r in rows}))


def _section_waits(result: dict[str, Any]) -> str:
    return f"""**Concurrent waits** on ECS tasks (moto; each task ends after four polls, {result["poll_interval"]} s apart).
RSS per wait is the peak growth above the process after launching the tasks, divided by N;
loop lag is how late a 10 ms sleeper wakes (the first client's model loading included).
{_waits_note(result)}
{_table_waits(result["waits"])}

{_ratios(result["waits"])}
"""


def _section_scale(scale: dict[str, Any]) -> str:
    return f"""**Up to {scale["n"]:,} concurrent AWS Batch waits in one process**, polled every {scale["poll_s"]:g} s
(minimal endpoint answering DescribeJobs with lean job details, the members JobDetail requires,
~400 bytes a job, or full ones, 1.6-2 KB a job; each job succeeds on its
{scale["batch_polls"]}th describe; any id is a job, so only the waiting is measured, after a
warm-up call). Both sides use DescribeJobs to the full, so this is the cost of holding the waits:
wall s from starting the waits to the last one's end; client CPU s over the waiting; RSS/wait is the
peak RSS growth over the waiting divided by N; CPU/poll is client CPU per job poll (one job's
status read once); loop lag p99 is how late a 10 ms sleeper wakes; polls/call is job polls per
API call (100 is DescribeJobs' maximum); API calls as the client counted them, the endpoint's
count in brackets:

{_table_scale(scale["rows"])}
"""


def _section_staggered(staggered: dict[str, Any]) -> str:
    return f"""**Staggered starts**: N = {_sizes(staggered["rows"])} Batch waits whose starts are spread evenly over {staggered["spread_s"]:g} s (as an executor defers tasks over several seconds), polled
every {staggered["poll_s"]:g} s, each job ending on its {staggered["batch_polls"]}th describe. Calls/poll
is API calls per job poll: 1.00 is a call per poll (`coalesce=False`, the reference); the goal
for 20 waits is at most 0.15:

{_table_staggered(staggered["rows"])}
"""


def _section_per_call(pc: dict[str, Any]) -> str:
    return f"""**Per call** (sequential, minimal endpoint): `hook.call` {pc["hook_call_us"]:.0f} µs vs a cached
aiobotocore client {pc["aiobotocore_cached_us"]:.0f} µs ({pc["hook_vs_aiobotocore"]:.2f}x) vs a new
session and client per call {pc["new_session_per_call_us"]:,.0f} µs ({pc["new_session_vs_hook"]:.0f}x
the hook); `AsyncHttpHook.request` {pc["http_hook_us"]:.0f} µs vs raw aiohttp
{pc["aiohttp_raw_us"]:.0f} µs ({pc["http_hook_vs_aiohttp"]:.2f}x).
"""


def _section_bridge(br: dict[str, Any]) -> str:
    return f"""**Sync bridge** (a no-op coroutine from a plain thread): `run_sync` {br["run_sync_us"]:.0f} µs,
`asyncio.run` per call {br["asyncio_run_us"]:.0f} µs ({br["asyncio_run_vs_run_sync"]:.1f}x),
asgiref `async_to_sync` {br["asgiref_async_to_sync_us"]:.0f} µs, anyio blocking portal
{br["anyio_portal_us"]:.0f} µs.
"""


def _section_burst(rows: list[dict[str, Any]]) -> str:
    burst_rows = "\n".join(
        f"| {r['approach']} | {r['succeeded']}/300 | {r['wall_s']:.1f} | {r['throttled_answers']}"
        f" | {r['requests']} |"
        for r in rows
    )
    return f"""**Throttled burst**: 300 calls at concurrency 50 against an endpoint allowing 20 requests/s
(botocore with `max_attempts` 5, as async_hooks' default):

| approach | succeeded | wall s | throttled answers | requests |
|---|---:|---:|---:|---:|
{burst_rows}
"""


def _rate(value: float | None) -> str:
    return "unlimited" if value is None else f"{value:.2f}/s"


def _section_throttling(r: dict[str, Any]) -> str:
    bound = r["requests_per_tick_bound"]
    return f"""**Throttled waits** (issue 19): {r["n"]:,} Batch waits polled every {r["poll_s"]:g} s against a
Batch-shaped endpoint (the test kit's `AwsEndpoint`) that answers HTTP 429 `TooManyRequestsException`
to {r["throttled_share"]:.0%} of its DescribeJobs calls (a seeded sequence: the same answers in the same order
on every run) for {r["throttle_s"]:g} s, then answers normally; the jobs succeed 2-6 s later. A single
describe is a DescribeJobs call with one id while more than one job is pending (there must be none);
requests per tick are the endpoint's DescribeJobs requests, attempts included, per tick (the most
polls a wait counted), and at most {bound} (`max_attempts` {r["max_attempts"]} x {r["unthrottled_calls_per_tick"]} call a tick
unthrottled), also in any one poll interval; the rate is the shared throttle's limit:

| waits | succeeded | wall s | requests (throttled) | batch calls | single describes (during / after) | requests/tick (ticks) | most requests in one interval | throttle rate before / lowest during / after | ok |
|---:|---:|---:|---:|---:|---:|---:|---:|---|---|
| {r["n"]:,} | {r["succeeded"]:,}/{r["n"]:,} | {r["wall_s"]:.1f} | {r["requests"]:,} ({r["throttled_answers"]:,}) | {r["batch_calls"]:,} | {r["single_calls"]:,} ({r["singles_during"]:,} / {r["singles_after"]:,}) | {r["requests_per_tick"]:.1f} ({r["ticks"]}) | {r["max_requests_per_interval"]:,} | {_rate(r["rate_before"])} / {_rate(r["rate_lowest_during"])} / {_rate(r["rate_after"])} | {"yes" if r["ok"] else "no"} |
"""


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def _section_gcp_scale(r: dict[str, Any]) -> str:
    return f"""**Google scale** (issue 19): {r["n"]:,} BigQuery waits (`AsyncGcpHook.wait_for_job("bigquery", ...)`,
`poll_interval={r["poll_s"]:g}`) against a BigQuery-shaped REST server (the test kit's scripted Google API through
`api_root`) answering each request after {r["latency_s"] * 1000:.0f} ms, each job DONE {r["job_s"]:g} s after its first
poll. The interval is each job's mean time between two of its polls, from the server's own stamps,
as the median and the 95th percentile over the jobs, against the {r["poll_s"]:g} s asked for:

| waits | succeeded | wall s | asked interval s | interval median s (x asked) | interval p95 s | longest gap s | polls/job (median) | requests | peak requests in flight |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| {r["n"]:,} | {r["succeeded"]:,}/{r["n"]:,} | {r["wall_s"]:.1f} | {r["poll_s"]:g} | {_seconds(r["interval_median_s"])} ({_times(r["interval_vs_asked"])}) | {_seconds(r["interval_p95_s"])} | {_seconds(r["interval_max_s"])} | {r["polls_per_job_median"]:g} | {r["server_requests"]:,} | {r["peak_in_flight"]:,} |
"""


def _section_imports(imp: dict[str, Any]) -> str:
    return f"""**Import time** (median): python {imp["python"]:.0f} ms; `import async_hooks`
{imp["import async_hooks"]:.0f} ms; with `AsyncAwsHook` {imp["+ AsyncAwsHook"]:.0f} ms; with
`AsyncGcpHook` {imp["+ AsyncGcpHook"]:.0f} ms.
"""


#: The report's sections in order: the result key each renders, and how.
SECTIONS: tuple[tuple[str, Any], ...] = (
    ("waits", lambda result: _section_waits(result)),
    ("scale", lambda result: _section_scale(result["scale"])),
    ("staggered", lambda result: _section_staggered(result["staggered"])),
    ("per_call", lambda result: _section_per_call(result["per_call"])),
    ("bridge", lambda result: _section_bridge(result["bridge"])),
    ("burst", lambda result: _section_burst(result["burst"])),
    ("throttling", lambda result: _section_throttling(result["throttling"])),
    ("gcp_scale", lambda result: _section_gcp_scale(result["gcp_scale"])),
    ("imports", lambda result: _section_imports(result["imports"])),
)


def markdown(result: dict[str, Any]) -> str:
    """The tables of the sections ``result`` has (a run with ``--only`` has some of them)."""
    m = result["machine"]
    kind = "quick" if result["quick"] else "full"
    if result.get("only"):
        kind = f"{kind} run of {', '.join(result['only'])} only"
    else:
        kind = f"{kind} run"
    head = f"""### Benchmark results ({kind}, {result["date"]})

Machine: {m["cpus"]} CPUs, {m["processor"]}, {m["platform"]}, Python {m["python"]}.
Servers run in their own processes (moto for job lifecycles, a minimal endpoint for overhead).
"""
    parts = [render(result) for key, render in SECTIONS if key in result]
    return "\n".join([head, *parts])


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Memory per wait and API calls against N, for the concurrent-waits rows."""
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
