"""Waits inside a real Airflow deployment (``async_hooks.testing.deployment``: PostgreSQL,
api-server, scheduler, dag-processor, triggerers, moto), each row in a deployment of its own,
beside Airflow's own floors at the same N (issue 20's goals table).

``python -m benchmarks.airflow_deployment --rows ROW [ROW ...] [--poll 5] [--steady 60]
[--per-run 10] [--repeat 3]`` (``nox -s bench_airflow_deployment -- --rows ...``) writes
``benchmarks/results/latest-airflow-deployment.{json,md}`` (``--out NAME`` writes
``NAME.{json,md}`` instead). Each ``async_hooks``/``floor_quiet`` pair below 10,000 waits runs
``--repeat`` times, interleaved, and its goals are judged on the medians: one pair's ratios move
by 0.1-0.2x from run to run on two shared cores. moto, the cloud's stand-in, runs at the normal
priority (``--moto-niceness`` lowers it; see ``yield_to_deployment``) and answers Glue's
``GetJobRuns`` without its serializer (about 42 ms of CPU a page of 200 runs, on the cores the
deployment shares; ``--moto-serializer`` keeps moto's own; ``async_hooks.testing._moto_process``).
A ROW is

- ``APPROACH:N``: N waits ending together in ONE triggerer. APPROACH is ``async_hooks``
  (``WaitForJobSensor``, started in the triggerer), ``provider`` (the Amazon provider's
  ``GlueJobSensor(deferrable=True)``), ``provider_accelerated`` (the provider row's DAG,
  unchanged, in a deployment whose every component has ``accelerate()`` in its
  ``airflow_local_settings.py``), ``floor_datetime`` (Airflow's own
  ``DateTimeSensorAsync(start_from_trigger=True, end_from_trigger=True)``) or ``floor_quiet`` (a
  trigger that only sleeps until released, then ends with ``TaskSuccessEvent`` carrying a
  600-byte ``return_value``; no log lines of its own);
- ``failover:N``: two triggerers, N/2 waits each (``async_hooks``), ``kill -9`` of one while
  they wait; every wait must end in the survivor, started once, its deadline kept;
- ``longlived:NxW``: W waves of N ``async_hooks`` waits through one connection with an
  assumed role (moto's STS), one triggerer: RSS after each wave and each wave's phases (each
  wave held ``--wave-steady`` seconds).

e.g. ``--rows async_hooks:2000 floor_quiet:2000 floor_datetime:2000 async_hooks:5000
floor_quiet:5000 async_hooks:10000 floor_quiet:10000 failover:5000 longlived:1000x10``.

A row of N waits is N / ``--per-run`` runs of one DAG whose tasks read their Glue run from the
run's conf (Airflow 3.3 ships the whole serialized DAG with every trigger it starts in the
triggerer); the floors' runs carry a conf of the same shape and size, which their tasks ignore
(Airflow validates a run's conf as params for every trigger it starts). The Glue runs are held in STARTING (moto's manual progression) and the quiet
floor's triggers await one release file, until the trigger runner has *created and started*
every trigger (counted inside the triggerer: ``async_hooks.testing._triggerer_counters`` as its
``sitecustomize``; the database assigns them minutes earlier at 5,000), the supervisor has
served no trigger round trip for ``--quiet`` seconds, and ``--steady`` seconds passed; then all
are released at once. ``DateTimeSensorAsync`` can only fire at a time: it is set past the
expected start phase plus the steady window (``--fire-after`` overrides), and its end phase is
timed from that moment (the row says if any trigger started later).

Timed separately: the start phase (runs posted -> every trigger started and its start-time round
trips served) and the end phase (released -> the last DAG run's ``end_date``; for the Glue
waits also from moto's first describe after the release, when their poll first asked: a poller
learns of the end up to one poll interval later, wherever the ticks happen to fall, and the
end-phase goal compares the phase from there). Per phase: the
longest loop stall from the lag probe's own timeline (a trigger in the same triggerer waking
every 50 ms, recording (time, lag) past 0.2 s), supervisor round trips per wait by request type,
``handle_events`` batches, seconds and ms per event, heartbeats skipped, CPU of the runner and
the supervisor. Per row: blocked-loop warnings, "Got response for unknown request frame" and
"appears deadlocked" lines, INFO lines per wait in the trigger logs, the stored ``return_value``
XCom's size, RSS, worker slots used.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import platform
import re
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from async_hooks.testing import _triggerer_counters as tc
from async_hooks.testing.deployment import AirflowDeployment
from benchmarks._deployment_report import FLOOR, OWN_TABLE, markdown, stalls_in
from benchmarks.deployment_dags import (
    DATETIME_DAG,
    LAG_PROBE,
    PROBE_DAG,
    QUIET_DAG,
    QUIET_MODULE,
    ROW_DAG,
)

RESULTS = Path(__file__).parent / "results"
NEVER = 10**9
PER_JOB = 500
PAD = 600
DEFAULT_ROWS = [
    "async_hooks:2000",
    "floor_quiet:2000",
    "floor_datetime:2000",
    "async_hooks:5000",
    "floor_quiet:5000",
    "async_hooks:10000",
    "floor_quiet:10000",
    "failover:5000",
    "longlived:1000x10",
]
LABELS = {
    "async_hooks": "async_hooks WaitForJobSensor (starts in the triggerer)",
    "provider": "Amazon provider GlueJobSensor(deferrable=True)",
    "provider_accelerated": "the same provider DAG, accelerate() in airflow_local_settings.py",
    "floor_datetime": "floor: Airflow DateTimeSensorAsync(start_from_trigger=True)",
    "floor_quiet": f"floor: quiet trigger, TaskSuccessEvent with a {PAD}-byte XCom",
    "failover": "async_hooks, 2 triggerers, kill -9 of one mid-wait",
    "longlived": "async_hooks, waves through one assumed-role connection",
    "longlived_floor": "floor: the quiet trigger in waves (what the triggerer keeps by itself)",
}
#: The trigger class each approach's waits run as (counted by the runner).
TRIGGER_CLASS = {
    "async_hooks": "WaitForJobTrigger",
    "provider": "GlueJobCompleteTrigger",
    "provider_accelerated": "GlueJobCompleteTrigger",
    "floor_datetime": "DateTimeTrigger",
    "floor_quiet": "QuietMomentTrigger",
}
PROBE_CLASS = "LagProbeTrigger"
#: The file the probe writes once its connection look-up (in every row, before any wait) is done.
PROBE_READY = ".ready"
BLOCKED = tc.BLOCKED
ROLE_ARN = "arn:aws:iam::123456789012:role/async-hooks-bench"
ENV = {
    "AIRFLOW__TRIGGERER__CAPACITY": "20000",
    "AIRFLOW__TRIGGERER__MAX_TRIGGER_TO_SELECT_PER_LOOP": "1000",
    "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": "512",
    "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "100000",
    "AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE": "200",
}


# -- small helpers (drive.py in ../shared/profiling imports some of these)


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


def process_rss(pid: int) -> int:
    """RSS bytes of one process (0 once it is gone): the runner's share of the group's."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) * 1024 if found else 0


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


