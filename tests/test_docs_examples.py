"""Every Python block of README.md and docs/*.md that is meant to run, runs: each in a fresh
interpreter, against servers on 127.0.0.1 (the test kit's job service, moto), never a cloud.

A block runs as written, unless an HTML comment right above it says otherwise (GitHub and the
site hide it):

- ``<!-- run with: SETUP -->``: run after ``SETUP`` (below) has started what the block talks to;
- ``<!-- run by: tests/FILE.py -->``: another test runs it (the file is checked to name the page);
- ``<!-- not run: REASON -->``: a fragment (a signature, an event's shape, a call that needs a
  cloud project); counted below, so that the number only grows on purpose.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: A docs page's commands, not the interpreter: run on the first Python present only.
pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: How many blocks are marked ``not run``. A new fragment raises it here, on purpose.
NOT_RUN = 14

_FENCE = re.compile(r"^```(?:python|\{\.python[^}]*\})[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_MARK = re.compile(r"<!-- (run with|run by|not run): (.+?) -->")

#: ``run with:`` setups: Python run before the block, in the same interpreter. Each defines
#: ``run(source, name)``, which runs the block's text.
_JOB_SERVER = """
import os
from async_hooks.testing import JobBoard, ThreadedServer, job_server_app
from async_hooks.testing.jobserver import _Job

board = JobBoard()
server = ThreadedServer(job_server_app(board)).start()
# job-1 succeeds, job-2 fails, job-3 succeeds a poll later; 42 succeeds
server.call(lambda: board.create(polls=0))
server.call(lambda: board.create(polls=0, outcome="FAILED", reason="exit code 1"))
server.call(lambda: board.create(polls=1))
server.call(lambda: board.jobs.setdefault("42", _Job("42", 0, "SUCCEEDED", None)))
os.environ["AIRFLOW_CONN_JOBS_API"] = server.url


def run(source, name):
    source = source.replace("https://jobs.example.com/api", server.url)
    try:
        exec(compile(source, name, "exec"), {"__name__": "__main__"})
    finally:
        server.close()
"""

_MOTO = """
import ast
import asyncio
import os
from async_hooks import AsyncAwsHook
from async_hooks.testing import MotoServer

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
moto = MotoServer().start()


