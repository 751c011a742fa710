"""Waits inside a real Airflow deployment (``async_hooks.testing.deployment``: PostgreSQL,
api-server, scheduler, dag-processor, ONE triggerer, moto): ``WaitForJobSensor`` beside the
Amazon provider's deferrable ``GlueJobSensor``, each waiting on a Glue run that already exists.

``python -m benchmarks.airflow_deployment [--rows async_hooks:1000 provider:200
async_hooks:10000] [--poll 5] [--steady 60] [--per-run 10]`` (``nox -s
bench_airflow_deployment``) writes ``benchmarks/results/latest-airflow-deployment.{json,md}``.

A row of N waits is N / ``--per-run`` runs of one DAG whose tasks read their run from the run's
conf: Airflow 3.3 ships the whole serialized DAG with every trigger it starts in the triggerer
(200 sensors in one DAG grew the triggerer by 505 MiB), and 3.3 does not start mapped tasks
there. Every Glue run is held in STARTING (moto's manual progression) until all N waits are held
by the triggerer and have polled for ``--steady`` seconds, then let finish. Measured: wall time
from the first run's start to the last run's end, time until the triggerer held every wait, the
triggerer's RSS (its process group: supervisor and trigger runner) growth and CPU seconds, the
API calls moto answered, how many tasks ever used a worker slot (``queued_dttm`` set), and the
loop's lag from a probe trigger in the same triggerer (a 50 ms sleep: how late it wakes) and from
the triggerer's own blocked-loop warnings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from async_hooks.testing.deployment import AirflowDeployment
from benchmarks.deployment_dags import LAG_PROBE, PROBE_DAG, ROW_DAG

RESULTS = Path(__file__).parent / "results"
NEVER = 10**9
PER_JOB = 500
LABELS = {
    "async_hooks": "async_hooks WaitForJobSensor (starts in the triggerer)",
    "provider": "Amazon provider GlueJobSensor(deferrable=True)",
}
BLOCKED = re.compile(r"Triggerer's async thread was blocked for ([0-9.]+) seconds")


def group_usage(pgid: int) -> tuple[int, float]:
    """RSS bytes and CPU seconds of every live process in the group ``pgid``."""
    rss, cpu, tick = 0, 0.0, os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) != pgid:
                continue
            cpu += (int(fields[11]) + int(fields[12])) / tick
            status = Path(f"/proc/{entry}/status").read_text()
        except (OSError, ValueError):
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        rss += int(found.group(1)) * 1024 if found else 0
    return rss, cpu


class Sampler(threading.Thread):
    """Peak RSS of a process group, sampled every half second."""

    def __init__(self, pgid: int) -> None:
        super().__init__(daemon=True)
        self.pgid, self.peak, self.done = pgid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.peak = max(self.peak, group_usage(self.pgid)[0])


def make_runs(airflow: AirflowDeployment, dag_id: str, count: int) -> list[list[str]]:
    """``count`` Glue runs, ``PER_JOB`` per job (a real account runs many jobs; one job's runs
    are listed by pages of at most 1,000); ``[job_name, run_id]`` each."""
    import asyncio

    from async_hooks.aws import AsyncAwsHook
    from async_hooks.testing.aws_jobs import create_glue_job, start_glue_runs

    async def make() -> list[list[str]]:
        async with AsyncAwsHook(
            endpoint_url=airflow.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing-secret",
        ) as hook:
            runs: list[list[str]] = []
            for start in range(0, count, PER_JOB):
                name = await create_glue_job(hook, f"{dag_id}-{start // PER_JOB}", PER_JOB)
                ids = await start_glue_runs(hook, name, min(PER_JOB, count - start))
                runs += [[name, run] for run in ids]
            return runs

    return asyncio.run(make())


def count_tis(airflow: AirflowDeployment, dag_id: str, where: str) -> int:
    rows = airflow.sql(
        "select count(*) from task_instance ti left join trigger t on t.id = ti.trigger_id"
        f" where ti.dag_id = %s and {where}",
        (dag_id,),
    )
    return int(rows[0][0])


def finished_runs(airflow: AirflowDeployment, dag_id: str) -> int:
    rows = airflow.sql(
        "select count(*) from dag_run where dag_id = %s and state in ('success', 'failed')",
        (dag_id,),
    )
    return int(rows[0][0])


def start_runs(airflow: AirflowDeployment, dag_id: str, confs: list[dict[str, Any]]) -> None:
    for conf in confs:
        airflow.api.call("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})


def measure(
    airflow: AirflowDeployment, dags: Path, approach: str, count: int, args: argparse.Namespace
) -> dict[str, Any]:
    dag_id, per_run = f"{approach}_{count}", min(args.per_run, count)
    airflow.moto.set_transition("glue::job_run", {"progression": "manual", "times": NEVER})
    runs = make_runs(airflow, dag_id, count)
    source = ROW_DAG.format(dag_id=dag_id, per_run=per_run, approach=approach, poll=args.poll)
    (dags / f"bench_{dag_id}.py").write_text(source)
    airflow.wait_for_dag(dag_id, timeout=1200)
    stop = dags / f"{dag_id}.stop"
    probe_run = airflow.trigger_dag("lag_probe", {"stop_file": str(stop)})
    airflow.wait_until(
        lambda: count_tis(airflow, "lag_probe", "t.triggerer_id is not null") == 1,
        timeout=600,
        what="the lag probe to start",
    )
    (triggerer,) = airflow.triggerer_pids
    log_mark = len(airflow.log_of(triggerer))
    rss_before, cpu_before = group_usage(triggerer)
    sampler = Sampler(triggerer)
    sampler.start()
    airflow.moto.reset_counts()
    began = time.monotonic()
    confs = [{"runs": runs[k : k + per_run]} for k in range(0, count, per_run)]
    start_runs(airflow, dag_id, confs)
    airflow.wait_until(
        lambda: count_tis(airflow, dag_id, "t.triggerer_id is not null") == count,
        timeout=args.limit,
        what=f"{count} waits held by the triggerer",
    )
    all_deferred = time.monotonic() - began
    steady_until = time.monotonic() + args.steady
    airflow.wait_until(
        lambda: time.monotonic() > steady_until, timeout=args.steady + 5, what="the steady window"
    )
    rss_steady = group_usage(triggerer)[0]
    airflow.moto.set_transition("glue::job_run", {"progression": "immediate"})
    airflow.wait_until(
        lambda: finished_runs(airflow, dag_id) == len(confs),
        timeout=args.limit,
        what=f"{len(confs)} runs of {count} waits to end",
    )
    wall = time.monotonic() - began
    calls = airflow.moto.counts()
    stop.write_text("stop")
    airflow.wait_for_run("lag_probe", probe_run, timeout=600)
    sampler.done.set()
    sampler.join()
    rss_after, cpu_after = group_usage(triggerer)
    states = airflow.sql(
        "select state, count(*), count(queued_dttm) from task_instance where dag_id = %s"
        " group by state",
        (dag_id,),
    )
    blocks = [float(s) for s in BLOCKED.findall(airflow.log_of(triggerer)[log_mark:])]
    probe = airflow.xcom("lag_probe", probe_run, "probe") or {}
    return {
        "approach": approach,
        "label": LABELS[approach],
        "waits": count,
        "dag_runs": len(confs),
        "task_states": {s: n for s, n, _ in states},
        "worker_slots": sum(q for _, _, q in states),
        "wall_s": round(wall, 1),
        "all_deferred_s": round(all_deferred, 1),
        "rss_before_mib": rss_before / 2**20,
        "rss_peak_growth_mib": (sampler.peak - rss_before) / 2**20,
        "rss_steady_growth_mib": (rss_steady - rss_before) / 2**20,
        "rss_after_mib": rss_after / 2**20,
        "cpu_s": round(cpu_after - cpu_before, 1),
        "api_calls": calls,
        "lag_probe": probe,
        "blocked_warnings": len(blocks),
        "blocked_max_s": max(blocks, default=0.0),
    }


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "# Waits inside a real Airflow deployment",
        "",
        f"{meta['when']}, {meta['machine']}; Airflow {meta['airflow']}; each row in a deployment of"
        f" its own (PostgreSQL, api-server, scheduler, dag-processor, one triggerer, moto); poll"
        f" every {meta['poll']} s, {meta['steady']} s held in STARTING once all were deferred."
        f" Command: `{meta['command']}`.",
        "",
        "| Approach | Waits | Ended | Worker slots | Wall (s) | All deferred (s) | RSS growth"
        " peak / steady (MiB) | Triggerer CPU (s) | API calls | Loop lag p99 / max (s) |"
        " Blocked warnings (max s) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['label']} | {row['waits']:,} | did not finish: {row['error']} |")
            continue
        calls = ", ".join(f"{k} {v}" for k, v in sorted(row["api_calls"].items()))
        probe = row["lag_probe"]
        lag = f"{probe['p99']:.3f} / {probe['max']:.3f}" if probe.get("p99") is not None else "n/a"
        lines.append(
            f"| {row['label']} | {row['waits']:,} | {row['task_states']} | {row['worker_slots']:,}"
            f" | {row['wall_s']} | {row['all_deferred_s']} | {row['rss_peak_growth_mib']:.0f} /"
            f" {row['rss_steady_growth_mib']:.0f} | {row['cpu_s']} | {calls} | {lag} |"
            f" {row['blocked_warnings']} ({row['blocked_max_s']:.2f}) |"
        )
    return "\n".join(lines) + "\n"


def run_row(approach: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    """One row in a deployment of its own: no row inherits another's imports or memory. Its
    logs stay (``logs`` in the row); PostgreSQL's data directory goes."""
    dags = Path(tempfile.mkdtemp(prefix="async-hooks-bench-dags-"))
    (dags / "lag_probe.py").write_text(LAG_PROBE)
    (dags / "probe_dag.py").write_text(PROBE_DAG.format())
    env = {
        "PYTHONPATH": str(dags),  # the triggerer imports lag_probe.LagProbeTrigger
        "AIRFLOW__TRIGGERER__CAPACITY": "20000",
        "AIRFLOW__TRIGGERER__MAX_TRIGGER_TO_SELECT_PER_LOOP": "1000",
        "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": "512",
        "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "100000",
        "AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE": "200",
    }
    base = Path(tempfile.mkdtemp(prefix=f"async-hooks-bench-{approach}-{count}-"))
    try:
        with AirflowDeployment(
            dags, base_dir=base, triggerers=1, env=env, startup_timeout=900
        ) as deployment:
            deployment.add_connection("moto", deployment.moto_connection())
            return {**measure(deployment, dags, approach, count, args), "logs": str(base / "logs")}
    except Exception as error:  # a row that cannot finish is reported, not hidden
        message = f"{type(error).__name__}: {str(error)[:500]}"
        return {"approach": approach, "label": LABELS[approach], "waits": count, "error": message}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--rows", nargs="+", default=["async_hooks:1000", "provider:200", "async_hooks:10000"]
    )
    parser.add_argument("--poll", type=float, default=5.0)
    parser.add_argument("--per-run", type=int, default=10, help="waits per DAG run")
    parser.add_argument("--steady", type=float, default=60.0)
    parser.add_argument("--limit", type=float, default=3600.0, help="seconds per wait, at most")
    parser.add_argument("--append", action="store_true", help="keep the rows of the last run")
    args = parser.parse_args()
    import airflow

    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "poll": args.poll,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "steady": args.steady,
        "airflow": airflow.__version__,
        "command": "python -m benchmarks.airflow_deployment --rows " + " ".join(args.rows),
    }
    rows: list[dict[str, Any]] = []
    latest = RESULTS / "latest-airflow-deployment.json"
    if args.append and latest.exists():  # rows of an earlier run, kept with their own command
        earlier = json.loads(latest.read_text())
        rows = [{**row, "command": earlier["meta"]["command"]} for row in earlier["rows"]]
        meta["command"] = f"{earlier['meta']['command']}; then {meta['command']} --append"
    for approach, count in [(a, int(n)) for a, n in (spec.split(":") for spec in args.rows)]:
        row = run_row(approach, count, args)
        rows.append(row)
        print(json.dumps(row), flush=True)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "latest-airflow-deployment.json").write_text(
            json.dumps({"meta": meta, "rows": rows}, indent=2)
        )
        (RESULTS / "latest-airflow-deployment.md").write_text(markdown(rows, meta))


if __name__ == "__main__":
    main()
