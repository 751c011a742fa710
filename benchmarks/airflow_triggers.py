"""Airflow triggers side by side: the Amazon provider's ``GlueJobCompleteTrigger``, N waits on
one shared aiobotocore client (the best a hand-written trigger can do), and
``async_hooks.airflow.WaitForJobTrigger``, each waiting on N Glue job runs on the same moto
server, all on one event loop as Airflow's triggerer runs them.

``python -m benchmarks.airflow_triggers [--sizes 200 1000] [--poll 1.0]`` (``nox -s
bench_airflow``) writes ``benchmarks/results/airflow-<time>.json`` and ``latest-airflow.{json,md}``.
Each row runs in a process of its own (its memory is its own) that imports the same modules
whichever trigger it drives; only the waiting is measured. API calls are counted by the moto
server's process; clients by counting ``AioSession.create_client`` calls in the measured process
(instrumentation only: the call goes through unchanged).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import servers
from benchmarks.waits import Lag

RESULTS = Path(__file__).parent / "results"
#: The full run's table goes into docs/airflow.md, between these lines (the copy of
#: latest-airflow.md there, which tests/test_docs_inlined.py keeps equal to it).
README = Path(__file__).parent.parent / "docs" / "airflow.md"
MARKERS = (
    "<!-- inlined from benchmarks/results/latest-airflow.md: tests/test_docs_inlined.py keeps this copy equal to it -->",
    "<!-- end of benchmarks/results/latest-airflow.md -->",
)
SIZES = [200, 1000]
APPROACHES = {
    "provider": "Amazon provider GlueJobCompleteTrigger",
    "shared_client": "one shared aiobotocore client",
    "async_hooks": "async_hooks WaitForJobTrigger",
}
CONN_ID = "moto_bench"
REGION = "us-east-1"
STALL = 0.2  # Airflow's triggerer warns when the loop is blocked this long
STEP = 2.0  # seconds a Glue run spends in STARTING, then in RUNNING


# ---------------------------------------------------------------- the measured process


def _count_clients() -> list[int]:
    from aiobotocore.session import AioSession

    created = [0]
    original = AioSession.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        created[0] += 1
        return original(self, *args, **kwargs)

    AioSession.create_client = create_client  # type: ignore[method-assign]
    return created


def _triggers(approach: str, job: str, runs: list[str], poll: float) -> list[Any]:
    if approach == "provider":
        from airflow.providers.amazon.aws.triggers.glue import GlueJobCompleteTrigger

        return [
            GlueJobCompleteTrigger(
                job_name=job,
                run_id=run,
                waiter_delay=max(1, round(poll)),
                waiter_max_attempts=600,
                aws_conn_id=CONN_ID,
                region_name=REGION,
            )
            for run in runs
        ]
    from async_hooks.airflow import WaitForJobTrigger

    return [
        WaitForJobTrigger(
            "aws",
            hook_kwargs={"conn_id": CONN_ID, "region_name": REGION},
            wait_args=["glue", run],
            wait_kwargs={"job_name": job, "poll_interval": poll, "timeout": 600},
        )
        for run in runs
    ]


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        payload: dict[str, Any] = event.payload
        return payload
    raise RuntimeError("the trigger ended without an event")


async def _shared_client(url: str, job: str, runs: list[str], poll: float) -> list[str]:
    from aiobotocore.session import get_session
    from botocore.config import Config

    session = get_session()
    config = Config(max_pool_connections=100, retries={"mode": "standard"})
    async with session.create_client(
        "glue", endpoint_url=url, region_name=REGION, config=config
    ) as client:

        async def wait(run: str) -> str:
            while True:
                answer = await client.get_job_run(JobName=job, RunId=run)
                state = str(answer["JobRun"]["JobRunState"])
                if state in {"SUCCEEDED", "FAILED", "ERROR", "TIMEOUT", "STOPPED"}:
                    return state
                await asyncio.sleep(poll)

        return list(await asyncio.gather(*(wait(run) for run in runs)))


async def _drive(
    approach: str, url: str, job: str, runs: list[str], poll: float
) -> tuple[list[str], dict[str, float]]:
    """Every wait of the row on this loop, beside a lag probe: (statuses, lag summary)."""
    lag = Lag()
    ticker = asyncio.create_task(lag.run())
    if approach == "shared_client":
        statuses = await _shared_client(url, job, runs, poll)
    else:
        triggers = _triggers(approach, job, runs, poll)
        events = await asyncio.gather(*(_first_event(t) for t in triggers))
        statuses = [str(e.get("status")) for e in events]
    summary = lag.summary(STALL)
    await ticker
    return statuses, summary


def _import_everything() -> None:
    """The same imports for every approach, before the baseline: only waiting is measured."""
    import aiobotocore.session  # noqa: F401
    import airflow.providers.amazon.aws.triggers.glue  # noqa: F401

    import async_hooks.airflow
    import async_hooks.aws  # noqa: F401


def child(approach: str, url: str, job: str, runs: list[str], poll: float) -> dict[str, Any]:
    from async_hooks.testing.memory import RssSampler

    created = _count_clients()
    started = time.perf_counter()
    with RssSampler() as rss:
        statuses, lag = asyncio.run(_drive(approach, url, job, runs, poll))
    wall = time.perf_counter() - started
    return {
        "approach": approach,
        "n": len(runs),
        "wall_s": round(wall, 2),
        "rss_growth_mib": round(rss.growth_mib, 1),
        "clients": created[0],
        "ok": sum(1 for s in statuses if s in {"success", "SUCCEEDED"}),
        **lag,
    }


# ---------------------------------------------------------------- the orchestrator


async def _create_job(url: str, n: int, tag: str) -> str:
    from async_hooks import AsyncAwsHook
    from async_hooks.testing.aws_jobs import create_glue_job

    async with AsyncAwsHook(endpoint_url=url, region_name=REGION) as hook:
        return await create_glue_job(hook, f"etl-{tag}", n)


async def _start_runs(url: str, name: str, n: int) -> list[str]:
    from async_hooks import AsyncAwsHook
    from async_hooks.testing.aws_jobs import start_glue_runs

    async with AsyncAwsHook(endpoint_url=url, region_name=REGION, max_concurrency=20) as hook:
        return await start_glue_runs(hook, name, n)


def _row(url: str, approach: str, n: int, poll: float, env: dict[str, str]) -> dict[str, Any]:
    """One row: the measured process imports everything, says it is ready, then the runs start
    (each moves STARTING -> RUNNING -> SUCCEEDED on moto's clock, however often it is read)
    and the process waits for them."""
    from async_hooks import run_sync

    servers.post(f"{url}/moto-api/reset")
    servers.post(
        f"{url}/moto-api/state-manager/set-transition",
        {"model_name": "glue::job_run", "transition": {"progression": "time", "seconds": STEP}},
    )
    job = run_sync(_create_job(url, n, approach))
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.airflow_triggers", "--child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdin is not None and child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        child.kill()
        raise RuntimeError(f"{approach} N={n} did not start:\n{child.communicate()[1][-3000:]}")
    runs = run_sync(_start_runs(url, job, n))
    servers.post(f"{url}/__counts")  # from zero: only the waiting's calls count
    spec = json.dumps({"approach": approach, "url": url, "job": job, "runs": runs, "poll": poll})
    out, err = child.communicate(spec + "\n", timeout=1800)
    if child.returncode != 0:
        raise RuntimeError(f"{approach} N={n} failed:\n{err[-3000:]}")
    row: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    counts = servers.get(f"{url}/__counts")
    row["api_calls"] = counts.get("GetJobRun", 0) + counts.get("GetJobRuns", 0)
    return row


def _markdown(rows: list[dict[str, Any]], poll: float) -> str:
    lines = [
        f"N Glue job runs on one moto server, each {STEP:g} s STARTING then {STEP:g} s RUNNING "
        f"(moto's clock), polled every {poll:g} s; all waits of a row on one event loop, as "
        "Airflow's triggerer runs them. API calls: GetJobRun + GetJobRuns, counted by moto.",
        "",
        "| N | approach | wall time | peak RSS growth | API calls | clients created "
        "| loop lag p99 | worst stall | stalls >= 0.2 s | ok |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {APPROACHES[r['approach']]} | {r['wall_s']:.1f} s "
            f"| {r['rss_growth_mib']:.0f} MiB | {r['api_calls']:,} | {r['clients']:,} "
            f"| {r['lag_p99_ms']:.1f} ms | {r['lag_max_ms']:.0f} ms | {r['stalls']} "
            f"| {r['ok']:,}/{r['n']:,} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _import_everything()
        print("ready", flush=True)
        spec = json.loads(sys.stdin.readline())
        row = child(spec["approach"], spec["url"], spec["job"], spec["runs"], spec["poll"])
        print(json.dumps(row), flush=True)
        return
    home = tempfile.mkdtemp(prefix="bench-airflow-")
    rows = []
    with servers.counting_moto() as url:
        conn = {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": url, "region_name": REGION},
        }
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(conn),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }
        os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")})
        for n in args.sizes:
            for approach in APPROACHES:
                print(f"airflow triggers: {approach} N={n}", file=sys.stderr, flush=True)
                rows.append(_row(url, approach, n, args.poll, env))
                print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "poll_interval": args.poll,
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    text = json.dumps(result, indent=2)
    (RESULTS / f"airflow-{stamp}.json").write_text(text + "\n")
    (RESULTS / "latest-airflow.json").write_text(text + "\n")
    (RESULTS / "latest-airflow.md").write_text(_markdown(rows, args.poll))
    if args.sizes == SIZES:
        publish(_markdown(rows, args.poll), result["when"])
    print(_markdown(rows, args.poll))


def publish(table: str, when: str) -> None:
    """The full run's table into docs/airflow.md, between its markers."""
    text = README.read_text()
    start, end = text.index(MARKERS[0]) + len(MARKERS[0]), text.index(MARKERS[1])
    README.write_text(f"{text[:start]}\n_Measured {when}._ {table}{text[end:]}")


if __name__ == "__main__":
    main()
