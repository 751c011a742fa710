"""Pages read whole on GitHub: no page has an include line (GitHub shows it as text); a file a
page shows is inlined between ``<!-- inlined from PATH ... -->`` and ``<!-- end of PATH -->``,
and each copy equals its file. A benchmark's copy may start with the stamp its script writes
(``_Measured ..._``); a test file's copy sits in a code fence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_REGION = re.compile(
    r"^<!-- inlined from (\S+?):? [^\n]*-->\n(.*?)^<!-- end of \1 -->$", re.M | re.S
)
_STAMP = re.compile(r"\A_Measured [^\n]*?\._(?: |\n\n)")
_FENCED = re.compile(r"\A```[^\n]*\n(.*)^```\n\Z", re.M | re.S)
#: As docs/_hooks/includes.py: anything that looks like a pymdownx.snippets include line.
_INCLUDE = re.compile(r"^[ \t]*;?-+[ \t]*8[ \t]*<[ \t]*-+.*$", re.M)

#: What the pages show, inlined (a page that stops showing one drops it here).
EXPECTED = {
    ("docs/aws.md", "tests/test_docs_aws_example.py"),
    ("docs/airflow.md", "benchmarks/results/latest-airflow.md"),
    ("docs/airflow.md", "benchmarks/results/latest-airflow-deployment.md"),
    ("docs/benchmarks.md", "benchmarks/results/latest-full.md"),
}


def _copies() -> list[tuple[str, str, str]]:
    return [
        (str(page.relative_to(ROOT)), match[1], match[2])
        for page in PAGES
        for match in _REGION.finditer(page.read_text(encoding="utf-8"))
    ]


def test_the_pages_inline_what_they_show():
    assert {(page, source) for page, source, _ in _copies()} == EXPECTED


@pytest.mark.parametrize(("page", "source", "copy"), _copies(), ids=lambda v: str(v)[:40])
def test_each_copy_equals_its_file(page, source, copy):
    body = _STAMP.sub("", copy, count=1)
    fenced = _FENCED.match(body)
    if fenced:
        body = fenced[1]
    expected = (ROOT / source).read_text(encoding="utf-8")
    assert body.strip("\n") == expected.strip("\n"), (
        f"{page}'s copy of {source} differs from the file: copy the file between the markers"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_has_an_include_line(page):
    found = _INCLUDE.findall(page.read_text(encoding="utf-8"))
    assert not found, f"{page.name}: GitHub shows {found} as text; inline the file instead"


def test_a_full_benchmark_run_rewrites_the_copy_it_publishes(tmp_path, monkeypatch):
    """``benchmarks.run.publish`` writes latest-full.md between the page's markers, stamped
    with the commit (here none: a copy outside git), and the copy still equals the file."""
    run = pytest.importorskip("benchmarks.run", reason="the benchmarks' own dependencies")

    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "benchmarks.md"
    page.write_text((ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8"))
    monkeypatch.setattr(run, "ROOT", tmp_path)
    monkeypatch.setattr(run, "PAGE", page)
    table = tmp_path / "latest-full.md"
    table.write_text("### Benchmark results (a new run)\n\n| a |\n|---|\n| 1 |\n")
    plot = tmp_path / "latest-full.png"
    plot.write_bytes(b"png")
    run.publish(table, plot)
    ((source, copy),) = [(m[1], m[2]) for m in _REGION.finditer(page.read_text())]
    assert source == "benchmarks/results/latest-full.md"
    assert copy.startswith("_Measured on commit unknown._\n\n")
    assert _STAMP.sub("", copy, count=1) == table.read_text()
    assert (tmp_path / "docs" / "assets" / "bench-full.png").read_bytes() == b"png"


def test_the_airflow_benchmark_rewrites_the_copy_it_publishes(tmp_path, monkeypatch):
    airflow_triggers = pytest.importorskip(
        "benchmarks.airflow_triggers", reason="the benchmarks' own dependencies"
    )

    page = tmp_path / "airflow.md"
    page.write_text((ROOT / "docs" / "airflow.md").read_text(encoding="utf-8"))
    monkeypatch.setattr(airflow_triggers, "README", page)
    airflow_triggers.publish("N runs ...\n\n| a |\n|---|\n| 1 |\n", "2026-12-06T00:00:00Z")
    copies = {m[1]: m[2] for m in _REGION.finditer(page.read_text())}
    copy = copies["benchmarks/results/latest-airflow.md"]
    assert copy.startswith("_Measured 2026-12-06T00:00:00Z._ N runs")
    assert _STAMP.sub("", copy, count=1) == "N runs ...\n\n| a |\n|---|\n| 1 |\n"