def same_confs(dag_id: str, count: int, per_run: int) -> list[dict[str, Any]]:
    """A floor's run confs, shaped and sized as the waits' (``[job_name, run_id]`` per task,
    ``jr_`` and 64 hex digits as moto's): the floor's tasks ignore them, but Airflow merges a
    run's conf into the params of every task it starts in the triggerer and validates them
    (``process_params``, 0.35 against 0.03 ms a trigger on an idle core), so both rows start
    triggers of runs that carry the same conf and the ratio compares the triggers alone."""
    runs = [
        [f"{dag_id}-{k // PER_JOB}", "jr_" + hashlib.sha256(f"{dag_id}/{k}".encode()).hexdigest()]
        for k in range(count)
    ]
    return [{"runs": runs[k : k + per_run]} for k in range(0, count, per_run)]


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


def start_runs(airflow: AirflowDeployment, dag_id: str, confs: list[dict[str, Any]]) -> list[str]:
    """One run per conf; their run ids."""
    ids = []
    for conf in confs:
        run = airflow.api.call(
            "POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf}
        )
        ids.append(run["dag_run_id"])
    return ids


def iso(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.timezone.utc).isoformat()


# -- one deployment's context


@dataclass
class Context:
    deployment: AirflowDeployment
    dags: Path
    counters: Path
    args: argparse.Namespace
    marks: dict[int, int] = field(default_factory=dict)  # triggerer pid -> its log's length

    def runner_pid(self, sup: int) -> int:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            kids = tc.children(sup)
            if kids:
                return kids[0]
            time.sleep(0.2)
        raise RuntimeError(f"triggerer {sup} has no trigger runner")

    def runner(self, sup: int) -> tc.Counters:
        return tc.runner(self.counters, sup)

    def supervisor(self, sup: int) -> tc.Counters:
        return tc.supervisor(self.counters, sup)

    def wait_started(self, sup: int, cls: str, count: int, what: str) -> tc.Counters:
        """Until triggerer ``sup``'s runner has started ``count`` triggers of class ``cls``."""
        found: list[tc.Counters] = []

        def enough() -> bool:
            found[:] = [self.runner(sup)]
            return found[0].started(cls) >= count

        self.deployment.wait_until(enough, timeout=self.args.limit, what=what)
        return found[0]

    def start_probe(self, sup: int, name: str) -> tuple[str, Path]:
        stop = self.dags / f"{name}.stop"
        before = self.runner(sup).started(PROBE_CLASS)
        run = self.deployment.trigger_dag("lag_probe", {"stop_file": str(stop)})
        self.wait_started(sup, PROBE_CLASS, before + 1, "the lag probe to start")
        ready = stop.with_name(stop.name + PROBE_READY)
        self.deployment.wait_until(ready.exists, timeout=300, what="the lag probe's look-up")
        return run, stop

    def stop_probe(self, run: str, stop: Path) -> dict[str, Any]:
        stop.write_text("stop")
        self.deployment.wait_for_run("lag_probe", run, timeout=600)
        probe = self.deployment.xcom("lag_probe", run, "probe") or {}
        return probe if isinstance(probe, dict) else {}


@dataclass
class Snap:
    """Counters and CPU of one triggerer at a moment."""

    time: float
    sup: tc.Counters
    run: tc.Counters
    cpu_sup: float
    cpu_run: float
    log_len: int
    cpu_moto: float = 0.0  # the cloud's side: moto's CPU shares the deployment's cores
    #: The rest of the deployment on the same cores, by session (each process and what it forked).
    cpu_others: dict[str, float] = field(default_factory=dict)


#: The deployment's processes whose CPU each phase reports beside the triggerer's.
OTHERS = ("scheduler", "dag-processor", "api-server")


def snap(ctx: Context, sup: int, runner: int) -> Snap:
    time.sleep(tc.DUMP_EVERY * 2.2)  # the counters written after this moment's work
    return Snap(
        time.time(),
        ctx.supervisor(sup),
        ctx.runner(sup),
        tc.pid_cpu(sup),
        tc.pid_cpu(runner),
        len(ctx.deployment.log_of(sup)),
        moto_cpu(ctx),
        others_cpu(ctx),
    )


def others_cpu(ctx: Context) -> dict[str, float]:
    """CPU seconds so far of the scheduler, dag-processor, api-server and PostgreSQL, each with
    what it forked (PostgreSQL's backends): where a phase's time went besides the triggerer."""
    sessions = {name: ctx.deployment.processes[name].pid for name in OTHERS}
    postgres = ctx.deployment.postgres
    if postgres is not None and postgres.process is not None:
        sessions["postgres"] = postgres.process.pid
    return session_cpu(sessions)


