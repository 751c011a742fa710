"""The README's install paths, as a new user takes them, each into an empty virtual environment
made with the system's pip (``python -m venv``): ``pip install '.[aws]'`` in a clone, and a
wheel built with ``python -m build`` installed with its extras. The wheel and the sdist ship
the Apache 2.0 LICENSE.

These need the package index (pip fetches the build backend and the dependencies, as it does
for a user); where it cannot be reached they are skipped, saying so. Slow: a minute or two.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: sha256 of the Apache License 2.0 as apache.org publishes it (LICENSE-2.0.txt).
APACHE_2_0 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

# Packaging does not depend on the interpreter: nox runs these on the first Python present only.
pytestmark = [pytest.mark.slow, pytest.mark.once]


def _version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]  # type: ignore[index]


def _index_reachable() -> bool:
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple")
    host = urlsplit(index).hostname or "pypi.org"
    try:
        with socket.create_connection((host, urlsplit(index).port or 443), timeout=10):
            return True
    except OSError:
        return False


needs_index = pytest.mark.skipif(
    not _index_reachable(), reason="the package index cannot be reached from here"
)


def _env() -> dict[str, str]:
    """This environment without the outer pytest's or virtual environment's variables."""
    dropped = ("PYTEST_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    out = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert out.returncode == 0, f"{shlex.join(map(str, args))}\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _empty_venv(path: Path) -> Path:
    """A new virtual environment with the base interpreter's pip (ensurepip) and nothing else."""
    base = getattr(sys, "_base_executable", sys.executable)
    made = subprocess.run([base, "-m", "venv", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"python -m venv cannot make an environment with pip here: {made.stderr}")
    return path / ("Scripts" if os.name == "nt" else "bin")


def _clone(destination: Path) -> Path:
    """The files a clone has: tracked ones, and new ones not ignored (this checkout's own)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: no clone to install from")
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _console_lines() -> list[str]:
    lines: list[str] = []
    for block in re.findall(r"^```console\n(.*?)^```$", README, re.M | re.S):
        lines += [line.split("  #")[0].strip() for line in block.splitlines()]
    return lines


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _clone(tmp_path_factory.mktemp("clone"))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, clone: Path) -> Path:
    """``python -m build`` in the clone, as the README says: an sdist, and a wheel built from it."""
    bin_ = _empty_venv(tmp_path_factory.mktemp("builder") / "venv")
    assert "python -m build" in _console_lines()
    _run(bin_ / "python", "-m", "pip", "install", "-q", "build")
    out = tmp_path_factory.mktemp("built") / "dist"
    _run(bin_ / "python", "-m", "build", "--outdir", out, clone)
    return out


@needs_index
def test_the_readme_install_line_installs_into_an_empty_venv(tmp_path, clone):
    """``pip install '.[aws]'`` in the clone; then the README's example runs there, and the
    command says which providers are installed."""
    line = "pip install '.[aws]'"
    assert line in _console_lines(), "the README's install line"
    bin_ = _empty_venv(tmp_path / "venv")
    _run(bin_ / "python", "-m", *shlex.split(line), "-q", cwd=clone)
    _run(bin_ / "python", "-c", "import aiobotocore, async_hooks.aws")
    example = re.search(r"^```python\n(.*?)^```$", README, re.M | re.S)[1]  # type: ignore[index]
    (tmp_path / "example.py").write_text(example, encoding="utf-8")
    printed = _run(bin_ / "python", "-W", "error", tmp_path / "example.py", cwd=tmp_path)
    assert "1000 of 1000 succeeded" in printed
    helped = _run(bin_ / "async-hooks", "--help")
    assert re.search(r"^  aws +AsyncAwsHook +installed", helped, re.M), helped
    assert re.search(r"^  gcp +AsyncGcpHook +not installed: pip install", helped, re.M), helped


@needs_index
def test_the_wheel_and_the_sdist_ship_the_license(dist):
    license_text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(license_text).hexdigest() == APACHE_2_0, "LICENSE is not Apache 2.0"
    version = _version()
    wheel = dist / f"async_hooks-{version}-py3-none-any.whl"
    sdist = dist / f"async_hooks-{version}.tar.gz"
    with zipfile.ZipFile(wheel) as archive:
        info = f"async_hooks-{version}.dist-info"
        assert archive.read(f"{info}/licenses/LICENSE") == license_text
        metadata = archive.read(f"{info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"async_hooks-{version}/LICENSE")
        assert member is not None and member.read() == license_text


@needs_index
def test_the_built_wheel_installs_with_its_extras(tmp_path, dist):
    """The README's wheel line, with the version this checkout builds."""
    line = f"pip install 'dist/async_hooks-{_version()}-py3-none-any.whl[aws,gcp]'"
    assert line in _console_lines(), f"the README names the wheel this checkout builds: {line}"
    bin_ = _empty_venv(tmp_path / "venv")
    _run(bin_ / "python", "-m", *shlex.split(line), "-q", cwd=dist.parent)
    helped = _run(bin_ / "async-hooks", "--help")
    assert re.search(r"^  aws +AsyncAwsHook +installed", helped, re.M), helped
    assert re.search(r"^  gcp +AsyncGcpHook +installed", helped, re.M), helped
