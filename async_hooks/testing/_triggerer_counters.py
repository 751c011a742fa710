"""Counters inside a real Airflow triggerer, for the deployment benchmark and tests/deployment.

``AirflowDeployment(..., triggerer_counters=DIR)`` copies this file as ``sitecustomize.py`` onto
its triggerers' ``PYTHONPATH`` (nothing of async_hooks is imported in the triggerer for it). In
``airflow triggerer`` processes only, it wraps, once Airflow's ``triggerer_job_runner`` is
imported, a few methods of the supervisor and of its forked trigger runner with counters (calls,
seconds) and writes them as JSON to ``DIR/<role>-<pid>.json`` every half second:

- supervisor: ``_handle_request`` by request type (``req.GetXCom``, ``req.SetXCom``,
  ``req.GetConnection``, ``req.MaskSecret``, ``req.GetTaskStates``, ...; ``TriggerStateChanges``
  is the runner's state sync, not a trigger's round trip), with the wall time of the last one;
  ``handle_events`` batches (wall time, events, seconds); heartbeats skipped because the runner
  looked deadlocked;
- runner: ``create_runtime_ti`` calls, trigger starts and ends by trigger class (with the wall
  time of the last start), ``TriggerCommsDecoder.asend`` by message type.

The rest of this module reads them (``read_counters``, ``Counters``) and scans the triggerer's
logs (``scan_supervisor_log``, ``scan_trigger_logs``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ENV = "ASYNC_HOOKS_TRIGGERER_COUNTERS"
TARGET = "airflow.jobs.triggerer_job_runner"
#: The runner's state sync: sent every loop, it is not a round trip a trigger asked for.
STATE_SYNC = "TriggerStateChanges"
DUMP_EVERY = 0.5
SERIES_CAP = 20000
#: A trigger load slower than this (seconds) is kept in the series.
SLOW_LOAD = 0.05

BLOCKED = re.compile(r"Triggerer's async thread was blocked for ([0-9.]+) seconds")
UNKNOWN_FRAME = "Got response for unknown request frame"
DEADLOCKED = "appears deadlocked"
_STAMPED_DEADLOCK = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z.*" + DEADLOCKED, re.M)


# -- in the triggerer (as sitecustomize)


def _install(directory: str) -> None:  # pragma: no cover - runs inside a triggerer
    import importlib.util

    state: dict[str, Any] = {"role": "supervisor", "patched": False}
    counts: dict[str, list[float]] = {}  # name -> [calls, seconds, last wall time]
    series: list[tuple[float, str, int, float]] = []  # (wall, what, n, seconds)

    def note(name: str, began: float, n: int | None = None, keep: bool = False) -> None:
        took = time.perf_counter() - began
        entry = counts.get(name)
        if entry is None:
            entry = counts[name] = [0, 0.0, 0.0]
        entry[0] += 1
        entry[1] += took
        entry[2] = time.time()
        if keep and len(series) < SERIES_CAP:
            series.append((round(time.time(), 3), name, n or 0, round(took, 4)))

    def patch_supervisor(cls: Any) -> None:
        handle = cls._handle_request

        def _handle_request(self: Any, msg: Any, log: Any, req_id: int) -> Any:
            t0 = time.perf_counter()
            try:
                return handle(self, msg, log, req_id)
            finally:
                note("req." + type(msg).__name__, t0)

        cls._handle_request = _handle_request
        events = cls.handle_events

        def handle_events(self: Any) -> Any:
            n = len(self.events)
            t0 = time.perf_counter()
            try:
                return events(self)
            finally:
                if n:
                    note("handle_events", t0, n, keep=True)

        cls.handle_events = handle_events
        beat = cls.heartbeat

        def heartbeat(self: Any) -> Any:
            threshold = getattr(self, "runner_health_check_threshold", 0) or 0
            last = getattr(self, "_last_runner_comms", None)
            if threshold > 0 and last is not None and time.monotonic() - last > threshold:
                note("heartbeat_skipped", time.perf_counter(), keep=True)
            return beat(self)

        cls.heartbeat = heartbeat
        load = cls.load_triggers

        def load_triggers(self: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return load(self)
            finally:
                # kept only when slow: it runs every supervisor iteration
                note("load_triggers", t0, keep=time.perf_counter() - t0 > SLOW_LOAD)

        cls.load_triggers = load_triggers

    def patch_runner(cls: Any, decoder: Any) -> None:
        rti = cls.create_runtime_ti

        def create_runtime_ti(klass: Any, *a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return rti.__func__(klass, *a, **k)
            finally:
                note("runner.create_runtime_ti", t0)

        cls.create_runtime_ti = classmethod(create_runtime_ti)
        run = cls.run_trigger

        async def run_trigger(self: Any, trigger_id: int, trigger: Any, *a: Any, **k: Any) -> Any:
            name = type(trigger).__name__
            note("started." + name, time.perf_counter())
            t0 = time.perf_counter()
            try:
                return await run(self, trigger_id, trigger, *a, **k)
            finally:
                note("ended." + name, t0)

        cls.run_trigger = run_trigger
        asend = decoder.asend

        async def counted_asend(self: Any, msg: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await asend(self, msg)
            finally:
                name = type(msg).__name__
                # a state sync is kept with its events: when the runner took them to send
                carried = len(getattr(msg, "events", None) or ()) if name == STATE_SYNC else 0
                note("comms." + name, t0, carried, keep=carried > 0)

        decoder.asend = counted_asend

    def patch(module: Any) -> None:
        if state["patched"]:
            return
        state["patched"] = True
        patch_supervisor(module.TriggerRunnerSupervisor)
        patch_runner(module.TriggerRunner, module.TriggerCommsDecoder)

    def dump() -> None:
        path = os.path.join(directory, f"{state['role']}-{os.getpid()}.json")
        body = {
            "role": state["role"],
            "pid": os.getpid(),
            "ppid": os.getppid(),
            "time": time.time(),
            "counts": {k: [int(v[0]), round(v[1], 4), v[2]] for k, v in list(counts.items())},
            "series": list(series),
        }
        tmp = path + ".tmp"
        with open(tmp, "w") as out:
            json.dump(body, out)
        os.replace(tmp, path)

    def writer() -> None:
        while True:
            time.sleep(DUMP_EVERY)
            try:
                dump()
            except Exception:  # counters must never break the triggerer
                pass

    class Finder:
        """Patches the module right after it is first imported (before the runner forks)."""

        def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
            if name != TARGET:
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            execute = spec.loader.exec_module

            def exec_module(module: Any) -> None:
                execute(module)
                patch(module)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
            return spec

    def in_child() -> None:
        state["role"] = "runner"
        counts.clear()
        series.clear()
        threading.Thread(target=writer, daemon=True, name="counters").start()

    os.makedirs(directory, exist_ok=True)
    sys.meta_path.insert(0, Finder())
    os.register_at_fork(after_in_child=in_child)
    threading.Thread(target=writer, daemon=True, name="counters").start()


if __name__ == "sitecustomize" and os.environ.get(ENV) and "triggerer" in sys.argv:
    _install(os.environ[ENV])


# -- in the test or benchmark


def sitecustomize_source() -> str:
    """This module's source: written as ``sitecustomize.py`` on a triggerer's path."""
    return Path(__file__).read_text()


class Counters:
    """One process's counters as last written (``role`` "supervisor" or "runner")."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.role: str = body.get("role", "")
        self.pid: int = int(body.get("pid", 0))
        self.ppid: int = int(body.get("ppid", 0))
        self.time: float = float(body.get("time", 0.0))
        self.counts: dict[str, list[float]] = body.get("counts", {})
        self.series: list[list[Any]] = body.get("series", [])

    def calls(self, name: str) -> int:
        return int(self.counts.get(name, [0])[0])

    def seconds(self, name: str) -> float:
        return float(self.counts.get(name, [0, 0.0])[1])

    def last(self, name: str) -> float:
        """Wall time of the last call of ``name`` (0.0: never)."""
        entry = self.counts.get(name)
        return float(entry[2]) if entry else 0.0

    def requests(self) -> dict[str, int]:
        """Supervisor: request type -> round trips served (the runner's state syncs left out)."""
        return {
            name[4:]: int(v[0])
            for name, v in self.counts.items()
            if name.startswith("req.") and name[4:] != STATE_SYNC
        }

    def last_request(self) -> float:
        """Supervisor: wall time of the last round trip a trigger asked for (0.0: none)."""
        times = [
            float(v[2])
            for name, v in self.counts.items()
            if name.startswith("req.") and name[4:] != STATE_SYNC
        ]
        return max(times, default=0.0)

    def started(self, trigger_class: str) -> int:
        """Runner: triggers of that class it started (``run_trigger`` entered)."""
        return self.calls("started." + trigger_class)

    def batches(
        self, since: float = 0.0, until: float = float("inf"), what: str = "handle_events"
    ) -> list[tuple[float, int, float]]:
        """Supervisor: ``handle_events`` calls ending in [since, until): (wall, events, seconds);
        ``what="load_triggers"``: its trigger loads slower than ``SLOW_LOAD``. Runner:
        ``what="comms.TriggerStateChanges"``: its state syncs that carried events (wall time
        the answer came, events, seconds)."""
        return [
            (float(w), int(n), float(s))
            for w, kind, n, s in self.series
            if kind == what and since <= float(w) < until
        ]


