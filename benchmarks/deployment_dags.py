"""What ``benchmarks.airflow_deployment`` puts in the deployment's DAGs folder: one DAG file per
row (its tasks read their Glue run from the run's conf), the two floors' DAGs (Airflow's own
``DateTimeSensorAsync`` and a quiet trigger that only sleeps until released), and a loop-lag
probe trigger that runs in the same triggerer as the waits."""

from __future__ import annotations

ROW_DAG = '''"""Benchmark row {dag_id}: {per_run} waits per run ({approach}) on Glue runs that
already exist, named by the run's conf (Airflow 3.3 ships the whole serialized DAG with every
trigger it starts in the triggerer, so a row is many small runs, not one huge DAG)."""
from airflow.sdk import DAG

with DAG("{dag_id}", schedule=None, catchup=False, max_active_runs=100000):
    if "{approach}" == "async_hooks":
        from async_hooks.airflow import WaitForJobSensor

        for index in range({per_run}):
            WaitForJobSensor(
                task_id=f"w{{index}}",
                provider="aws",
                kind="glue",
                job_id="{{{{ dag_run.conf['runs'][%d][1] }}}}" % index,
                hook_kwargs={{"conn_id": "moto"}},
                wait_kwargs={{
                    "job_name": "{{{{ dag_run.conf['runs'][%d][0] }}}}" % index,
                    "poll_interval": {poll},
                    "timeout": 7200,
                }},
            )
    else:
        from airflow.providers.amazon.aws.sensors.glue import GlueJobSensor

        for index in range({per_run}):
            GlueJobSensor(
                task_id=f"w{{index}}",
                job_name="{{{{ dag_run.conf['runs'][%d][0] }}}}" % index,
                run_id="{{{{ dag_run.conf['runs'][%d][1] }}}}" % index,
                aws_conn_id="moto",
                deferrable=True,
                poke_interval={poll},
                max_retries=100000,
            )
'''

PROBE_DAG = '''"""The loop-lag probe, one run per benchmark row, in the same triggerer."""
from airflow.sdk import DAG

from lag_probe import LagProbe

with DAG("lag_probe", schedule=None, catchup=False, max_active_runs=100):
    LagProbe(task_id="probe", stop_file="{{{{ dag_run.conf['stop_file'] }}}}")
'''

LAG_PROBE = '''"""A trigger that measures how late the triggerer's loop wakes it (every 50 ms) until a file
appears; its event carries the lag percentiles and its own timeline of stalls: (wall time it
woke, lag) for every lag over STALL seconds, so that a stall is placed where it happened (the
triggerer's blocked-loop warnings are stamped when a backed-up log channel lets them out). It
starts in the triggerer (no worker) and resumes on a worker only to return them as its XCom.

What a stall was is recorded beside it, in the runner itself: every garbage collection over
GC_PAUSE seconds (wall time, generation, seconds, objects tracked after a full one), and, for a
loop late by over DUMP_AFTER seconds, the loop thread's stack as a watchdog thread saw it while
the loop was held. Once stopped, it times one full collection: what the row left to collect."""
import asyncio
import gc
import os
import sys
import threading
import time
import traceback

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, StartTriggerArgs, TriggerEvent

STEP = 0.05
#: ``--garbage``: keep what collections free (``gc.DEBUG_SAVEALL``) and count it by type at the
#: end (a diagnosis: the row's memory and collections are not the real ones then).
GARBAGE = False
STALL = 0.2
MAX_STALLS = 5000
GC_PAUSE = 0.05
READY = ".ready"
DUMP_AFTER = 0.5
MAX_DUMPS = 40


class _Witness:
    """Records garbage collections and the loop thread's stack while the loop is held."""

    def __init__(self):
        self.beat = time.monotonic()
        self.gcs, self.dumps = [], []
        self._gc_began = 0.0
        self._loop_thread = threading.get_ident()
        self.garbage = []
        if GARBAGE:
            gc.set_debug(gc.DEBUG_SAVEALL)
        self._stop = threading.Event()
        gc.callbacks.append(self._on_gc)
        threading.Thread(target=self._watch, name="lag-probe-watchdog", daemon=True).start()

    def _on_gc(self, phase, info):
        if phase == "start":
            self._gc_began = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_began
        if took > GC_PAUSE and len(self.gcs) < MAX_STALLS:
            # After a full collection every object it tracks is in the oldest generation.
            tracked = len(gc.get_objects(2)) if info["generation"] == 2 else None
            self.gcs.append(
                [round(time.time(), 3), info["generation"], round(took, 3), tracked, info["collected"]]
            )

    def _watch(self):
        dumped = None
        while not self._stop.wait(0.25):
            beat = self.beat
            if time.monotonic() - beat < DUMP_AFTER or beat == dumped or len(self.dumps) >= MAX_DUMPS:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is not None:
                stack = [" ".join(line.split()) for line in traceback.format_stack(frame)[-14:]]
                self.dumps.append([round(time.time(), 3), round(time.monotonic() - beat, 2), stack])
                dumped = beat

    def close(self):
        self._stop.set()
        gc.callbacks.remove(self._on_gc)
        if GARBAGE:
            import collections

            gc.collect()
            kinds = collections.Counter(
                getattr(type(o), "__module__", "?") + "." + type(o).__qualname__ for o in gc.garbage
            )
            self.garbage = [[len(gc.garbage), "all"]] + [[n, k] for k, n in kinds.most_common(60)]
            gc.set_debug(0)
            gc.garbage.clear()


def _left_to_collect():
    """[seconds, objects freed] of one full collection run once the row has ended: the bill of
    garbage the row left behind (the ended triggers' DAG copies are reference cycles, freed only
    by a full collection). A row whose end phase ran that collection paid it inside the phase; a
    row that did not pays it here, after the measured window, so the two are compared on both."""
    if GARBAGE:
        return None
    began = time.perf_counter()
    freed = gc.collect()
    return [round(time.perf_counter() - began, 3), freed]


class LagProbeTrigger(BaseTrigger):
    def __init__(self, stop_file):
        super().__init__()
        self.stop_file = stop_file

    def serialize(self):
        return ("lag_probe.LagProbeTrigger", {{"stop_file": self.stop_file}})

    async def run(self):
        # One connection look-up first, in every row: the supervisor builds Airflow's in-process
        # API on its first request (about 10 s on 2 busy cores, once per triggerer process), so
        # no row's start phase carries that one-time cost; READY tells the driver it is done.
        try:
            from airflow.sdk.definitions.connection import Connection

            await Connection.async_get("moto")
        except Exception:
            pass
        with open(self.stop_file + READY, "w") as ready:
            ready.write("ready")
        lags, stalls = [], []
        witness = _Witness()
        while not os.path.exists(self.stop_file):
            began = witness.beat = time.monotonic()
            await asyncio.sleep(STEP)
            lag = time.monotonic() - began - STEP
            lags.append(lag)
            if lag > STALL and len(stalls) < MAX_STALLS:
                stalls.append([round(time.time(), 3), round(lag, 3)])
        witness.close()
        left = _left_to_collect()
        lags.sort()
        pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] if lags else None
        yield TriggerEvent({{"samples": len(lags), "p50": pick(0.5), "p99": pick(0.99),
                            "max": lags[-1] if lags else None, "stalls": stalls,
                            "gc_pauses": witness.gcs, "stall_stacks": witness.dumps, "gc_left": left,
                            "garbage": witness.garbage}})


class LagProbe(BaseOperator):
    template_fields = ("stop_file",)
    start_from_trigger = True

    def __init__(self, *, stop_file, **kwargs):
        super().__init__(**kwargs)
        self.stop_file = stop_file
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls="lag_probe.LagProbeTrigger",
            trigger_kwargs={{"stop_file": stop_file}},
            next_method="execute_complete",
            next_kwargs=None,
            timeout=None,
        )

    def execute_complete(self, context, event=None):
        return event
'''.replace("{{", "{").replace("}}", "}")

