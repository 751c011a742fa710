"""A triggerer's loop never imports a provider: the trigger's module imports none, a trigger
rebuilt on the loop imports none, and its run imports the provider in a thread of its own, once
per process. Each check in a fresh interpreter (the test process has imported every provider).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

PROVIDER_MODULES = ("async_hooks.http", "async_hooks.aws", "async_hooks.gcp", "botocore", "aiohttp")

PRELUDE = """
import asyncio, json, sys, threading
import airflow.triggers.base  # a triggerer has Airflow loaded before it loads any trigger

from async_hooks._providers import Provider

def loaded(*names):
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in sys.modules))

loads = []
_load = Provider.load

def recording_load(self):
    if self.module not in sys.modules:  # an import, not a look-up of an imported module
        loads.append([self.name, threading.current_thread().name])
    return _load(self)

Provider.load = recording_load


def emit(result):
    # The script's JSON line, once the trigger log lines still queued are written (the
    # writer thread shares stdout with it).
    from async_hooks.airflow import _quietlog

    _quietlog.flush()
    print(json.dumps(result), flush=True)
"""


def _run(code: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PRELUDE) + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    # The script's one JSON line; Airflow's logging (on stdout) may add lines after it.
    (line,) = [text for text in out.stdout.splitlines() if text.startswith("{")][-1:]
    result: dict[str, object] = json.loads(line)
    return result


def test_importing_the_trigger_imports_no_provider():
    result = _run(
        f"""
import async_hooks.airflow
emit({{"loaded": loaded(*{PROVIDER_MODULES!r}), "loads": loads}})
"""
    )
    assert result == {"loaded": [], "loads": []}


def test_a_trigger_rebuilt_on_the_loop_imports_its_provider_in_a_thread_once():
    """Three HTTP triggers (a bare asyncio server answers, so aiohttp is not imported by the
    test itself) and one AWS trigger (a refused port; it times out), built and run as a
    triggerer does: on the loop, from their stored kwargs."""
    result = _run(
        f"""
from async_hooks.airflow import WaitForJobTrigger

BODY = b'{{"status": "SUCCEEDED"}}'

async def answer(reader, writer):
    try:
        while await reader.readuntil(b"\\r\\n\\r\\n"):
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
                         b"Content-Length: %d\\r\\n\\r\\n%s" % (len(BODY), BODY))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the client closed its connection (the hook closed): nothing more to answer
    finally:
        writer.close()

async def first_event(trigger):
    async for event in trigger.run():
        return event.payload

async def main():
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    refused = await asyncio.start_server(answer, "127.0.0.1", 0)
    dead = refused.sockets[0].getsockname()[1]
    refused.close()
    await refused.wait_closed()
    http = [
        WaitForJobTrigger(
            "http",
            hook_kwargs={{"base_url": f"http://127.0.0.1:{{port}}"}},
            wait_args=["/jobs/1"],
            wait_kwargs={{"poll_interval": 0.05}},
        )
        for _ in range(3)
    ]
    aws = WaitForJobTrigger(
        "aws",
        hook_kwargs={{
            "endpoint_url": f"http://127.0.0.1:{{dead}}", "region_name": "us-east-1",
            "aws_access_key_id": "k", "aws_secret_access_key": "s",
            "retry": {{"max_attempts": 1}},
        }},
        wait_args=["batch", "job-1"],
        wait_kwargs={{"poll_interval": 0.05, "timeout": 0.5}},
    )
    built = loaded(*{PROVIDER_MODULES!r})
    shown = repr(http[0])
    events = await asyncio.gather(*(first_event(t) for t in [*http, aws]))
    server.close()
    return {{
        "built": built,
        "repr_pending": "deadline=pending" in shown,
        "statuses": [e["status"] for e in events],
        "loads": loads,
        "loop_thread": threading.current_thread().name,
        "settled_timeout": http[0].timeout,
    }}

emit(asyncio.run(main()))
"""
    )
    assert result["built"] == []  # four triggers built on the loop: no provider imported
    assert result["repr_pending"] is True  # and a repr does not import one either
    assert result["statuses"] == ["success", "success", "success", "timeout"]
    loads = result["loads"]
    assert sorted(name for name, _ in loads) == ["aws", "http"]  # once per provider
    assert all(thread == "async_hooks-import" for _, thread in loads)
    assert result["loop_thread"] != "async_hooks-import"
    assert result["settled_timeout"] is not None  # the hook's default, known after the import


def test_a_bad_setting_in_a_rebuilt_trigger_ends_in_a_failed_event():
    """A row the worker did not check (written by hand, or by an older version): the checks
    run after the import, and a mistake is the event's reason instead of a crashed trigger."""
    result = _run(
        """
from async_hooks.airflow import WaitForJobTrigger

async def main():
    trigger = WaitForJobTrigger(
        "http", hook_kwargs={"base_url": "http://127.0.0.1:9", "bogus": 1}, wait_args=["/j"]
    )
    built = loaded("async_hooks.http")
    async for event in trigger.run():
        return {"built": built, "event": event.payload}

emit(asyncio.run(main()))
"""
    )
    assert result["built"] == []
    assert result["event"]["status"] == "failed"
    assert "bogus" in result["event"]["reason"]


def test_in_a_worker_a_trigger_still_checks_everything_when_made():
    result = _run(
        """
from async_hooks import HookConfigError
from async_hooks.airflow import WaitForJobTrigger

try:
    WaitForJobTrigger("http", hook_kwargs={"base_url": "http://127.0.0.1:9", "bogus": 1})
except HookConfigError as error:
    outcome = str(error)
else:
    outcome = "built"
emit({"outcome": outcome, "loads": [name for name, _ in loads]})
"""
    )
    assert "bogus" in result["outcome"]
    assert result["loads"] == ["http"]
