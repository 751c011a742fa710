"""The deployment benchmark's moto gives the cores to the deployment it stands beside.

moto runs in a session of its own, and Linux's autogroup scheduler shares the cores between
sessions alike, whatever a thread's niceness: with only its threads niced, moto took as much
CPU as the triggerer's whole session, in the Glue rows only (the floors ask it nothing).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.airflow_deployment import MOTO_NICENESS, session_niceness, yield_to_deployment

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
        assert session_niceness(child.pid) != MOTO_NICENESS  # a new session starts at 0
        reported = yield_to_deployment(child.pid)
        assert session_niceness(child.pid) == MOTO_NICENESS
        assert reported == MOTO_NICENESS
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == MOTO_NICENESS
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=60)


def test_no_session_niceness_for_a_process_that_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    assert session_niceness(child.pid) is None
