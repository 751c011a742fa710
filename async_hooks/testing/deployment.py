"""A real Apache Airflow deployment on 127.0.0.1 for tests of DAGs: PostgreSQL, ``airflow db
migrate``, the api-server, a scheduler with the LocalExecutor, a dag-processor, two triggerers
and a moto server, all started by PID in their own process groups and stopped on exit (also when
start-up fails half-way). Health thresholds are lowered so that a killed triggerer's triggers
move to the other within seconds. See docs/deployment.md.

    with AirflowDeployment(Path("dags")) as airflow:
        airflow.add_connection("moto", airflow.moto_connection())
        run_id = airflow.trigger_dag("my_dag")
        assert airflow.wait_for_run("my_dag", run_id) == "success"
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from async_hooks.testing._airflow_api import RestApi, connection_body, query, quote
from async_hooks.testing._airflow_settings import (
    HOSTNAME_CALLABLE,
    TRIGGERER_HEALTH_THRESHOLD,
    airflow_environment,
)
from async_hooks.testing._moto_process import MotoControl
from async_hooks.testing._postgres import PostgresServer, find_binaries
from async_hooks.testing._processes import DeploymentError, ManagedProcess, free_port, wait_until

__all__ = ["INSTALL_HINT", "AirflowDeployment", "DeploymentError", "airflow_deployment"]

INSTALL_HINT = "pip install 'async-hooks[aws,airflow]' 'moto[server]' psycopg2-binary asyncpg"
FINISHED = frozenset({"success", "failed"})
#: Ports the api-server is started on at most, each free when picked.
API_PORT_TRIES = 3


class AirflowDeployment:
    """Start with ``with`` (or ``start()``/``stop()``). ``dags_folder`` is the DAGs folder;
    ``env`` adds or overrides environment variables of every process (``AIRFLOW__...``).
    ``triggerers=0`` starts none (``start_triggerer`` does, each with its own ``env``).
    With ``triggerer_counters`` (a directory), every triggerer counts its round trips, event
    batches and trigger starts there (``async_hooks.testing._triggerer_counters``). With
    ``fast_glue_runs``, moto answers Glue's ``GetJobRuns`` without its serializer (a benchmark's
    cloud stand-in; ``async_hooks.testing._moto_process``)."""

    def __init__(
        self,
        dags_folder: Path,
        *,
        base_dir: Path | None = None,
        parallelism: int = 16,
        triggerers: int = 2,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 600.0,
        triggerer_counters: Path | None = None,
        fast_glue_runs: bool = False,
    ) -> None:
        self.dags_folder: Path = Path(dags_folder).resolve()
        self._own_dir = base_dir is None
        self.base: Path = Path(base_dir or tempfile.mkdtemp(prefix="async-hooks-deployment-"))
        self.logs: Path = self.base / "logs"
        self._parallelism, self._triggerers = parallelism, triggerers
        self._fast_glue_runs = fast_glue_runs
        self._extra_env = dict(env or {})
        self.startup_timeout: float = startup_timeout
        self.processes: dict[str, ManagedProcess] = {}
        self.env: dict[str, str] = {}
        self.postgres: PostgresServer | None = None
        self.moto: MotoControl = MotoControl("")
        self.api: RestApi = RestApi("")
        self._count = 0
        self.counters: Path | None = None
        if triggerer_counters is not None:
            self.counters = Path(triggerer_counters).resolve()

    # -- start and stop

    def __enter__(self) -> AirflowDeployment:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> AirflowDeployment:
        """Everything, in order; on any failure what started is stopped before the error."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        missing = [m for m in ("airflow", "psycopg2", "asyncpg", "moto") if not _importable(m)]
        if missing:
            raise DeploymentError(f"{', '.join(missing)} missing: {INSTALL_HINT}")
        self.logs.mkdir(parents=True, exist_ok=True)
        self.postgres = PostgresServer(self.base).start()
        moto_port = free_port()
        self.moto = MotoControl(f"http://127.0.0.1:{moto_port}")
        module = "async_hooks.testing._moto_process"
        fast = ["--fast-glue-runs"] if self._fast_glue_runs else []
        moto = self._spawn("moto", [sys.executable, "-m", module, "--port", str(moto_port), *fast])
        self._configure(free_port())
        migrate = self._spawn("db-migrate", self._airflow("db", "migrate"))
        wait_until(lambda: not migrate.alive, timeout=self.startup_timeout, what="db migrate")
        if migrate.returncode:
            raise DeploymentError(migrate.describe_failure("airflow db migrate failed"))
        self._start_api_server()
        self._spawn("scheduler", self._airflow("scheduler", "--skip-serve-logs"))
        self._spawn("dag-processor", self._airflow("dag-processor"))
        for _ in range(self._triggerers):
            self.start_triggerer(wait=False)
        wait_until(
            lambda: self.api.ok("/monitor/health") and self.moto_ready(),
            timeout=self.startup_timeout,
            what="the api-server and moto",
            watch=[self.processes["api-server"], moto],
        )
        wait_until(
            self._healthy,
            timeout=self.startup_timeout,
            what="scheduler, dag-processor and triggerers to heartbeat",
            watch=[process for process in self.processes.values() if process.alive],
        )

    def _configure(self, api_port: int) -> None:
        """Every Airflow process's environment, the api-server at ``api_port``."""
        self.api = RestApi(f"http://127.0.0.1:{api_port}")
        assert self.postgres is not None
        self.env = airflow_environment(
            home=self.base / "airflow-home",
            dags_folder=self.dags_folder,
            database_url=self.postgres.url,
            async_database_url=self.postgres.async_url,
            api_port=api_port,
            moto_url=self.moto.url,
            parallelism=self._parallelism,
            extra=self._extra_env,
        )

    def _start_api_server(self) -> None:
        """The api-server, answering before any other Airflow process starts (they all reach it
        by its port). A port free when picked may be taken before the server binds it (the OS
        gives the same ephemeral ports to outgoing connections): then another port, again."""
        for attempt in range(API_PORT_TRIES):
            if attempt:
                self._configure(free_port())
            port = self.api.base.rsplit(":", 1)[1]
            server = self._spawn("api-server", self._airflow("api-server", "--port", port))
            try:
                wait_until(
                    lambda: self.api.ok("/monitor/health"),
                    timeout=self.startup_timeout,
                    what="the api-server",
                    watch=[server],
                )
                return
            except DeploymentError:
                server.stop()
                if attempt + 1 == API_PORT_TRIES or not _lost_its_port(server):
                    raise

    def moto_ready(self) -> bool:
        try:
            self.moto.counts()
        except OSError:
            return False
        return True

    def _healthy(self) -> bool:
        try:
            health = self.api.call("GET", "/monitor/health", timeout=30)
        except (DeploymentError, OSError):  # a busy api-server answers late or 5xx at first
            return False
        parts = ("metadatabase", "scheduler", "dag_processor")
        if any(health.get(part, {}).get("status") != "healthy" for part in parts):
            return False
        return len(self.live_triggerer_jobs()) >= len(self.triggerer_pids)

    def stop(self) -> None:
        """Every process by its group: SIGTERM to all, then SIGKILL what outlives 10 s;
        PostgreSQL last. The base directory goes too when the deployment made it."""
        started = list(self.processes.values())
        for process in started:
            process.signal_group(signal.SIGTERM)
        for process in reversed(started):
            process.stop()
        if self.postgres is not None:
            self.postgres.stop()
        if self._own_dir:
            shutil.rmtree(self.base, ignore_errors=True)

    def _airflow(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "airflow", *args]

    def _spawn(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> ManagedProcess:
        env = {**self.env, **(env or {})} if self.env else None
        process = ManagedProcess(name, argv, self.logs / f"{name}.log", env=env, cwd=self.base)
        self.processes[name] = process.start()
        return process

    # -- triggerers

    def start_triggerer(self, *, wait: bool = True, env: Mapping[str, str] | None = None) -> int:
        """One more triggerer; its PID (waits for its first heartbeat unless ``wait=False``).
        ``env`` adds or overrides variables of this triggerer only (its ``capacity``, ...)."""
        self._count += 1
        name = f"triggerer-{self._count}"
        named = {
            "ASYNC_HOOKS_HOSTNAME": name,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": HOSTNAME_CALLABLE,
            **self._counter_env(),
            **(env or {}),
        }
        process = self._spawn(name, self._airflow("triggerer", "-s"), named)
        if wait:
            self.wait_until(
                lambda: process.pid in self.live_triggerer_jobs().values(),
                timeout=self.startup_timeout,
                what=f"{process.name} to heartbeat",
            )
        return process.pid

    def _counter_env(self) -> dict[str, str]:
        """A triggerer's variables for ``triggerer_counters``: the counters as its
        ``sitecustomize`` on its ``PYTHONPATH`` (before what the deployment's has)."""
        if self.counters is None:
            return {}
        from async_hooks.testing._triggerer_counters import ENV, sitecustomize_source

        site = self.base / "triggerer-site"
        site.mkdir(parents=True, exist_ok=True)
        (site / "sitecustomize.py").write_text(sitecustomize_source())
        self.counters.mkdir(parents=True, exist_ok=True)
        path = self.env.get("PYTHONPATH", "")
        return {"PYTHONPATH": f"{site}:{path}" if path else str(site), ENV: str(self.counters)}

    @property
    def triggerer_pids(self) -> list[int]:
        """The PIDs of the triggerers that are running."""
        return [p.pid for n, p in self.processes.items() if n.startswith("triggerer") and p.alive]

    def kill_triggerer(self, pid: int, signum: int = signal.SIGKILL) -> None:
        """Send ``signum`` to that triggerer's process group (its runner subprocess too)."""
        process = self._process(pid)
        process.signal_group(signum)
        if signum == signal.SIGKILL:
            wait_until(lambda: not process.alive, timeout=60, what=f"{process.name} to die")

    def _pid_of(self, hostname: str | None) -> int | None:
        process = self.processes.get(hostname or "")
        return process.pid if process is not None else None

    def live_triggerer_jobs(self) -> dict[int, int | None]:
        """Triggerer job id -> PID, for running jobs that Airflow counts as alive."""
        rows = self.sql(
            "select id, hostname from job where job_type = 'TriggererJob' and state = 'running'"
            " and latest_heartbeat > now() - make_interval(secs => %s)",
            (TRIGGERER_HEALTH_THRESHOLD,),
        )
        return {job: self._pid_of(hostname) for job, hostname in rows}

    def triggers_by_triggerer(self) -> dict[int | None, list[int]]:
        """Triggerer PID (``None``: not assigned) -> ids of the triggers it holds."""
        rows = self.sql(
            "select j.hostname, t.id from trigger t left join job j on j.id = t.triggerer_id"
            " order by t.id"
        )
        held: dict[int | None, list[int]] = {}
        for hostname, trigger in rows:
            held.setdefault(self._pid_of(hostname), []).append(trigger)
        return held

    # -- DAGs, runs and tasks

    def wait_for_dag(self, dag_id: str, timeout: float = 300.0) -> None:
        """Until the dag-processor has parsed ``dag_id``; it is unpaused then."""
        self.wait_until(
            lambda: self.api.ok(f"/dags/{quote(dag_id)}"),
            timeout=timeout,
            what=f"DAG {dag_id!r} to be parsed (see {self.logs}/dag-processor.log)",
        )
        self.api.call("PATCH", f"/dags/{quote(dag_id)}", {"is_paused": False})

    def trigger_dag(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """A new run of ``dag_id`` (waiting for its DAG to be parsed first); its run id."""
        self.wait_for_dag(dag_id)
        body = {"logical_date": None, "conf": dict(conf or {})}
        run = self.api.call("POST", f"/dags/{quote(dag_id)}/dagRuns", body)
        run_id: str = run["dag_run_id"]
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        run = self.api.call("GET", f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}")
        state: str = run["state"]
        return state

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300.0) -> str:
        """The run's final state (``"success"`` or ``"failed"``)."""
        self.wait_until(
            lambda: self.run_state(dag_id, run_id) in FINISHED,
            timeout=timeout,
            what=f"run {run_id} of {dag_id} to finish",
        )
        return self.run_state(dag_id, run_id)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run as the REST API gives it (``state``, ``map_index``,
        ``try_number``, ``hostname``, ``pid``, ``queued_when``, ...)."""
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances"
        return self.api.pages(path, "task_instances")

    def task_states(self, dag_id: str, run_id: str) -> dict[tuple[str, int], str | None]:
        """``(task_id, map_index)`` -> state (map index -1 for a task that is not mapped)."""
        return {
            (ti["task_id"], ti["map_index"]): ti["state"]
            for ti in self.task_instances(dag_id, run_id)
        }

    def set_task_state(
        self, dag_id: str, run_id: str, task_id: str, state: str = "failed", map_index: int = -1
    ) -> None:
        """What a user's "mark failed" (or success) does, through the REST API."""
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}"
        if map_index >= 0:
            path += f"/{map_index}"
        self.api.call("PATCH", path, {"new_state": state})

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, try_number: int = 1
    ) -> str:
        """A try's log as the UI shows it (JSON lines of its events)."""
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}"
        answer = self.api.call("GET", f"{path}/logs/{try_number}?map_index={map_index}")
        content = answer.get("content", []) if isinstance(answer, Mapping) else answer
        if isinstance(content, str):
            return content
        return "\n".join(json.dumps(line) for line in content)

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        """A task's return value (its ``return_value`` XCom), read from the metadata database."""
        rows = self.sql(
            "select value from xcom where dag_id = %s and run_id = %s and task_id = %s"
            " and map_index = %s and key = 'return_value'",
            (dag_id, run_id, task_id, map_index),
        )
        return rows[0][0] if rows else None

    # -- connections, moto, logs, SQL

    def add_connection(self, conn_id: str, connection: str | Mapping[str, Any]) -> None:
        """Store a connection in the metadata database (an Airflow URI or a dict of fields)."""
        self.api.call("POST", "/connections", connection_body(conn_id, connection))

    def moto_connection(self, region: str = "us-east-1") -> dict[str, Any]:
        """An ``aws`` connection's fields that reach this deployment's moto server."""
        return {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing-secret-key",
            "extra": {"endpoint_url": self.moto.url, "region_name": region},
        }

    @property
    def moto_url(self) -> str:
        return self.moto.url

    def log_of(self, process: str | int) -> str:
        """The whole log of a process, by name (``"scheduler"``, ``"triggerer-1"``) or PID."""
        found = self.processes.get(process) if isinstance(process, str) else self._process(process)
        if found is None:
            raise DeploymentError(f"no process {process!r}; known: {', '.join(self.processes)}")
        return found.log.read_text(errors="replace")

    def sql(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``statement`` on the metadata database."""
        if self.postgres is None:
            raise DeploymentError("the deployment is not started")
        return query(self.postgres.dsn, statement, params)

    def wait_until(self, condition: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Until ``condition()``; ``DeploymentError`` when a process exits or time runs out."""
        alive = [p for p in self.processes.values() if p.alive and p.name != "db-migrate"]
        watch = [p for p in alive if not p.name.startswith("triggerer")]
        wait_until(condition, timeout=timeout, what=f"{what} (logs: {self.logs})", watch=watch)

    def _process(self, pid: int) -> ManagedProcess:
        for process in self.processes.values():
            if process.pid == pid:
                return process
        raise DeploymentError(f"no process of this deployment has PID {pid}")


def _lost_its_port(process: ManagedProcess) -> bool:
    """Whether ``process`` exited because its port was taken (its log says so)."""
    return "address already in use" in process.tail().lower()


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="session")
def airflow_deployment(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., AirflowDeployment]]:
    """``airflow_deployment(dags_folder, **options)`` starts an ``AirflowDeployment`` once per
    session and options (later calls get the same one); all stop at the session's end. Fails,
    naming what to install, when Airflow, its PostgreSQL drivers, moto or PostgreSQL is missing."""
    started: dict[str, AirflowDeployment] = {}

    def start(dags_folder: Path, **options: Any) -> AirflowDeployment:
        key = repr((str(Path(dags_folder).resolve()), sorted(options.items())))
        if key not in started:
            try:
                find_binaries()
                base = tmp_path_factory.mktemp("airflow-deployment")
                deployment = AirflowDeployment(dags_folder, base_dir=base, **options)
                started[key] = deployment.start()
            except DeploymentError as error:
                pytest.fail(str(error), pytrace=False)
        return started[key]

    yield start
    for deployment in reversed(started.values()):
        deployment.stop()
