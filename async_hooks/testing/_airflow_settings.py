"""The environment every process of a deployment shares: Airflow's settings (PostgreSQL, the
LocalExecutor, one api-server, shared secrets) with health thresholds lowered so that a dead
triggerer's triggers move within seconds, and fake AWS credentials that reach only moto."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

__all__ = ["HOSTNAME_CALLABLE", "airflow_environment", "hostname"]

#: ``[core] hostname_callable`` for a process that must be told apart from its neighbours on
#: this machine (a triggerer's job row holds its hostname, not its PID).
HOSTNAME_CALLABLE = "async_hooks.testing._airflow_settings.hostname"


def hostname() -> str:
    """The name a deployment gave this process (``ASYNC_HOOKS_HOSTNAME``)."""
    return os.environ["ASYNC_HOOKS_HOSTNAME"]


#: Seconds: how often triggerers and the scheduler beat, and when a silent triggerer's triggers
#: go to another (Airflow's defaults: 5 and 30). At 10 s, a triggerer starved of CPU on two busy
#: cores lost its triggers to the other while alive; 20 s has not.
HEARTBEAT = 1
TRIGGERER_HEALTH_THRESHOLD = 20


def airflow_environment(
    *,
    home: Path,
    dags_folder: Path,
    database_url: str,
    async_database_url: str,
    api_port: int,
    moto_url: str,
    parallelism: int,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """This process's environment without its ``AIRFLOW*``/``AWS_*`` variables, plus the
    deployment's settings and ``extra`` (which wins)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))}
    api = f"http://127.0.0.1:{api_port}"
    settings = {
        "core": {
            "dags_folder": str(dags_folder),
            "load_examples": "False",
            "executor": "LocalExecutor",
            "parallelism": str(parallelism),
            "max_active_tasks_per_dag": "100000",
            "max_active_runs_per_dag": "100",
            "max_map_length": "100000",
            "default_pool_task_slot_count": "100000",
            "dags_are_paused_at_creation": "False",
            "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "execution_api_server_url": f"{api}/execution/",
            "simple_auth_manager_all_admins": "True",  # the REST API needs no login
            "min_serialized_dag_update_interval": "5",
        },
        "database": {
            "sql_alchemy_conn": database_url,
            "sql_alchemy_conn_async": async_database_url,
        },
        "api": {
            "host": "127.0.0.1",
            "port": str(api_port),
            "base_url": api,
            "secret_key": secrets.token_urlsafe(24),
            "workers": "1",
        },
        "api_auth": {"jwt_secret": secrets.token_urlsafe(32)},  # shared: scheduler and api-server
        "scheduler": {
            "job_heartbeat_sec": str(HEARTBEAT),
            "scheduler_heartbeat_sec": str(HEARTBEAT),
            "task_instance_heartbeat_timeout": "30",  # a killed worker's task fails (or retries)
            "task_instance_heartbeat_timeout_detection_interval": "2",
            "trigger_timeout_check_interval": "2",
            "parsing_cleanup_interval": "10",
        },
        "triggerer": {
            "job_heartbeat_sec": str(HEARTBEAT),
            "triggerer_health_check_threshold": str(TRIGGERER_HEALTH_THRESHOLD),
            "max_trigger_to_select_per_loop": "10",  # new triggers spread over both triggerers
        },
        "dag_processor": {
            "refresh_interval": "5",
            "bundle_refresh_check_interval": "2",
            "min_file_process_interval": "30",
            "parsing_processes": "1",
            "stale_dag_threshold": "600",
        },
        "logging": {"colored_console_log": "False", "base_log_folder": str(home / "logs")},
    }
    env["AIRFLOW_HOME"] = str(home)
    for section, options in settings.items():
        for name, value in options.items():
            env[f"AIRFLOW__{section.upper()}__{name.upper()}"] = value
    missing = str(home / "no-aws-config")
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": missing,
            "AWS_SHARED_CREDENTIALS_FILE": missing,
            "AWS_EC2_METADATA_DISABLED": "true",
            "ASYNC_HOOKS_MOTO_URL": moto_url,  # for DAG code that starts jobs on moto
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env