def session_cpu(leaders: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each leader's live processes: those of its session (each deployment
    process starts one) and its descendants (PostgreSQL's backends each start a session of
    their own). What ended is not counted."""
    table: dict[int, tuple[int, int, float]] = {}  # pid: (parent, session, CPU seconds)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended since the listing
            continue
        fields = text[text.rindex(")") + 2 :].split()  # state, ppid, pgrp, session, ...
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        table[int(stat.parent.name)] = (int(fields[1]), int(fields[3]), cpu)
    named = {pid: name for name, pid in leaders.items()}

    def owner(pid: int) -> str | None:
        seen = 0
        while pid in table and seen < 64:  # up the parents, to a leader or its session's
            parent, session, _ = table[pid]
            found = named.get(pid) or named.get(session)
            if found is not None:
                return found
            pid, seen = parent, seen + 1
        return None

    found = dict.fromkeys(leaders, 0.0)
    for pid, (_, _, cpu) in table.items():
        name = owner(pid)
        if name is not None:
            found[name] += cpu
    return found


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def moto_cpu(ctx: Context) -> float:
    """moto's CPU seconds so far (0.0 once it is gone)."""
    moto = ctx.deployment.processes.get("moto")
    return tc.pid_cpu(moto.pid) if moto is not None else 0.0


def mark_deadlocks(part: dict[str, Any], whole: dict[str, Any]) -> None:
    """The phase's "appears deadlocked" lines (the supervisor logs each as it skips a heartbeat)."""
    since, until = part["began"], part["ended"] + 1.0
    part["deadlocked"] = sum(1 for at in whole.get("deadlocked_at", ()) if since <= at <= until)


def phase(before: Snap, after: Snap, count: int, since: float, until: float) -> dict[str, Any]:
    """What the triggerer did between two snapshots; ``since``/``until`` the phase's times."""
    requests = tc.diff(after.sup.requests(), before.sup.requests())
    batches = after.sup.batches(since=before.time - 1.0, until=after.time)
    events = sum(n for _, n, _ in batches)
    seconds = sum(s for _, _, s in batches)
    return {
        "began": since,
        "ended": until,
        "seconds": round(until - since, 1),
        "requests": requests,
        "requests_per_wait": {k: round(v / count, 3) for k, v in requests.items()},
        "events": events,
        "handle_events": {
            "batches": len(batches),
            "seconds": round(seconds, 2),
            "ms_per_event": round(1000 * seconds / events, 2) if events else None,
            "largest": max((n for _, n, _ in batches), default=0),
            # each call: [ended, from the phase's start (s); events; seconds]
            "timeline": [[round(w - since, 2), n, round(s, 2)] for w, n, s in batches],
            # the runner's state syncs that carried events: [answered, from the phase's
            # start (s); events; seconds the sync took]
            "takes": [
                [round(w - since, 2), n, round(s, 2)]
                for w, n, s in after.run.batches(
                    since=before.time - 1.0, until=after.time, what="comms." + tc.STATE_SYNC
                )
            ],
            # the supervisor's trigger loads slower than tc.SLOW_LOAD: [ended, from the
            # phase's start (s); seconds]
            "slow_loads": [
                [round(w - since, 2), round(s, 2)]
                for w, _, s in after.sup.batches(
                    since=before.time - 1.0, until=after.time, what="load_triggers"
                )
            ],
        },
        "heartbeats_skipped": after.sup.calls("heartbeat_skipped")
        - before.sup.calls("heartbeat_skipped"),
        "cpu_runner_s": round(after.cpu_run - before.cpu_run, 1),
        "cpu_supervisor_s": round(after.cpu_sup - before.cpu_sup, 1),
        "cpu_moto_s": round(after.cpu_moto - before.cpu_moto, 1),
        "cpu_others_s": {
            name: round(after.cpu_others.get(name, 0.0) - before.cpu_others.get(name, 0.0), 1)
            for name in after.cpu_others
        },
    }


def longest_stall(probe: dict[str, Any], since: float, until: float) -> float:
    """The longest stall of the probe's timeline overlapping [since, until]."""
    return round(max(stalls_in(probe.get("stalls"), since, until), default=0.0), 2)


def mark_pauses(part: dict[str, Any], probe: dict[str, Any]) -> None:
    """The phase's longest stall, and its longest garbage collection in the runner (what a
    stall was: a full collection holds the loop for as long as it scans every object)."""
    since, until = part["began"], part["ended"]
    part["longest_stall_s"] = longest_stall(probe, since, until)
    pauses = [g for g in probe.get("gc_pauses") or () if since <= g[0] <= until + 0.05]
    longest = max(pauses, key=lambda g: g[2], default=None)
    part["longest_gc_s"] = round(longest[2], 2) if longest else 0.0
    part["gc_tracked"] = longest[3] if longest and len(longest) > 3 else None
    # what it freed: a collection that frees much garbage (cycles of ended triggers) is slower
    part["gc_collected"] = longest[4] if longest and len(longest) > 4 else None


def runs_done(ctx: Context, dag_id: str, run_ids: list[str]) -> tuple[int, float | None]:
    rows = ctx.deployment.sql(
        "select count(*), extract(epoch from max(end_date)) from dag_run where dag_id = %s"
        " and run_id = any(%s) and state in ('success', 'failed')",
        (dag_id, run_ids),
    )
    done, last = rows[0]
    return int(done), float(last) if last is not None else None


# -- a wave: N waits in one triggerer, from posting to the last run's end


@dataclass
class Wave:
    approach: str
    dag_id: str
    count: int
    confs: list[dict[str, Any]]
    release: Any  # () -> None
    at: float | None = None  # floor_datetime: its fire time
    results: dict[str, Any] = field(default_factory=dict)


def prepare(ctx: Context, approach: str, dag_id: str, count: int, conn_id: str = "moto") -> Wave:
    """The DAG (written once per ``dag_id``) and the confs of one wave of ``count`` waits."""
    args, airflow = ctx.args, ctx.deployment
    per_run = min(args.per_run, count)
    dag_file = ctx.dags / f"bench_{dag_id}.py"
    if approach in GLUE:
        airflow.moto.set_transition("glue::job_run", {"progression": "manual", "times": NEVER})
        runs = make_runs(airflow, f"{dag_id}-{time.time_ns() % 10**6}", count)
        confs = [{"runs": runs[k : k + per_run]} for k in range(0, count, per_run)]
        # provider_accelerated: the provider row's DAG, unchanged (accelerate() is in the
        # deployment's airflow_local_settings.py, run_row)
        same = "provider" if approach == "provider_accelerated" else approach
        source = ROW_DAG.format(dag_id=dag_id, per_run=per_run, approach=same, poll=args.poll)
        if conn_id != "moto":
            source = source.replace('"conn_id": "moto"', f'"conn_id": "{conn_id}"')

        def release() -> None:
            airflow.moto.set_transition("glue::job_run", {"progression": "immediate"})

    elif approach == "floor_quiet":
        flag = ctx.dags / f"{dag_id}.release"
        (ctx.dags / "quiet_floor.py").write_text(QUIET_MODULE)
        source = QUIET_DAG.format(dag_id=dag_id, per_run=per_run, release=flag, pad=PAD)
        confs = same_confs(dag_id, count, per_run)

        def release() -> None:
            flag.write_text("go")

    elif approach == "floor_datetime":
        source = DATETIME_DAG.format(dag_id=dag_id, per_run=per_run)
        confs = same_confs(dag_id, count, per_run)

        def release() -> None:
            pass

    else:
        raise ValueError(f"unknown approach {approach!r}; known: {', '.join(TRIGGER_CLASS)}")
    if not dag_file.exists():
        dag_file.write_text(source)
        airflow.wait_for_dag(dag_id, timeout=1200)
    return Wave(approach, dag_id, count, confs, release)


