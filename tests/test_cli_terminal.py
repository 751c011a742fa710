"""The command as a user runs it, in a subprocess: the live display under a pseudo-terminal,
plain lines in a pipe, Ctrl-C (SIGINT once the server has seen a describe call), the AWS demo.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import threading
import time

import aiohttp
import pytest
from aiohttp import web

from async_hooks._cli.display import PENDING, Tracker, footer
from async_hooks._cli.exitcodes import INTERRUPTED, OK
from async_hooks.testing.aws_jobs import create_glue_job, start_glue_runs
from async_hooks.testing.fault_proxy import _HOP_BY_HOP

CLI = [sys.executable, "-m", "async_hooks.cli"]


def _glue_runs(moto_server, count: int, times: int) -> tuple[str, list[str]]:
    """A Glue job whose runs stay in each state for ``times`` describes, and ``count`` runs."""
    from async_hooks import AsyncAwsHook

    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": times})

    async def start() -> list[str]:
        async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
            return await start_glue_runs(hook, await create_glue_job(hook, "etl", count), count)

    return "etl", asyncio.run(start())


def _env() -> dict[str, str]:
    """The moto_server fixture's AWS environment, a terminal type and width."""
    return {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40"}


def _run_in_pty(argv: list[str], deadline: float = 120.0) -> tuple[int, str]:
    """Run ``argv`` with stdout and stderr on a pseudo-terminal; its exit code and output."""
    master, slave = os.openpty()
    proc = subprocess.Popen(argv, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=_env())
    os.close(slave)
    chunks: list[bytes] = []
    end = time.monotonic() + deadline
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], end - time.monotonic())
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_the_live_display_on_a_terminal(moto_server):
    job, runs = _glue_runs(moto_server, 3, times=2)
    argv = [*CLI, "wait", "aws", "glue", *runs, "--job-name", job, "--endpoint-url",
            moto_server.url, "--poll-interval", "0.1"]  # fmt: skip
    code, out = _run_in_pty(argv)
    assert code == OK, out
    assert "\x1b[" in out  # drawn and redrawn in place, not printed line by line
    assert "glue" in out and "3 jobs" in out
    assert "API calls" in out and "elapsed 0:0" in out
    assert "-> " not in out  # no status-change lines on a terminal: the summary redraws
    for run in runs:
        assert f"{run}: SUCCEEDED after" in out
    assert "3 succeeded, 0 failed, 0 timed out, 0 errors" in out
    assert "Traceback" not in out


def test_plain_status_lines_when_piped(moto_server):
    job, runs = _glue_runs(moto_server, 2, times=1)
    argv = [*CLI, "wait", "aws", "glue", *runs, "--job-name", job, "--endpoint-url",
            moto_server.url, "--poll-interval", "0.05"]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=_env())
    assert out.returncode == OK, out.stderr
    assert "\x1b[" not in out.stdout
    for run in runs:
        assert f"glue {run}: new -> " in out.stdout
        assert f"glue {run}: RUNNING -> SUCCEEDED" in out.stdout


def _recording_proxy(threaded_server, upstream: str, target: str):
    """A proxy in front of moto that sets an event once moto has answered a call whose
    ``X-Amz-Target`` starts with ``target``."""
    seen = threading.Event()
    key = web.AppKey("session", aiohttp.ClientSession)

    async def open_session(app: web.Application) -> None:
        app[key] = aiohttp.ClientSession(auto_decompress=False)

    async def close_session(app: web.Application) -> None:
        await app[key].close()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with request.app[key].request(
            request.method, upstream + request.rel_url.path_qs, headers=headers, data=body or None
        ) as answer:
            payload = await answer.read()
            back = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        if request.headers.get("X-Amz-Target", "").startswith(target):
            seen.set()
        return web.Response(status=answer.status, body=payload, headers=back)

    app = web.Application()
    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_route("*", "/{tail:.*}", handle)
    return threaded_server(app).url, seen


#: Runs the command with SIGINT at its default (as at a terminal), whatever the test inherited.
_WITH_CTRL_C = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'async-hooks'; runpy.run_module('async_hooks.cli', run_name='__main__')"
)


def test_ctrl_c_is_one_line_and_exit_130(moto_server, threaded_server):
    job, runs = _glue_runs(moto_server, 2, times=100_000)  # they stay RUNNING
    url, seen = _recording_proxy(threaded_server, moto_server.url, "AWSGlue.GetJobRun")
    args = ["wait", "aws", "glue", *runs, "--job-name", job, "--endpoint-url", url,
            "--poll-interval", "0.05"]  # fmt: skip
    # A Ctrl-C at a terminal: SIGINT at its default. A shell that started this run in the
    # background (``.ci/run &``) hands its children SIGINT ignored, which the command respects.
    argv = [sys.executable, "-c", _WITH_CTRL_C, *args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())  # fmt: skip
    try:
        assert seen.wait(timeout=120), "the command never described the runs"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()  # reaped and its pipes closed: nothing leaks into later tests
    assert proc.returncode == INTERRUPTED, err
    assert err == "interrupted\n"
    assert "Traceback" not in out


@pytest.mark.parametrize("poll", [1.0])
def test_the_tracker_counts_statuses_and_tells_the_next_poll(poll):
    now = [100.0]
    calls = [0]
    tracker = Tracker("glue", ["a", "b", "c"], lambda: calls[0], poll, clock=lambda: now[0])
    assert tracker.snapshot().counts == [(PENDING, 3)]
    assert tracker.snapshot().next_poll is None  # no call yet: nothing to count from
    calls[0] = 1
    tracker.update("a", "RUNNING")
    tracker.update("b", "RUNNING")
    assert tracker.update("a", "SUCCEEDED") == "RUNNING"
    snapshot = tracker.snapshot()
    assert snapshot.counts == [(PENDING, 1), ("RUNNING", 1), ("SUCCEEDED", 1)]
    now[0] += 0.25
    snapshot = tracker.snapshot()
    assert snapshot.next_poll == pytest.approx(0.75) and snapshot.calls == 1
    assert footer(snapshot) == "elapsed 0:00 · API calls 1 · next poll in 0.8s"
    for job in "abc":
        tracker.end(job)
    assert tracker.snapshot().next_poll is None  # nothing left to poll


def test_the_aws_demo_shows_every_phase_and_both_baselines():
    argv = [sys.executable, "-m", "async_hooks", "demo", "--jobs", "30", "--poll-interval", "0.05"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert out.returncode == OK, out.stderr
    text = out.stdout
    phases = [
        "starting a moto server",
        "launching 30 ecs jobs for async",
        "launching 30 ecs jobs for threads",
        "launching 30 ecs jobs for batched",
        "loading boto3",
        "waiting with async_hooks",
        "waiting with boto3: a thread per job",
        "waiting with boto3: one thread, 100 ids a call",
    ]
    positions = [text.index(phase) for phase in phases]
    assert positions == sorted(positions)
    assert text.count("STOPPED 30 |") == 3  # each wait's progress ends with every job done
    rows = [line for line in text.splitlines() if line.endswith("30/0")]
    assert [row.split(":")[0] for row in rows] == ["async_hooks", "boto3", "boto3"]
    assert "async_hooks vs boto3: a thread per job:" in text
    assert "async_hooks vs boto3: one thread, 100 ids a call:" in text
