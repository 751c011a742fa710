"""A deployment starts whatever else holds the port picked for its api-server: a port free when
picked may be bound by another process before the server binds it (the OS hands the same
ephemeral ports to outgoing connections). Here this test binds the picked port itself."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from async_hooks.testing import deployment as module
from async_hooks.testing.deployment import AirflowDeployment, DeploymentError


def test_an_api_server_whose_port_was_taken_starts_on_another(tmp_path: Path, monkeypatch):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    picks: list[int] = []
    real = module.free_port

    def free_port() -> int:
        port = taken if len(picks) == 1 else real()  # the second pick: the api-server's
        picks.append(port)
        return port

    monkeypatch.setattr(module, "free_port", free_port)
    dags = tmp_path / "dags"
    dags.mkdir()
    deployment = AirflowDeployment(dags, base_dir=tmp_path / "deployment", triggerers=0)
    try:
        try:
            deployment.start()
        except DeploymentError as error:
            pytest.fail(str(error), pytrace=False)
        assert picks[1] == taken and len(picks) >= 3, picks
        assert deployment.api.base.endswith(f":{picks[-1]}") and picks[-1] != taken
        assert deployment.api.ok("/monitor/health")
        log = (tmp_path / "deployment" / "logs" / "api-server.log").read_text()
        assert "address already in use" in log.lower()
    finally:
        deployment.stop()
        holder.close()
