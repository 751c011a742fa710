"""Real Apache Airflow for these tests: a temporary AIRFLOW_HOME with SQLite, set before anything
imports Airflow (this conftest loads before the test modules), and DAG files in its DAGS_FOLDER."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

DAGS = Path(__file__).parent / "dags"
_HOME = tempfile.mkdtemp(prefix="async-hooks-airflow-")
atexit.register(shutil.rmtree, _HOME, True)
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ.pop("AIRFLOW__CORE__FERNET_KEY", None)
# A real secrets backend, Airflow's own: connections only it knows live in this file.
SECRETS_FILE = Path(_HOME) / "connections.json"
SECRETS_FILE.write_text("{}")
os.environ["AIRFLOW__SECRETS__BACKEND"] = "airflow.secrets.local_filesystem.LocalFilesystemBackend"
os.environ["AIRFLOW__SECRETS__BACKEND_KWARGS"] = json.dumps(
    {"connections_file_path": str(SECRETS_FILE)}
)

from async_hooks.testing.moto import MotoServer  # noqa: E402


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh metadata database (SQLite), once per session: ``dag.test()`` needs one."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def secrets_backend() -> Iterator[Callable[[dict[str, dict[str, object]]], None]]:
    """``secrets_backend({"conn_id": {...}})`` puts connections in Airflow's secrets backend."""

    def put(connections: dict[str, dict[str, object]]) -> None:
        SECRETS_FILE.write_text(json.dumps(connections))

    yield put
    SECRETS_FILE.write_text("{}")


@pytest.fixture
def aws_conn(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """An Airflow connection (``AIRFLOW_CONN_MOTO``) to the moto server; returns its id."""
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing-secret-key",
        "extra": {"endpoint_url": moto_server.url, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_MOTO", json.dumps(conn))
    return "moto"


@pytest.fixture
def glue_runs(moto_server: MotoServer) -> Callable[..., Awaitable[tuple[str, list[str]]]]:
    """``job_name, run_ids = await glue_runs(count, transitions)`` on the moto server."""
    from async_hooks.aws import AsyncAwsHook
    from async_hooks.testing.aws_jobs import create_glue_job, start_glue_runs

    async def start(count: int = 1, transitions: int | None = None) -> tuple[str, list[str]]:
        if transitions is not None:
            moto_server.set_transition(
                "glue::job_run", {"progression": "manual", "times": transitions}
            )
        async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
            name = f"etl-{len((await hook.call('glue', 'get_jobs'))['Jobs'])}"
            await create_glue_job(hook, name, count)
            runs = await start_glue_runs(hook, name, count)
        return name, runs

    return start
