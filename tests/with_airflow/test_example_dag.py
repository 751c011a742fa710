"""docs/airflow.md's "A complete DAG, run locally": its commands, run as written in a shell of
their own (a fresh AIRFLOW_HOME, none of this session's Airflow settings), against the test's
moto server instead of the one the page starts on port 5000."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

# The page's commands, not the interpreter, are under test: nox runs this on the first Python
# present only.
pytestmark = pytest.mark.once

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "airflow.md"
EXAMPLE = ROOT / "docs" / "examples" / "glue_wait_dag.py"
PAGE_MOTO = "http://127.0.0.1:5000"


def page_commands() -> list[str]:
    """The section's console block, line by line."""
    section = PAGE.read_text().split("## A complete DAG, run locally", 1)[1]
    block = re.search(r"```console\n(.*?)```", section, flags=re.S)
    assert block is not None
    return block.group(1).splitlines()


def shell_env() -> dict[str, str]:
    """A user's shell: this session's Airflow settings (its AIRFLOW_HOME, database, dags folder,
    secrets backend) left out, this Python's scripts (``airflow``, ``python``) first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_page_runs_the_example_dag_to_success(moto_server, tmp_path):
    commands = page_commands()
    # What this test does itself: the packages are installed, and moto runs on a free port.
    setup = [line for line in commands if line.startswith(("pip install", "moto_server "))]
    assert len(setup) == 2, commands
    script = "\n".join(line for line in commands if line not in setup)
    assert PAGE_MOTO in script
    script = script.replace(PAGE_MOTO, moto_server.url)
    # The page runs from the repository's root: the same relative path here.
    (tmp_path / "docs" / "examples").mkdir(parents=True)
    shutil.copy(EXAMPLE, tmp_path / "docs" / "examples")

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=shell_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,  # a guard against a hang, far above the ~30 s it takes
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]

    database = tmp_path / "airflow-home" / "airflow.db"
    # closing(): a sqlite3 connection's own context manager commits but does not close it
    # (3.13 warns about the unclosed connection when it is collected, in whichever test).
    with contextlib.closing(sqlite3.connect(database)) as db:
        runs = db.execute("select state from dag_run where dag_id = 'glue_wait'").fetchall()
        tasks = dict(
            db.execute(
                "select task_id, state from task_instance where dag_id = 'glue_wait'"
            ).fetchall()
        )
    assert runs == [("success",)]
    assert tasks == {"run_nightly": "success", "start_run": "success", "wait_for_run": "success"}