def run_wave(ctx: Context, wave: Wave, sup: int, steady: float | None = None) -> dict[str, Any]:
    """Post the wave, wait until every trigger started and the start round trips are served,
    hold ``steady`` s (``--steady``), release, wait for every run's end. Phases and counters."""
    args = ctx.args
    steady = args.steady if steady is None else steady
    runner = ctx.runner_pid(sup)
    cls = TRIGGER_CLASS[wave.approach]
    s0 = snap(ctx, sup, runner)
    started_before = s0.run.started(cls)
    posted = time.time()
    if wave.approach == "floor_datetime":
        ahead = args.fire_after or (30 + 0.04 * wave.count + steady)
        wave.at = posted + ahead
        wave.confs = [{**conf, "at": iso(wave.at)} for conf in wave.confs]
    run_ids = start_runs(ctx.deployment, wave.dag_id, wave.confs)
    counters = ctx.wait_started(
        sup, cls, started_before + wave.count, f"the runner to start {wave.count} {cls}s"
    )
    all_started = counters.last("started." + cls)
    # Every wait polls once before the steady window counts (not part of the start phase: a
    # tick of the shared schedule may be up to one poll interval away).
    polled = wait_polled(ctx, wave, describes(ctx)) if wave.approach in GLUE else 0.0
    quiet = tc.wait_quiet(
        ctx.counters, sup, since=max(all_started, polled), quiet=args.quiet, timeout=args.limit
    )
    last_request = quiet.last_request()
    start_end = max(all_started, last_request if last_request > posted else 0.0)
    s1 = snap(ctx, sup, runner)
    if wave.at is not None:
        hold = wave.at - time.time()
    else:
        hold = max(start_end, polled) + steady - time.time()
    if hold > 0:
        time.sleep(hold)
    rss_steady = group_usage(sup)[0]
    polls = wave.approach in GLUE
    if wave.at is None:
        s2 = snap(ctx, sup, runner)
        if polls:  # before the release: a poll in between counts against the waits
            ctx.deployment.moto.mark()
        released = time.time()
    else:  # the fire time: now (the counters as they were written last)
        released = wave.at
        s2 = snap_at(ctx, sup, runner, released)
    wave.release()
    ctx.deployment.wait_until(
        lambda: runs_done(ctx, wave.dag_id, run_ids)[0] == len(run_ids),
        timeout=args.limit,
        what=f"{len(run_ids)} runs of {wave.count} waits to end",
    )
    _, last_end = runs_done(ctx, wave.dag_id, run_ids)
    done = last_end or time.time()
    seen = first_poll(ctx) if polls else None
    s3 = snap(ctx, sup, runner)
    rss_after = group_usage(sup)[0]
    log = ctx.deployment.log_of(sup)
    return {
        "posted": posted,
        "start": phase(s0, s1, wave.count, posted, start_end),
        "end": phase(s2, s3, wave.count, released, done),
        # A poller learns of the end at its next poll: up to one interval after the release,
        # where the phase of the poll ticks happens to fall (the floors see theirs within 0.1 s).
        "seen_s": None if seen is None else round(max(0.0, seen - released), 2),
        "all_started_s": round(all_started - posted, 1),
        "last_start_request_s": round(last_request - posted, 1) if last_request > posted else None,
        "all_polled_s": round(polled - posted, 1) if polled else None,
        "steady_s": round(released - max(start_end, polled), 1),
        "fired_before_all_started": wave.at is not None and wave.at < all_started,
        "rss_steady_mib": round(rss_steady / 2**20, 1),
        "rss_after_mib": round(rss_after / 2**20, 1),
        "rss_runner_after_mib": round(process_rss(runner) / 2**20, 1),
        "log_start": tc.scan_supervisor_log(log[s0.log_len : s1.log_len]),
        "log_end": tc.scan_supervisor_log(log[s2.log_len : s3.log_len]),
        "run_ids": run_ids,
    }


GLUE = ("async_hooks", "provider", "provider_accelerated")


def first_poll(ctx: Context) -> float | None:
    """When moto was first asked for a Glue run's state since its mark (wall time)."""
    first = ctx.deployment.moto.first_since_mark()
    times = [first[op] for op in ("GetJobRuns", "GetJobRun") if op in first]
    return min(times) if times else None


def describes(ctx: Context) -> int:
    """Glue describes moto has answered so far (``GetJobRuns`` lists, ``GetJobRun`` singles)."""
    counts = ctx.deployment.moto.counts()
    return int(counts.get("GetJobRuns", 0)) + int(counts.get("GetJobRun", 0))


def wait_polled(ctx: Context, wave: Wave, before: int) -> float:
    """Until every wait of ``wave`` has polled once since all started: moto answered a
    describe per job name (the coalesced waits list a job's runs in one call) or, for the
    provider's triggers, one per wait. The wall time it was seen."""
    jobs = {run[0] for conf in wave.confs for run in conf.get("runs", ())}
    need = before + (wave.count if wave.approach == "provider" else len(jobs))  # accelerated: batch
    ctx.deployment.wait_until(
        lambda: describes(ctx) >= need, timeout=ctx.args.limit, what="every wait to poll"
    )
    return time.time()