QUIET_MODULE = '''"""The quiet floor: a trigger that only sleeps until released, then ends its task in the
triggerer with a TaskSuccessEvent carrying a return_value of PAD bytes; no log lines of its own.
All its triggers in a process await one asyncio.Event, set by one watcher task of the release
file (not one poller per trigger), so they all end together."""
import asyncio
import os

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, StartTriggerArgs, TaskSuccessEvent

_RELEASED = {{}}  # release file -> asyncio.Event (one loop per triggerer runner)


async def _watch(path, event):
    while not os.path.exists(path):
        await asyncio.sleep(0.1)
    event.set()


def released(path):
    event = _RELEASED.get(path)
    if event is not None and event.is_set() and not os.path.exists(path):
        event = None  # a new wave (longlived_floor): its release file was removed
    if event is None:
        event = _RELEASED[path] = asyncio.Event()
        event.watcher = asyncio.ensure_future(_watch(path, event))
    return event


class QuietMomentTrigger(BaseTrigger):
    def __init__(self, release, pad=0):
        super().__init__()
        self.release, self.pad = release, pad

    def serialize(self):
        return ("quiet_floor.QuietMomentTrigger", {{"release": self.release, "pad": self.pad}})

    async def run(self):
        await released(self.release).wait()
        xcoms = {{"return_value": {{"pad": "x" * self.pad}}}} if self.pad else None
        yield TaskSuccessEvent(xcoms=xcoms)


class QuietMoment(BaseOperator):
    start_from_trigger = True

    def __init__(self, *, release, pad=0, **kwargs):
        super().__init__(**kwargs)
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls="quiet_floor.QuietMomentTrigger",
            trigger_kwargs={{"release": release, "pad": pad}},
            next_method="execute_complete",
            next_kwargs=None,
            timeout=None,
        )

    def execute_complete(self, context, event=None):
        return None
'''.replace("{{", "{").replace("}}", "}")

QUIET_DAG = '''"""Floor {dag_id}: a quiet trigger started in the triggerer, all released by one file."""
from airflow.sdk import DAG
from quiet_floor import QuietMoment

with DAG("{dag_id}", schedule=None, catchup=False, max_active_runs=100000):
    for index in range({per_run}):
        QuietMoment(task_id=f"w{{index}}", release="{release}", pad={pad})
'''

DATETIME_DAG = '''"""Floor {dag_id}: Airflow's DateTimeSensorAsync started and ended in the triggerer, all
firing at conf['at']."""
from airflow.sdk import DAG
from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync

with DAG("{dag_id}", schedule=None, catchup=False, max_active_runs=100000):
    for index in range({per_run}):
        DateTimeSensorAsync(
            task_id=f"w{{index}}",
            target_time="{{{{ dag_run.conf['at'] }}}}",
            start_from_trigger=True,
            end_from_trigger=True,
        )
'''
