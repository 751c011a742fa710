"""The documentation site, built with ``mkdocs build --strict`` as ``nox -s docs`` does: the AWS
page shows its example, the changelog page the CHANGELOG, every public name has an API reference
entry, and an include line (which GitHub would show as text; a missing file; a line a formatter
turned into something else) fails the build.

mkdocs is in the ``docs`` dependency group, not the ``test`` one: ``nox -s docs`` runs this file
after the build; the ``tests`` sessions run it with ``.nox/docs`` when that session has been made
once, and skip it (saying so) otherwise.
"""

from __future__ import annotations

import ast
import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The AWS page's inlined example (tests/test_docs_inlined.py keeps it equal to the file).
INLINED = re.compile(
    r"^<!-- inlined from tests/test_docs_aws_example.py\b.*?^<!-- end of [^>]+ -->$", re.M | re.S
)

#: Each reference page and the modules whose ``__all__`` it documents.
PAGES = {
    "async_hooks": ["async_hooks"],
    "aws": ["async_hooks.aws"],
    "gcp": ["async_hooks.gcp"],
    "http": ["async_hooks.http"],
    "airflow": ["async_hooks.airflow"],
    "connections": ["async_hooks.connections"],
    "errors": ["async_hooks.errors"],
    "testing": [
        "async_hooks.testing",
        "async_hooks.testing.plugin",
        "async_hooks.testing.aws_jobs",
        "async_hooks.testing.memory",
    ],
}


def _mkdocs_python() -> str | None:
    """An interpreter with mkdocs and mkdocstrings: this one, else the docs session's."""
    if importlib.util.find_spec("mkdocs") and importlib.util.find_spec("mkdocstrings"):
        return sys.executable
    made = ROOT / ".nox" / "docs" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return str(made) if made.exists() else None


PYTHON = _mkdocs_python()
needs_mkdocs = pytest.mark.skipif(
    PYTHON is None,
    reason="mkdocs is not installed here; `nox -s docs` builds the site and runs these tests",
)


def _build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    assert PYTHON is not None
    return subprocess.run(
        [PYTHON, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _text(page: Path) -> str:
    """A built page's text, as a reader sees it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def _exported(module: str) -> list[str]:
    """A module's ``__all__``, read from its source (the Airflow adapter is not importable here)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            names: list[str] = ast.literal_eval(node.value)
            return names
    raise AssertionError(f"{module} has no __all__")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = tmp_path_factory.mktemp("site")
    out = _build(ROOT, built)
    assert out.returncode == 0, out.stdout + out.stderr
    return built


@needs_mkdocs
def test_the_aws_page_shows_its_example_not_its_include_line(site):
    text = _text(site / "aws" / "index.html")
    assert "async def test_wait_for_a_glue_run(moto_server):" in text
    assert "8<" not in text and "8 <" not in text


@needs_mkdocs
def test_the_changelog_page_shows_the_changelog(site):
    text = _text(site / "changelog" / "index.html")
    assert "Keep a Changelog" in text and "[Unreleased]" in text


@needs_mkdocs
@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_public_name_has_a_reference_entry(site, page):
    built = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
    missing = [
        f"{module}.{name}"
        for module in PAGES[page]
        for name in _exported(module)
        if f'id="{module}.{name}"' not in built
    ]
    assert not missing, f"reference/{page}.md documents none of {missing}"


def test_every_public_module_has_a_reference_page():
    """A new public package (``async_hooks/<name>/``, not ``_private``) needs its page here."""
    public = {
        path.stem if path.suffix else path.name
        for path in (ROOT / "async_hooks").iterdir()
        if not path.name.startswith("_")
        and (path.suffix == ".py" or (path / "__init__.py").exists())
        and path.name not in {"cli.py", "py.typed"}
    }
    assert public <= set(PAGES), public - set(PAGES)


def _copy_project(destination: Path) -> Path:
    """What the build reads: mkdocs.yml, docs/, the package (for the API reference) and every
    file an include names."""
    destination.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", destination)
    shutil.copytree(ROOT / "docs", destination / "docs")
    shutil.copytree(
        ROOT / "async_hooks", destination / "async_hooks", ignore=shutil.ignore_patterns("*.pyc")
    )
    for page in (ROOT / "docs").rglob("*.md"):
        for shown in re.findall(r"^<!-- the site shows (\S+) here", page.read_text("utf-8"), re.M):
            target = destination / shown
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / shown, target)
    return destination


@needs_mkdocs
@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ('--8<-- "tests/test_docs_aws_example.py"', "GitHub shows as text"),
        ('--8<-- "tests/no_such_example.py"', "GitHub shows as text"),
        # What ``ruff format`` makes of the include inside a ```python fence:
        ('--8 < --"tests/test_docs_aws_example.py"', "GitHub shows as text"),
    ],
    ids=["include", "missing-file", "formatter-mangled"],
)
def test_an_include_line_fails_the_build(tmp_path, broken, expected):
    project = _copy_project(tmp_path / "project")
    aws = project / "docs" / "aws.md"
    source = aws.read_text(encoding="utf-8")
    assert INLINED.search(source)
    aws.write_text(INLINED.sub(lambda _: broken, source), encoding="utf-8")
    out = _build(project, tmp_path / "site")
    assert out.returncode != 0
    assert expected in out.stdout + out.stderr


REPOSITORY = "https://github.com/async-hooks/async-hooks"
BLOB = REPOSITORY + "/blob/main/"
RAW = "https://raw.githubusercontent.com/async-hooks/async-hooks/main/"


def test_the_readmes_links_and_images_are_absolute():
    """PyPI shows the README without the repository around it: a relative link is dead there,
    a relative image is missing. The repository's own files go through one base URL."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)", readme)
    links += re.findall(r"^\[[^\]]+\]:\s*(\S+)", readme, re.M)
    links += re.findall(r"<(?:img|a)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", readme)
    assert links
    relative = [link for link in links if not link.startswith(("https://", "http://", "#"))]
    assert not relative, relative
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", readme)
    ours = [link for link in images if "async-hooks/async-hooks" in link]
    assert all(link.startswith(RAW) for link in ours), ours
    stray = [
        link
        for link in set(links) - set(images)
        if "async-hooks/async-hooks" in link and not link.startswith(REPOSITORY)
    ]
    assert not stray, stray


def test_the_project_urls_point_at_the_repository():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert set(urls) >= {"Homepage", "Documentation", "Repository", "Changelog", "Issues"}
    assert all(url.startswith(REPOSITORY) for url in urls.values()), urls
    assert urls["Changelog"] == BLOB + "CHANGELOG.md"
