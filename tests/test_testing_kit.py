"""The test kit as a user meets it: docs/testing.md copied into an empty project passes there,
a fixture whose server's package is missing fails with the install command, and importing the
kit (which pytest does in every session of a project with async_hooks) loads no server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _without_sdk import run_without

PAGE = Path(__file__).parent.parent / "docs" / "testing.md"
INSTALL = "pip install 'async-hooks[testing]'"

#: A fenced block: its language, the ``title="..."`` Material shows above it, its text.
_BLOCK = re.compile(r'^```(\w+)(?: title="([^"]+)")?\n(.*?)^```$', re.M | re.S)


def _blocks() -> list[tuple[str, str | None, str]]:
    return [(m[1], m[2], m[3]) for m in _BLOCK.finditer(PAGE.read_text(encoding="utf-8"))]


def _files() -> dict[str, str]:
    """The page's blocks that have a file name: the whole project a reader would copy."""
    return {title: text for _, title, text in _blocks() if title}


def _env() -> dict[str, str]:
    """This environment without the outer pytest's own variables (xdist's worker id, ...)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` in ``project``, with this venv (nothing is installed)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _write(project: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_page_names_a_whole_project():
    files = _files()
    assert "pyproject.toml" in files
    assert 'asyncio_mode = "auto"' in files["pyproject.toml"]
    tests = [name for name in files if name.startswith("tests/test_")]
    assert len(tests) >= 3, tests


@pytest.mark.once  # the docs page's project, not the interpreter
def test_the_testing_page_passes_in_an_empty_project(tmp_path):
    """Every file block of docs/testing.md, written into an empty directory: pytest passes
    there, every test runs (none skipped) and nothing warns (``-W error``)."""
    pytest.importorskip("aiobotocore", reason="the page's AWS example needs async-hooks[aws]")
    pytest.importorskip("gcloud.aio.storage", reason="the page's GCS example needs [gcp]")
    files = _files()
    _write(tmp_path, files)
    expected = sum(len(re.findall(r"^(?:async )?def test_", text, re.M)) for text in files.values())
    out = _pytest(tmp_path, "-W", "error")
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(rf"\b{expected} passed\b", summary), summary
    assert "skipped" not in summary and "warning" not in summary, summary


@pytest.mark.once  # the docs page's project, not the interpreter
def test_without_the_pages_configuration_async_tests_fail(tmp_path):
    """Why the page's pyproject.toml matters: without ``asyncio_mode``, pytest-asyncio's strict
    mode leaves unmarked ``async def`` tests to pytest, which fails them."""
    files = {name: text for name, text in _files().items() if name == "tests/test_flaky_api.py"}
    _write(tmp_path, files)
    out = _pytest(tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "async def functions are not natively supported" in out.stdout


def test_the_pages_import_block_names_real_exports():
    (block,) = [
        text
        for lang, title, text in _blocks()
        if lang == "python" and not title and "from async_hooks.testing import (" in text
    ]
    names = re.findall(r"^\s+(\w+),", block, re.M)
    import async_hooks.testing

    assert sorted(names) == names and set(names) <= set(async_hooks.testing.__all__)
    exec(compile(block, str(PAGE), "exec"), {})


@pytest.mark.parametrize(
    ("fixture", "needs", "blocked"),
    [
        ("moto_server", "moto[server]", "moto"),
        ("gcs_emulator", "gcp-storage-emulator", "gcp_storage_emulator"),
    ],
)
def test_a_fixture_without_its_server_fails_with_the_install_command(
    tmp_path, fixture, needs, blocked
):
    """The server's package blocked by a meta-path finder, as on a machine without the extra:
    the test errors (exit code 1, not skipped) and the message says what to install."""
    _write(tmp_path, {"pyproject.toml": _files()["pyproject.toml"]})
    _write(tmp_path, {"tests/test_it.py": f"def test_it({fixture}):\n    pass\n"})
    code = textwrap.dedent(
        f"""
        import os, sys
        os.chdir({str(tmp_path)!r})
        import pytest
        sys.exit(pytest.main(["-p", "no:cacheprovider", "-q"]))
        """
    )
    out = run_without([blocked], code)
    assert out.returncode == 1, out.stdout + out.stderr
    message = f"the {fixture} fixture needs {needs}, and {blocked!r} is not installed: {INSTALL}"
    assert message in out.stdout
    summary = out.stdout.strip().splitlines()[-1]
    assert "1 error" in summary and "skipped" not in summary, summary


def test_importing_the_kit_and_its_plugin_loads_no_server():
    """pytest imports the plugin in every session of a project with async_hooks installed:
    neither it nor ``async_hooks.testing`` may pull in aiohttp, moto or the emulator."""
    code = (
        "import json, sys\n"
        "import async_hooks.testing, async_hooks.testing.plugin\n"
        "heavy = ('aiohttp', 'moto', 'gcp_storage_emulator', 'botocore', 'async_hooks.aws')\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_the_kits_names_resolve_lazily_to_their_modules():
    import async_hooks.testing as kit
    from async_hooks.testing.gcp import GcsEmulator
    from async_hooks.testing.moto import MotoServer
    from async_hooks.testing.plugin import JobServer

    assert kit.MotoServer is MotoServer
    assert kit.GcsEmulator is GcsEmulator
    assert kit.JobServer is JobServer
    assert set(dir(kit)) >= set(kit.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        kit.Nope  # noqa: B018