def read_counters(directory: Path) -> dict[int, Counters]:
    """Every process's counters in ``directory``, by PID."""
    found: dict[int, Counters] = {}
    for path in Path(directory).glob("*.json"):
        try:
            counters = Counters(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
        found[counters.pid] = counters
    return found


def supervisor(directory: Path, pid: int) -> Counters:
    """The counters of triggerer ``pid`` (its supervisor), empty until first written."""
    return read_counters(directory).get(pid) or Counters({"role": "supervisor", "pid": pid})


def runner(directory: Path, supervisor_pid: int) -> Counters:
    """The counters of the trigger runner that triggerer ``supervisor_pid`` forked."""
    for counters in read_counters(directory).values():
        if counters.role == "runner" and counters.ppid == supervisor_pid:
            return counters
    return Counters({"role": "runner", "ppid": supervisor_pid})


def diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """Per-key growth, keys that grew only."""
    grown = {k: v - before.get(k, 0) for k, v in after.items()}
    return {k: v for k, v in sorted(grown.items()) if v}


# -- logs


def scan_supervisor_log(text: str) -> dict[str, Any]:
    """A triggerer's own output: blocked-loop warnings (seconds each), replies to unknown
    request frames, and "appears deadlocked" lines (each: a skipped heartbeat)."""
    return {
        "blocked": [float(s) for s in BLOCKED.findall(text)],
        "unknown_frames": text.count(UNKNOWN_FRAME),
        "deadlocked": text.count(DEADLOCKED),
        "deadlocked_at": [_epoch(stamp) for stamp in _STAMPED_DEADLOCK.findall(text)],
    }


def _epoch(stamp: str) -> float:
    """Epoch seconds of a log line's UTC timestamp (``2026-12-06T10:07:40.404084``)."""
    import datetime as dt

    return dt.datetime.fromisoformat(stamp).replace(tzinfo=dt.timezone.utc).timestamp()


def trigger_log_files(root: Path, dag_id: str | None = None) -> list[Path]:
    """The per-trigger log files under Airflow's log folder (of one DAG when given)."""
    files = [p for p in Path(root).rglob("*.log") if ".trigger." in p.name]
    if dag_id is not None:
        files = [p for p in files if f"dag_id={dag_id}" in str(p) or f"/{dag_id}/" in str(p)]
    return files


#: Where Airflow's own lines in a trigger's log come from ("trigger ... starting", "Trigger
#: fired event", "trigger completed"): a trigger's own lines come from anywhere else.
AIRFLOW_SOURCE = "triggerer_job_runner.py"


def _record(line: str) -> tuple[str | None, bool]:
    """A trigger log line's level and whether Airflow's runner wrote it."""
    line = line.strip()
    if not line:
        return None, False
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            return None, False
        level = record.get("level") or record.get("log_level")
        airflow = record.get("filename") == AIRFLOW_SOURCE
        return (str(level).lower() if level else None), airflow
    found = re.search(r"\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b", line, re.IGNORECASE)
    return (found.group(1).lower() if found else None), AIRFLOW_SOURCE in line


def scan_trigger_logs(files: Iterable[Path]) -> dict[str, Any]:
    """Lines by level (all, and the triggers' own: not Airflow's runner's), bytes and
    unknown-frame lines across the given trigger log files."""
    levels: dict[str, int] = {}
    own: dict[str, int] = {}
    total = unknown = count = 0
    for path in files:
        count += 1
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        total += len(text.encode())
        unknown += text.count(UNKNOWN_FRAME)
        for line in text.splitlines():
            level, airflow = _record(line)
            if level:
                levels[level] = levels.get(level, 0) + 1
                if not airflow:
                    own[level] = own.get(level, 0) + 1
    return {"files": count, "bytes": total, "levels": levels, "own": own, "unknown_frames": unknown}


def scan_trigger_logs_settled(
    files: Any, *, settle: float = 3.0, timeout: float = 60.0
) -> dict[str, Any]:
    """``scan_trigger_logs(files())`` once two scans ``settle`` seconds apart agree (the
    supervisor writes a trigger's lines as its log channel drains, after the task ended)."""
    deadline = time.monotonic() + timeout
    last = scan_trigger_logs(files())
    while time.monotonic() < deadline:
        time.sleep(settle)
        scan = scan_trigger_logs(files())
        if scan == last:
            break
        last = scan
    return last


def pid_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of one live process; 0.0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct children of ``pid``."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def wait_quiet(
    directory: Path,
    pid: int,
    *,
    since: float,
    quiet: float,
    timeout: float,
    poll: float = 0.25,
) -> Counters:
    """Until triggerer ``pid``'s supervisor has served no trigger round trip for ``quiet``
    seconds, counted from wall time ``since`` at the earliest; its counters then."""
    deadline = time.monotonic() + timeout
    while True:
        counters = supervisor(directory, pid)
        last = max(counters.last_request(), since)
        if counters.time - last >= quiet and time.time() - counters.time < 2.0:
            return counters
        if time.monotonic() > deadline:
            raise TimeoutError(f"triggerer {pid} kept serving round trips for {timeout} s")
        time.sleep(poll)
