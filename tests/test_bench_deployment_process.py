"""How the deployment benchmark treats the processes it starts.

moto runs in a session of its own, and Linux's autogroup scheduler shares the cores between
sessions alike, whatever a thread's niceness: with only its threads niced, moto took as much
CPU as the triggerer's whole session, in the Glue rows only (the floors ask it nothing).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks._deployment_report import _moto_priority
from benchmarks.airflow_deployment import (
    moto_niceness,
    session_cpu,
    session_niceness,
    yield_to_deployment,
)

NICE = 19

AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")
autogroup_on = pytest.mark.skipif(
    not AUTOGROUP.exists() or AUTOGROUP.read_text().strip() != "1",
    reason="no autogroup scheduling on this kernel: threads' niceness is all there is",
)


@autogroup_on
def test_moto_session_is_niced_with_its_threads() -> None:
    # A process in a session of its own, as AirflowDeployment starts moto.
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert session_niceness(child.pid) == 0  # a new session starts at 0
        assert yield_to_deployment(child.pid, 0) == 0  # the default leaves it alone
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == os.getpriority(os.PRIO_PROCESS, 0)
        reported = yield_to_deployment(child.pid, NICE)
        assert session_niceness(child.pid) == NICE
        assert reported == NICE
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == NICE
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=60)


def test_the_report_says_how_moto_ran_in_effect() -> None:
    normal = "moto (the cloud's stand-in) at the normal priority, on the same cores, "
    # Before 2026-12-07 only its threads were niced: the normal priority, in effect.
    threads_only = {"moto_niceness": 19}
    assert moto_niceness(threads_only) == [0]
    assert _moto_priority(threads_only).startswith(normal)
    assert _moto_priority({"moto_niceness": 0, "moto_session_niced": True}).startswith(normal)
    niced = {"moto_niceness": 19, "moto_session_niced": True}
    assert moto_niceness(niced) == [19]
    assert "at nice 19," in _moto_priority(niced)
    assert "at nice 0 and 19," in _moto_priority({"moto_niceness": [0, 19]})  # a merge


def test_no_session_niceness_for_a_process_that_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    assert session_niceness(child.pid) is None


def test_sigterm_unwinds_the_benchmark_so_its_deployment_stops() -> None:
    # The deployment's processes run in sessions of their own: only the benchmark's own
    # clean-up (the row's ``with AirflowDeployment``) stops them, and a SIGTERM must reach it.
    script = (
        "import time\n"
        "from benchmarks.airflow_deployment import unwind_on_sigterm\n"
        "unwind_on_sigterm()\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(600)\n"
        "finally:\n"
        "    print('stopped', flush=True)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    child.send_signal(signal.SIGTERM)
    rest, _ = child.communicate(timeout=60)
    assert rest == "stopped\n"
    assert child.returncode == 128 + signal.SIGTERM


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
@pytest.mark.parametrize("own_session", [False, True], ids=["same-session", "own-session"])
def test_session_cpu_counts_what_the_leader_forked_and_nothing_else(own_session: bool) -> None:
    # A leader in a session of its own (as each deployment process is) forks a worker that
    # burns CPU, in its session (the scheduler's) or in one of the worker's own (PostgreSQL's
    # backends); the test process itself is in another one.
    worker = (
        "import sys, time\n"
        "end = time.process_time() + 0.3\n"
        "while time.process_time() < end: pass\n"
        "print(time.process_time(), flush=True)\n"
        "sys.stdin.read()\n"
    )
    leader = (
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, '-c', {worker!r}], start_new_session={own_session})\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", leader],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        burnt = float(child.stdout.readline())
        found = session_cpu({"leader": child.pid, "nobody": 2**22 + 1})
        assert found["leader"] >= burnt - 0.02  # /proc counts whole clock ticks
        assert found["nobody"] == 0.0
    finally:
        child.communicate(timeout=60)  # closes its stdin, so both end


def test_the_report_says_how_moto_answered_get_job_runs() -> None:
    """Runs before 2026-12-07 had moto's own serializer; a merge names a mix."""
    own, fast = "with its own serializer", "without its serializer"
    assert own in _moto_priority({"moto_niceness": 0})
    assert fast in _moto_priority({"moto_niceness": 0, "moto_fast_glue_runs": True})
    assert fast in _moto_priority({"moto_niceness": [0], "moto_fast_glue_runs": [True]})
    mixed = _moto_priority({"moto_niceness": [0], "moto_fast_glue_runs": [False, True]})
    assert "in some runs and without it in others" in mixed


def test_a_merge_takes_only_the_rows_named_after_the_stem(tmp_path, monkeypatch) -> None:
    """``STEM@ROW,ROW``: a run's other rows (measured another way) stay out of the table."""
    import json

    from benchmarks import airflow_deployment

    source = Path(airflow_deployment.__file__).parent / "results"
    for stem in ("fresh-d236ecd", "floor10k-d236ecd"):
        (tmp_path / f"{stem}.json").write_text((source / f"{stem}.json").read_text())
    monkeypatch.setattr(airflow_deployment, "RESULTS", tmp_path)
    airflow_deployment.merge(["fresh-d236ecd@async_hooks:10000", "floor10k-d236ecd"], "merged")
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert [row["row"] for row in merged["rows"]] == ["async_hooks:10000", "floor_quiet:10000"]
    assert "(only its async_hooks:10000 rows)" in merged["meta"]["command"]
    assert "10,000" in (tmp_path / "merged.md").read_text()


def test_the_long_lived_summary_says_which_process_grew() -> None:
    """The goal bounds the triggerer's RSS; the summary splits it between our runner and
    Airflow's supervisor, from the first wave to the last."""
    from benchmarks._deployment_report import _special

    def wave(index: int, whole: float, runner: float) -> dict[str, object]:
        return {
            "wave": index,
            "start_s": 10.0,
            "end_s": 20.0,
            "rss_after_mib": whole,
            "rss_runner_after_mib": runner,
            "start": {},
            "end": {},
        }

    row = {
        "approach": "longlived",
        "waits": 1000,
        "waves": 2,
        "rss_growth_pct": 7.0,
        "task_states": {"success": 2000},
        "per_wave": [wave(1, 500.0, 200.0), wave(2, 535.0, 210.0)],
    }
    summary = _special(row, "within 5 %", "no")[1]
    assert "RSS +7.0 % from after wave 1 to after wave 2" in summary
    assert "(the runner's +5.0 %, the supervisor's +8.3 %)" in summary
    row["per_wave"][0]["rss_runner_after_mib"] = None  # results from before the split
    assert "the runner's" not in _special(row, "within 5 %", "no")[1]