def snap_at(ctx: Context, sup: int, runner: int, when: float) -> Snap:
    """A snapshot as near ``when`` (just passed) as the counters allow."""
    return Snap(
        when,
        ctx.supervisor(sup),
        ctx.runner(sup),
        tc.pid_cpu(sup),
        tc.pid_cpu(runner),
        len(ctx.deployment.log_of(sup)),
        moto_cpu(ctx),
        others_cpu(ctx),
    )


def task_facts(ctx: Context, dag_id: str) -> dict[str, Any]:
    """Task states, worker slots, try numbers and the stored return_value's size."""
    states = ctx.deployment.sql(
        "select state, count(*), count(queued_dttm), max(try_number) from task_instance"
        " where dag_id = %s group by state",
        (dag_id,),
    )
    sizes = ctx.deployment.sql(
        "select count(*), avg(octet_length(value::text)), max(octet_length(value::text)) from xcom"
        " where dag_id = %s and key = 'return_value'",
        (dag_id,),
    )
    keys = ctx.deployment.sql(
        "select key, count(*) from xcom where dag_id = %s group by key", (dag_id,)
    )
    count, mean, largest = sizes[0]
    return {
        "task_states": {s: n for s, n, _, _ in states},
        "worker_slots": sum(q for _, _, q, _ in states),
        "max_try_number": max((t or 0 for _, _, _, t in states), default=0),
        "event_xcoms": int(count),
        "event_bytes_mean": round(float(mean), 1) if mean is not None else 0,
        "event_bytes_max": int(largest or 0),
        "xcom_keys": dict(keys),
    }


def trigger_log_facts(ctx: Context, dag_id: str, waits: int) -> dict[str, Any]:
    root = Path(ctx.deployment.env["AIRFLOW_HOME"]) / "logs"
    scan = tc.scan_trigger_logs_settled(lambda: tc.trigger_log_files(root, dag_id))
    info, own = scan["levels"].get("info", 0), scan["own"].get("info", 0)
    return {
        **scan,
        "info_per_wait": round(info / waits, 2) if waits else None,
        "own_info_per_wait": round(own / waits, 2) if waits else None,
    }


# -- rows


def measure(ctx: Context, approach: str, count: int) -> dict[str, Any]:
    """``approach:N``: one wave of N waits in the one triggerer."""
    airflow = ctx.deployment
    (sup,) = airflow.triggerer_pids
    dag_id = f"{approach}_{count}"
    wave = prepare(ctx, approach, dag_id, count)
    probe_run, stop = ctx.start_probe(sup, dag_id)
    rss_before, cpu_before = group_usage(sup)
    sampler = Sampler(sup)
    sampler.start()
    airflow.moto.reset_counts()
    result = run_wave(ctx, wave, sup)
    calls = airflow.moto.counts()
    cpu_wave = group_usage(sup)[1] - cpu_before  # the whole wave, steady window too
    probe = ctx.stop_probe(probe_run, stop)
    sampler.done.set()
    sampler.join()
    log = airflow.log_of(sup)
    whole = tc.scan_supervisor_log(log)
    for name in ("start", "end"):
        mark_pauses(result[name], probe)
        mark_deadlocks(result[name], whole)
    trigger_logs = trigger_log_facts(ctx, dag_id, count)
    return {
        "approach": approach,
        "label": LABELS[approach],
        "waits": count,
        "dag_runs": len(wave.confs),
        **{k: v for k, v in result.items() if k != "run_ids"},
        **task_facts(ctx, dag_id),
        "trigger_logs": trigger_logs,
        "rss_before_mib": round(rss_before / 2**20, 1),
        "rss_peak_growth_mib": round((sampler.peak - rss_before) / 2**20, 1),
        "cpu_triggerer_wave_s": round(cpu_wave, 1),
        "api_calls": calls,
        "lag_probe": {k: v for k, v in probe.items() if k != "stalls"},
        "stalls": probe.get("stalls", []),
        "blocked_warnings": len(whole["blocked"]),
        "blocked_max_s": max(whole["blocked"], default=0.0),
        "unknown_frames": whole["unknown_frames"] + trigger_logs["unknown_frames"],
        "deadlocked": whole["deadlocked"],
    }


