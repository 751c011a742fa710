"""What ``import async_hooks`` loads, and what loads later: each check in a fresh interpreter.

The package's own import stays small (no SDK, no asyncio, no tenacity, anyio or aiolimiter);
every public name still resolves, to the object its module defines; the throttle's libraries
load with the first call, tenacity only with the first retry, aiolimiter only with a rate.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import async_hooks

#: Never loaded by ``import async_hooks``: SDKs, the HTTP stack, the pipeline's libraries.
HEAVY = (
    "aiohttp",
    "yarl",
    "multidict",
    "tenacity",
    "anyio",
    "aiolimiter",
    "botocore",
    "aiobotocore",
    "msgspec",
    "boto3",
    "gcloud",
    "airflow",
    "async_hooks.http",
    "async_hooks.aws",
    "async_hooks.gcp",
    "async_hooks._core.hook",
)


def _run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter (warnings are errors there too); its last line of
    output, parsed as JSON."""
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


LOADED = """
import json, sys
def loaded(*names):
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in sys.modules))
"""


def test_import_async_hooks_loads_no_sdk_nor_the_pipelines_libraries():
    result = _run(
        LOADED
        + f"""
import async_hooks
print(json.dumps({{"heavy": loaded(*{HEAVY!r}), "asyncio": loaded("asyncio")}}))
"""
    )
    assert result["heavy"] == []
    # asyncio alone costs about as much as the whole budget of ``import async_hooks``.
    assert result["asyncio"] == []


@pytest.mark.parametrize("module", ["async_hooks.errors", "async_hooks.connections"])
def test_public_leaf_modules_load_no_sdk(module):
    result = _run(
        LOADED
        + f"""
import {module}
print(json.dumps({{"heavy": loaded(*{HEAVY!r})}}))
"""
    )
    assert result["heavy"] == []


def test_every_public_name_resolves_to_its_modules_object():
    result = _run(
        """
import json, async_hooks
from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.policy import RetryPolicy
from async_hooks._result import JobResult, OnStatus
from async_hooks._sync.executor import AsyncExecutor
from async_hooks._sync.run import run_sync
from async_hooks._sync.delay import delay
from async_hooks.connections import Connection
from async_hooks import errors, http, aws, gcp
expected = {
    "AsyncBaseHook": AsyncBaseHook, "RetryPolicy": RetryPolicy, "JobResult": JobResult,
    "AsyncExecutor": AsyncExecutor, "run_sync": run_sync, "delay": delay,
    "Connection": Connection, "AsyncHttpHook": http.AsyncHttpHook, "HttpError": http.HttpError,
    "HttpResponse": http.HttpResponse, "AsyncAwsHook": aws.AsyncAwsHook,
    "AsyncGcpHook": gcp.AsyncGcpHook, "OnStatus": OnStatus,
}
expected.update({name: getattr(errors, name) for name in errors.__all__})
wrong = [n for n in async_hooks.__all__ if getattr(async_hooks, n) is not expected.get(n)]
print(json.dumps({"wrong": wrong, "missing": sorted(set(expected) - set(async_hooks.__all__))}))
"""
    )
    assert result == {"wrong": [], "missing": []}


def test_from_import_of_a_lazy_name_works_in_a_fresh_interpreter():
    result = _run(
        """
import json
from async_hooks import AsyncHttpHook, AsyncBaseHook, RetryPolicy, run_sync
print(json.dumps({"ok": issubclass(AsyncHttpHook, AsyncBaseHook)
                  and RetryPolicy().max_attempts == 5 and callable(run_sync)}))
"""
    )
    assert result == {"ok": True}


def test_dir_lists_every_public_name_before_it_is_loaded():
    result = _run(
        """
import json, async_hooks
print(json.dumps({"missing": sorted(set(async_hooks.__all__) - set(dir(async_hooks)))}))
"""
    )
    assert result == {"missing": []}


def test_the_first_call_loads_anyio_only_the_first_retry_loads_tenacity():
    """Against a real server (aiohttp's, in the same interpreter): a hook and a successful call
    need no tenacity, a rate needs aiolimiter, a retry tenacity."""
    result = _run(
        LOADED
        + """
import asyncio
from aiohttp import web
from async_hooks import AsyncHttpHook, RetryPolicy

answers = [503]

async def handle(request):
    return web.json_response({}, status=answers.pop() if request.path == "/flaky" and answers
                             else 200)

async def main():
    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    seen = {"before": loaded("tenacity", "anyio", "aiolimiter")}
    policy = RetryPolicy(initial_backoff=0.001, max_backoff=0.002)
    async with AsyncHttpHook(f"http://127.0.0.1:{port}", retry=policy) as hook:
        seen["hook"] = loaded("tenacity", "anyio", "aiolimiter")
        await hook.request("GET", "/ok")
        seen["call"] = loaded("tenacity", "anyio", "aiolimiter")
        await hook.request("GET", "/flaky")
        seen["retry"] = loaded("tenacity", "anyio", "aiolimiter")
        seen["stats"] = {k: hook.stats()[k] for k in ("calls", "attempts", "retries")}
    async with AsyncHttpHook(f"http://127.0.0.1:{port}", rate_limit=50) as hook:
        await hook.request("GET", "/ok")
        seen["rate"] = loaded("aiolimiter")
    await runner.cleanup()
    return seen

print(json.dumps(asyncio.run(main())))
"""
    )
    assert result["before"] == [] and result["hook"] == []
    assert result["call"] == ["anyio"]
    assert result["retry"] == ["anyio", "tenacity"]
    assert result["stats"] == {"calls": 2, "attempts": 3, "retries": 1}
    assert result["rate"] == ["aiolimiter"]


def test_the_old_home_of_the_rate_limiter_still_resolves():
    from async_hooks._core import throttle
    from async_hooks._core.ratelimit import AdjustableRateLimiter

    assert throttle._AdjustableRateLimiter is AdjustableRateLimiter
    with pytest.raises(AttributeError):
        throttle.NoSuchThing  # noqa: B018


def test_the_package_is_already_imported_here():
    """This process imported ``async_hooks`` above: the lazy names are cached in its globals
    once used, so ``getattr`` costs a dictionary look-up from then on."""
    async_hooks.RetryPolicy  # noqa: B018
    assert "RetryPolicy" in vars(async_hooks)
