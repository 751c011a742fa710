"""What the README and the docs say about the project that a reader acts on: nox is run as the
README installs it (``.venv/bin/python -m nox``), and the extras tables name every extra that
pyproject.toml defines, with ``all`` being what they say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_nox_is_run_as_the_readme_installs_it(page):
    """The README installs nox only in .venv/: a bare ``nox`` is not on a new user's PATH."""
    text = page.read_text(encoding="utf-8")
    bare = [m.group(0) for m in re.finditer(r"(?<!-m )(?<![\w/.-])nox -s\b[^`\n]*", text)]
    assert not bare, f"{page.name}: write .venv/bin/python -m nox -s ...: {bare}"


def _extras() -> dict[str, list[str]]:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    return extras


@pytest.mark.parametrize("page", ["README.md", "docs/getting-started.md"])
def test_the_extras_tables_name_every_extra(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", text, re.M))
    assert set(_extras()) <= set(rows), set(_extras()) - set(rows)
    assert rows["all"].startswith("aws, gcp, uvloop and otel:")


def test_all_is_every_run_time_extra():
    all_ = _extras()["all"]
    assert all_ == ["async-hooks[aws,gcp,uvloop,otel]"]