def measure_failover(ctx: Context, count: int) -> dict[str, Any]:
    """``failover:N``: triggerer A (capacity N/2) takes the first half, B the second; ``kill -9``
    of A while all wait; B must end all N, each started once, its deadline kept."""
    airflow, args = ctx.deployment, ctx.args
    half = count // 2
    a = airflow.start_triggerer(env={"AIRFLOW__TRIGGERER__CAPACITY": str(half)})
    dag_id = f"failover_{count}"
    cls = TRIGGER_CLASS["async_hooks"]
    first = prepare(ctx, "async_hooks", dag_id, half)
    posted = time.time()
    ids_a = start_runs(airflow, dag_id, first.confs)
    ctx.wait_started(a, cls, half, f"triggerer A to start {half} waits")
    b = airflow.start_triggerer()
    probe_run, stop = ctx.start_probe(b, dag_id)
    second = prepare(ctx, "async_hooks", dag_id, count - half)
    # prepare() set moto to manual again: the first half's runs are still held.
    ids_b = start_runs(airflow, dag_id, second.confs)
    ctx.wait_started(b, cls, count - half, f"triggerer B to start {count - half} waits")
    tc.wait_quiet(ctx.counters, b, since=time.time(), quiet=args.quiet, timeout=args.limit)
    tc.wait_quiet(ctx.counters, a, since=time.time(), quiet=args.quiet, timeout=args.limit)
    all_started = time.time()
    held = {pid: len(v) for pid, v in airflow.triggers_by_triggerer().items()}
    time.sleep(args.steady)
    deadlines = dict(
        airflow.sql(
            "select id::text, trigger_timeout from task_instance where dag_id = %s", (dag_id,)
        )
    )
    runner_b = ctx.runner_pid(b)
    s0 = snap(ctx, b, runner_b)
    started_b = s0.run.started(cls)
    killed_at = time.time()
    airflow.kill_triggerer(a, signal.SIGKILL)
    ctx.wait_started(b, cls, started_b + half, f"triggerer B to take over {half} waits")
    took_over = ctx.runner(b).last("started." + cls)
    quiet = tc.wait_quiet(ctx.counters, b, since=took_over, quiet=args.quiet, timeout=args.limit)
    moved_end = max(took_over, quiet.last_request() if quiet.last_request() > killed_at else 0)
    s1 = snap(ctx, b, runner_b)
    after = dict(
        airflow.sql(
            "select id::text, trigger_timeout from task_instance where dag_id = %s", (dag_id,)
        )
    )
    changed = sum(1 for k, v in deadlines.items() if after.get(k) != v)
    s2 = snap(ctx, b, runner_b)
    released = time.time()
    first.release()
    run_ids = ids_a + ids_b
    airflow.wait_until(
        lambda: runs_done(ctx, dag_id, run_ids)[0] == len(run_ids),
        timeout=args.limit,
        what=f"{count} failover waits to end",
    )
    _, last_end = runs_done(ctx, dag_id, run_ids)
    s3 = snap(ctx, b, runner_b)
    probe = ctx.stop_probe(probe_run, stop)
    moved = phase(s0, s1, half, killed_at, moved_end)
    end = phase(s2, s3, count, released, last_end or time.time())
    mark_pauses(end, probe)
    mark_pauses(moved, probe)
    log = airflow.log_of(b)
    whole = tc.scan_supervisor_log(log)
    mark_deadlocks(end, whole)
    mark_deadlocks(moved, whole)
    twice = log.count("had insertion attempted twice")
    return {
        "approach": "failover",
        "label": LABELS["failover"],
        "waits": count,
        "held_before_kill": {str(k): v for k, v in held.items()},
        "start_s": round(all_started - posted, 1),
        "failover": moved,
        "end": end,
        "moved": half,
        "started_in_survivor": s3.run.started(cls),
        "round_trips_per_moved": round(sum(moved["requests"].values()) / half, 3),
        "deadlines_changed": changed,
        "deadlines_checked": len(deadlines),
        "inserted_twice": twice,
        **task_facts(ctx, dag_id),
        "trigger_logs": trigger_log_facts(ctx, dag_id, count),
        "lag_probe": {k: v for k, v in probe.items() if k != "stalls"},
        "blocked_warnings": len(whole["blocked"]),
        "blocked_max_s": max(whole["blocked"], default=0.0),
        "unknown_frames": whole["unknown_frames"],
        "deadlocked": whole["deadlocked"],
    }


def measure_longlived(ctx: Context, count: int, waves: int, floor: bool = False) -> dict[str, Any]:
    """``longlived:NxW``: W waves of N waits, one assumed-role connection, one triggerer;
    ``longlived_floor:NxW`` (``floor``): the quiet floor's trigger in the same waves, for what
    Airflow's triggerer keeps from wave to wave whatever its triggers."""
    approach, kind = ("floor_quiet", "longlived_floor") if floor else ("async_hooks", "longlived")
    airflow = ctx.deployment
    (sup,) = airflow.triggerer_pids
    airflow.add_connection(
        "moto_role",
        {
            **airflow.moto_connection(),
            "extra": {**airflow.moto_connection()["extra"], "role_arn": ROLE_ARN},
        },
    )
    dag_id = f"{kind}_{count}"
    probe_run, stop = ctx.start_probe(sup, dag_id)
    rss_before = group_usage(sup)[0]
    airflow.moto.reset_counts()
    per_wave = []
    for index in range(waves):
        (ctx.dags / f"{dag_id}.release").unlink(missing_ok=True)  # the floor's: per wave
        wave = prepare(ctx, approach, dag_id, count, conn_id="moto_role")
        result = run_wave(ctx, wave, sup, steady=ctx.args.wave_steady)
        per_wave.append(
            {
                "wave": index + 1,
                "start_s": result["start"]["seconds"],
                "end_s": result["end"]["seconds"],
                "requests_per_wait": result["start"]["requests_per_wait"],
                "rss_after_mib": result["rss_after_mib"],
                "rss_runner_after_mib": result["rss_runner_after_mib"],
                "start": result["start"],
                "end": result["end"],
            }
        )
        print(json.dumps({"longlived_wave": per_wave[-1]}, default=str), flush=True)
    calls = airflow.moto.counts()
    probe = ctx.stop_probe(probe_run, stop)
    for item in per_wave:
        for name in ("start", "end"):
            mark_pauses(item[name], probe)
    first, last = per_wave[0]["rss_after_mib"], per_wave[-1]["rss_after_mib"]
    whole = tc.scan_supervisor_log(airflow.log_of(sup))
    for item in per_wave:
        for name in ("start", "end"):
            mark_deadlocks(item[name], whole)
    return {
        "approach": kind,
        "label": LABELS[kind],
        "waits": count,
        "waves": waves,
        "per_wave": per_wave,
        "rss_before_mib": round(rss_before / 2**20, 1),
        "rss_growth_pct": round(100 * (last - first) / first, 1) if first else None,
        "api_calls": calls,
        **task_facts(ctx, dag_id),
        "trigger_logs": trigger_log_facts(ctx, dag_id, count * waves),
        "lag_probe": {k: v for k, v in probe.items() if k != "stalls"},
        "blocked_warnings": len(whole["blocked"]),
        "blocked_max_s": max(whole["blocked"], default=0.0),
        "unknown_frames": whole["unknown_frames"],
        "deadlocked": whole["deadlocked"],
    }


def parse_row(spec: str) -> tuple[str, int, int]:
    """``APPROACH:N``, ``failover:N`` or ``longlived:NxW`` -> (kind, N, W)."""
    kind, _, size = spec.partition(":")
    waves = 1
    if "x" in size:
        size, _, more = size.partition("x")
        waves = int(more)
    if kind not in LABELS or not size.isdigit():
        raise argparse.ArgumentTypeError(f"row {spec!r}: APPROACH:N, failover:N or longlived:NxW")
    return kind, int(size), waves


ACCELERATE = """from async_hooks.airflow import accelerate

accelerate()  # the Amazon provider's deferrable triggers run on async_hooks
"""


