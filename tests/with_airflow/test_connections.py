"""Inside Airflow, a hook's ``conn_id`` goes through Airflow's own look-up: its secrets backends
(here Airflow's LocalFilesystemBackend, configured as Airflow users do), then the environment."""

from __future__ import annotations

import asyncio
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


async def test_concurrent_triggers_share_one_airflow_look_up(secrets_backend, monkeypatch):
    """A triggerer starting 300 triggers on one connection asks Airflow once; a wave started
    soon after is served the same answer; once ``KEEP_FOUND`` has passed, the next look-up
    asks again (a rotated secret is seen)."""
    from async_hooks.connections import _airflow
    from async_hooks.connections._airflow import airflow_connection_shared

    monkeypatch.setattr(_airflow, "KEEP_FOUND", 0.5)
    secrets_backend({"shared": {"conn_type": "aws", "login": "AKID1", "password": "one"}})
    found = await asyncio.gather(*(airflow_connection_shared("shared") for _ in range(300)))
    assert len({id(conn) for conn in found}) == 1
    assert found[0].password == "one"
    secrets_backend({"shared": {"conn_type": "aws", "login": "AKID2", "password": "two"}})
    assert await airflow_connection_shared("shared") is found[0]  # the next wave: kept
    await asyncio.sleep(0.6)  # KEEP_FOUND has passed: time itself is what is tested here
    again = await airflow_connection_shared("shared")
    assert (again.login, again.password) == ("AKID2", "two")


async def test_a_cancelled_caller_does_not_fail_the_others(secrets_backend):
    from async_hooks.connections._airflow import airflow_connection_shared

    secrets_backend({"shared": {"conn_type": "aws", "login": "AKID"}})
    first = asyncio.create_task(airflow_connection_shared("shared"))
    second = asyncio.create_task(airflow_connection_shared("shared"))
    await asyncio.sleep(0)
    first.cancel()
    assert (await second).login == "AKID"
    with pytest.raises(asyncio.CancelledError):
        await first