def run(source, name):
    code = compile(source, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

    async def main():
        async with AsyncAwsHook(endpoint_url=moto.url, region_name="us-east-1") as hook:
            pending = eval(code, {"hook": hook})
            if pending is not None:
                await pending

    try:
        asyncio.run(main())
    finally:
        moto.stop()
"""

_GCS = """
import ast
import asyncio
import os
from async_hooks import AsyncGcpHook
from async_hooks.testing import GcsEmulator

gcs = GcsEmulator().start()
os.environ["STORAGE_EMULATOR_HOST"] = gcs.url
gcs.create_bucket("bucket")


def run(source, name):
    code = compile(source, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

    async def main():
        async with AsyncGcpHook(project="test-project") as hook:
            await hook.upload("bucket", "path/_SUCCESS", b"done")
            pending = eval(code, {"hook": hook})
            if pending is not None:
                await pending

    try:
        asyncio.run(main())
    finally:
        gcs.stop()
"""

_NESTED_JOB_API = """
import ast
import asyncio
from aiohttp import web
from async_hooks import AsyncHttpHook
from async_hooks.testing import ThreadedServer

describes = []


async def create(request):
    await request.json()
    return web.json_response({"job": {"id": "42", "state": "PENDING"}}, status=201)


async def describe(request):
    describes.append(request.match_info["id"])
    state = "RUNNING" if len(describes) < 2 else "SUCCEEDED"
    return web.json_response({"job": {"id": request.match_info["id"], "state": state}})


app = web.Application()
app.router.add_post("/jobs", create)
app.router.add_get("/jobs/{id}", describe)
server = ThreadedServer(app).start()


def run(source, name):
    code = compile(source, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

    async def main():
        async with AsyncHttpHook(server.url) as hook:
            pending = eval(code, {"hook": hook})
            if pending is not None:
                await pending

    try:
        asyncio.run(main())
    finally:
        server.close()
"""

SETUPS = {
    "jobs.example.com is the test kit's job server, with jobs job-1 to job-3": _JOB_SERVER,
    "AIRFLOW_CONN_JOBS_API naming the test kit's job server, with a job 42": _JOB_SERVER,
    "hook, an AsyncAwsHook on a moto server": _MOTO,
    "hook, an AsyncGcpHook on the GCS emulator, with a bucket holding path/_SUCCESS": _GCS,
    "hook, an AsyncHttpHook on a job API that answers {job: {state, error}}": _NESTED_JOB_API,
}


class Block:
    def __init__(self, page: Path, line: int, source: str, mark: tuple[str, str] | None) -> None:
        self.page, self.line, self.source = page, line, source
        self.how, self.detail = mark or ("run", "")

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks() -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            mark = None
            # The HTML comments right above the fence (an inlined copy's marker may be one).
            for before in reversed(text[: match.start()].rstrip().split("\n")):
                if not before.startswith("<!--"):
                    break
                mark = mark or _MARK.fullmatch(before.strip())
            line = text.count("\n", 0, match.start()) + 1
            found.append(Block(page, line, match[1], mark.groups() if mark else None))  # type: ignore[arg-type]
    return found


BLOCKS = _blocks()
#: The README's first block: its example, whose output the text after it quotes.
README_EXAMPLE = next(b for b in BLOCKS if b.page == PAGES[0])


def _readme_says() -> str:
    readme = PAGES[0].read_text(encoding="utf-8")
    after = readme[readme.index(README_EXAMPLE.source) + len(README_EXAMPLE.source) :]
    quoted = re.match(r"```\n\nIt prints `([^`]+)`", after)
    assert quoted, "the README says what its example prints, right after it"
    return quoted[1]


def _env() -> dict[str, str]:
    """This environment without the outer pytest's variables, credentials or connections."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "AWS_", "GOOGLE_", "AIRFLOW_CONN_", "ASYNC_HOOKS_"))
    }


def _python(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "example.py"
    path.write_text(script, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-W", "error", str(path)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.how in {"run", "run with"}], ids=lambda b: b.name
)
def test_the_block_runs(tmp_path, block):
    if block.how == "run":
        script = block.source
    else:
        assert block.detail in SETUPS, f"{block.name}: no setup {block.detail!r} in this file"
        script = SETUPS[block.detail] + f"\nrun({block.source!r}, {block.name!r})\n"
    out = _python(tmp_path, script)
    assert out.returncode == 0, f"{block.name}\n{out.stdout}\n{out.stderr}"
    if block is README_EXAMPLE:
        assert out.stdout.strip() == _readme_says(), out.stdout


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.how == "run by"], ids=lambda b: b.name)
def test_the_block_is_run_by_another_test(block):
    """The runner reads the block from its page, or the block is the runner's own text (a
    test file the page shows, kept equal by tests/test_docs_inlined.py)."""
    runner = ROOT / block.detail
    assert runner.is_file(), f"{block.name}: {block.detail} does not exist"
    text = runner.read_text(encoding="utf-8")
    assert block.page.name in text or block.source == text, (
        f"{block.detail} does not read {block.page.name}"
    )


def test_the_blocks_not_run_are_counted():
    skipped = [f"{b.name}: {b.detail}" for b in BLOCKS if b.how == "not run"]
    assert len(skipped) == NOT_RUN, "\n".join(skipped)
    assert all(b.detail.strip() for b in BLOCKS if b.how == "not run")


def test_the_readme_example_is_short_and_runs_as_written():
    code = [line for line in README_EXAMPLE.source.splitlines() if line.strip()]
    assert README_EXAMPLE.how == "run"
    assert len(code) <= 16, textwrap.indent(README_EXAMPLE.source, "    ")