def yield_to_deployment(pid: int, niceness: int) -> int | None:
    """Lower moto's priority by ``niceness`` (``--moto-niceness``; 0 leaves it alone), its
    session's and its threads'; returns its session's niceness as the kernel then reports it
    (None: no autogroup).

    moto stands in for the cloud, which shares no core with the triggerer and answers promptly
    however busy the triggerer is; on one machine it can have only one of the two. At the
    normal priority it takes CPU the deployment needs: 5.4-16.9 s in a 5,000-wait start phase,
    in the Glue rows only (the floors ask it nothing). At nice 19 it answers the end phase's
    polls late whenever the deployment keeps both cores busy: three 5,000-wait end phases took
    117.8-138.1 s against the floor's 87.1 s (2026-12-07, ``niced.md``), and the start phases
    were no faster. The rows run it at the normal priority unless told otherwise.

    moto runs in a session of its own, and Linux's autogroup scheduler (where
    ``/proc/sys/kernel/sched_autogroup_enabled`` is 1) first shares the cores between sessions
    alike, whatever a thread's niceness: a thread's niceness only ranks it within its session.
    So the session's niceness (``/proc/<pid>/autogroup``) is the one that counts. Before
    2026-12-07 only moto's threads were set to nice 19, which left it at the normal priority."""
    if niceness:
        autogroup = Path(f"/proc/{pid}/autogroup")
        if autogroup.exists():
            try:
                autogroup.write_text(str(niceness))
            except OSError:  # a kernel without autogroup, or a locked-down host
                pass
        tasks = Path(f"/proc/{pid}/task")
        threads = [int(tid.name) for tid in tasks.iterdir()] if tasks.is_dir() else [pid]
        for tid in threads:
            try:
                os.setpriority(os.PRIO_PROCESS, tid, niceness)
            except (ProcessLookupError, PermissionError):  # a thread that ended; a locked host
                pass
    return session_niceness(pid)


def moto_niceness(meta: dict[str, Any]) -> list[int]:
    """The niceness moto had in a run (in each run, for a merge): only a run that set its
    session's had any."""
    found = meta.get("moto_niceness")
    if isinstance(found, list):  # a merge's
        return [int(level) for level in found]
    return [int(found or 0) if meta.get("moto_session_niced") else 0]


def session_niceness(pid: int) -> int | None:
    """The niceness of ``pid``'s autogroup (``/autogroup-42 nice 19``), None without one."""
    try:
        text = Path(f"/proc/{pid}/autogroup").read_text()
    except OSError:
        return None
    found = re.search(r"\bnice\s+(-?\d+)", text)
    return int(found.group(1)) if found else None


def unwind_on_sigterm() -> None:
    """Make SIGTERM (a run stopped by hand, a CI job's time-out) unwind like an exception, so
    that the running row's deployment is stopped: each of its processes runs in a session of
    its own, so nothing else would stop them, and Python's default SIGTERM runs no clean-up (it
    left a row's api-server and PostgreSQL running). A second SIGTERM during the clean-up is
    ignored."""

    def unwind(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, unwind)


def local_settings() -> Path:
    """A directory holding an ``airflow_local_settings.py`` of the documented one line."""
    folder = Path(tempfile.mkdtemp(prefix="async-hooks-bench-settings-"))
    (folder / "airflow_local_settings.py").write_text(ACCELERATE)
    return folder


def run_row(spec: str, args: argparse.Namespace) -> dict[str, Any]:
    """One row in a deployment of its own: no row inherits another's imports or memory. Its
    logs stay (``logs`` in the row); PostgreSQL's data directory goes."""
    kind, count, waves = parse_row(spec)
    dags = Path(tempfile.mkdtemp(prefix="async-hooks-bench-dags-"))
    probe = LAG_PROBE.replace("GARBAGE = False", "GARBAGE = True") if args.garbage else LAG_PROBE
    (dags / "lag_probe.py").write_text(probe)
    (dags / "probe_dag.py").write_text(PROBE_DAG.format())
    # The triggerer imports lag_probe and quiet_floor; the caller's PYTHONPATH stays behind them.
    path = [str(dags), *filter(None, [os.environ.get("PYTHONPATH")])]
    if kind == "provider_accelerated":  # every component imports it at start
        path.insert(0, str(local_settings()))
    env = {**ENV, "PYTHONPATH": os.pathsep.join(path)}
    base = Path(tempfile.mkdtemp(prefix=f"async-hooks-bench-{kind}-{count}-"))
    began = time.monotonic()
    try:
        with AirflowDeployment(
            dags,
            base_dir=base,
            triggerers=0 if kind == "failover" else 1,
            env=env,
            startup_timeout=900,
            triggerer_counters=base / "counters",
            fast_glue_runs=not args.moto_serializer,
        ) as deployment:
            deployment.add_connection("moto", deployment.moto_connection())
            moto = deployment.processes["moto"].pid
            moto_session = yield_to_deployment(moto, args.moto_niceness)
            ctx = Context(deployment, dags, base / "counters", args)
            up = time.monotonic() - began
            if kind == "failover":
                row = measure_failover(ctx, count)
            elif kind in ("longlived", "longlived_floor"):
                row = measure_longlived(ctx, count, waves, floor=kind == "longlived_floor")
            else:
                row = measure(ctx, kind, count)
            row["deployment_up_s"] = round(up, 1)
            row["moto_session_niceness"] = moto_session
    except Exception as error:  # a row that cannot finish is reported, not hidden
        message = f"{type(error).__name__}: {str(error)[:500]}"
        row = {"approach": kind, "label": LABELS[kind], "waits": count, "error": message}
    row["row"] = spec
    row["row_wall_s"] = round(time.monotonic() - began, 1)
    row["logs"] = str(base / "logs")
    return row


def compile_bytecode() -> None:
    """Byte-compile the environment and the package first, as an installed deployment has them:
    with ``PYTHONDONTWRITEBYTECODE`` set (some machines set it) no ``.pyc`` is ever written, and
    every triggerer would compile each module it imports from source, in its start phase. That
    cost is not the code's: it fell on whichever row imports more (botocore and aiobotocore, about
    1.7 s of the runner's CPU at 2,000 sensors, py-spy). Idempotent: later runs find them."""
    import compileall
    import sysconfig

    roots = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    roots |= {str(Path(__file__).resolve().parent.parent / "async_hooks")}
    for root in sorted(roots):
        compileall.compile_dir(root, quiet=1, workers=0)


