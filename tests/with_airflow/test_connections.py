"""Inside Airflow, a hook's ``conn_id`` goes through Airflow's own look-up: its secrets backends
(here Airflow's LocalFilesystemBackend, configured as Airflow users do), then the environment."""

from __future__ import annotations

import sys

import pytest

import async_hooks.airflow  # noqa: F401  (loads Airflow, as any Airflow process has)
from async_hooks import AsyncHttpHook, HookConfigError
from async_hooks.aws import AsyncAwsHook


def test_airflow_is_loaded_here():
    assert "airflow.sdk" in sys.modules


def test_a_connection_only_the_secrets_backend_knows_is_found(secrets_backend):
    secrets_backend(
        {
            "vaulted": {
                "conn_type": "aws",
                "login": "AKIDVAULT",
                "password": "vault-secret",
                "extra": {"region_name": "eu-west-3", "endpoint_url": "http://127.0.0.1:9"},
            }
        }
    )
    hook = AsyncAwsHook(conn_id="vaulted")
    assert hook.region_name == "eu-west-3"
    assert hook.endpoint_url == "http://127.0.0.1:9"
    assert "vault-secret" not in repr(hook)


def test_airflow_connections_from_the_environment_are_found(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_API", "http://user:pw@api.example.com:8443/v1?token=t0k3n")
    hook = AsyncHttpHook(conn_id="api")
    assert str(hook.base_url).startswith("http://api.example.com:8443")


def test_async_hooks_own_variable_still_wins(monkeypatch, secrets_backend):
    secrets_backend({"both": {"conn_type": "aws", "extra": {"region_name": "eu-west-1"}}})
    monkeypatch.setenv("ASYNC_HOOKS_CONN_BOTH", "aws://?region_name=ap-south-1")
    assert AsyncAwsHook(conn_id="both").region_name == "ap-south-1"


def test_an_unknown_conn_id_is_a_config_error_naming_where_it_looked():
    with pytest.raises(HookConfigError, match=r"'nowhere'.*secrets backends.*AIRFLOW_CONN_NOWHERE"):
        AsyncAwsHook(conn_id="nowhere")
