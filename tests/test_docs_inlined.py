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