def merge(stems: list[str], out: str) -> None:
    """One table of the rows of several runs (``results/STEM.json``; ``STEM@ROW,ROW`` takes
    only those rows of it, e.g. ``fresh@async_hooks:10000``), each run's command kept; a phase
    without its "appears deadlocked" count gets it from the row's kept logs."""
    rows: list[dict[str, Any]] = []
    metas = []
    for spec in stems:
        stem, _, only = spec.partition("@")
        data = json.loads((RESULTS / f"{stem}.json").read_text())
        kept = only.split(",") if only else None
        meta = dict(data["meta"])
        if kept:
            meta["command"] = f"{meta['command']} (only its {', '.join(kept)} rows)"
        metas.append(meta)
        for row in data["rows"]:
            if kept and row.get("row") not in kept:
                continue
            log = Path(row.get("logs") or "/nonexistent")
            logs = sorted(log.glob("triggerer-*.log")) if log.is_dir() else []
            if logs and row["approach"] not in OWN_TABLE:
                whole = tc.scan_supervisor_log("".join(f.read_text() for f in logs))
                for name in ("start", "end"):
                    if name in row and "deadlocked" not in row[name]:
                        mark_deadlocks(row[name], whole)
            rows.append(row)
    meta = {**metas[-1], "command": "; ".join(m["command"] for m in metas)}
    whens = sorted(m["when"] for m in metas)
    meta["when"] = whens[0] if whens[0] == whens[-1] else f"{whens[0]} to {whens[-1]}"
    meta["moto_niceness"] = sorted({level for m in metas for level in moto_niceness(m)})
    meta["moto_fast_glue_runs"] = sorted({bool(m.get("moto_fast_glue_runs")) for m in metas})
    (RESULTS / f"{out}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    (RESULTS / f"{out}.md").write_text(markdown(rows, meta))


#: Runs of each pair the ratio goals judge: one pair's ratios move by 0.1-0.2x from run to run
#: on two shared cores (the supervisor's cost per event alone moved from 9.5 to 21.5 ms between
#: runs of one row), more than the goals' margins (1.2x, 1.1x). The medians are judged.
REPEAT = 3
#: Rows repeated by ``--repeat``: our waits and the quiet floor below this N (a 10,000 pair takes
#: 20 minutes, and its goal is the paced end, not a ratio at the margin).
REPEAT_BELOW = 10_000


def planned(rows: list[str], repeat: int) -> list[str]:
    """The rows in the order they run: each N's ``async_hooks`` and ``floor_quiet`` rows below
    ``REPEAT_BELOW`` run ``repeat`` times, the pair interleaved (ours, the floor's, ours, ...),
    so that a drift of the machine falls on both, where the first of them stood; every other
    row runs once, in its place."""

    def paired(spec: str) -> int | None:
        kind, count, _ = parse_row(spec)
        return count if kind in ("async_hooks", FLOOR) and count < REPEAT_BELOW else None

    plan: list[str] = []
    placed: set[int] = set()
    for spec in rows:
        count = paired(spec)
        if count is None:
            plan.append(spec)
        elif count not in placed:
            placed.add(count)
            plan += [other for other in rows if paired(other) == count] * max(1, repeat)
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", nargs="+", default=DEFAULT_ROWS, help="APPROACH:N ...")
    parser.add_argument("--poll", type=float, default=5.0)
    parser.add_argument(
        "--moto-niceness",
        type=int,
        default=0,
        choices=range(20),
        metavar="0-19",
        help="moto's priority, lowered by this (its session's too); see yield_to_deployment",
    )
    parser.add_argument(
        "--moto-serializer",
        action="store_true",
        help="moto answers GetJobRuns with its own serializer (about 42 ms of CPU a page of 200 runs)",
    )
    parser.add_argument("--per-run", type=int, default=10, help="waits per DAG run")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds held once started")
    parser.add_argument("--wave-steady", type=float, default=10.0, help="longlived: per wave")
    parser.add_argument("--quiet", type=float, default=3.0, help="no round trip for this long")
    parser.add_argument("--fire-after", type=float, default=0.0, help="floor_datetime: seconds")
    parser.add_argument("--limit", type=float, default=3600.0, help="seconds per wait, at most")
    parser.add_argument("--out", default="latest-airflow-deployment", help="results file stem")
    parser.add_argument("--append", action="store_true", help="keep the rows of the last run")
    parser.add_argument(
        "--repeat",
        type=int,
        default=REPEAT,
        help="runs of each async_hooks/floor_quiet pair below 10,000, interleaved; medians judged",
    )
    parser.add_argument(
        "--garbage",
        action="store_true",
        help="diagnosis: the runner keeps what collections free; lag_probe.garbage counts it",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="STEM[@ROW,...]",
        help="write --out from these results' rows (only the ROWs named after @), run none",
    )
    args = parser.parse_args()
    if args.merge:
        merge(args.merge, args.out)
        return
    unwind_on_sigterm()
    for spec in args.rows:
        parse_row(spec)
    plan = planned(args.rows, args.repeat)
    import airflow

    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "poll": args.poll,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "steady": args.steady,
        "airflow": airflow.__version__,
        "moto_niceness": args.moto_niceness,
        "moto_session_niced": True,
        "moto_fast_glue_runs": not args.moto_serializer,
        "command": "python -m benchmarks.airflow_deployment --rows "
        + " ".join(args.rows)
        + (f" --repeat {args.repeat}" if plan != args.rows else ""),
    }
    rows: list[dict[str, Any]] = []
    latest = RESULTS / f"{args.out}.json"
    if args.append and latest.exists():  # rows of an earlier run, kept with their own command
        earlier = json.loads(latest.read_text())
        rows = [{**row, "command": earlier["meta"]["command"]} for row in earlier["rows"]]
        meta["command"] = f"{earlier['meta']['command']}; then {meta['command']} --append"
    compile_bytecode()
    for spec in plan:
        row = run_row(spec, args)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "stalls"}, default=str), flush=True)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{args.out}.json").write_text(
            json.dumps({"meta": meta, "rows": rows}, indent=2, default=str)
        )
        (RESULTS / f"{args.out}.md").write_text(markdown(rows, meta))


if __name__ == "__main__":
    main()
