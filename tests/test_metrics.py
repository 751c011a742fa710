"""OpenTelemetry metrics through the API, read back with the real SDK's InMemoryMetricReader,
against real servers (moto, aiohttp); and without opentelemetry nothing is imported or broken."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _without_sdk import run_without

from async_hooks import AsyncAwsHook, AsyncHttpHook, JobResult, NotFoundError, RetryPolicy
from async_hooks._core import metrics as hook_metrics

otel_metrics = pytest.importorskip("opentelemetry.metrics")
otel_internal = pytest.importorskip("opentelemetry.metrics._internal")
sdk_metrics = pytest.importorskip("opentelemetry.sdk.metrics")
sdk_export = pytest.importorskip("opentelemetry.sdk.metrics.export")

QUICK = {"poll_interval": 0.01, "timeout": 60.0}
FAST_RETRY = RetryPolicy(initial_backoff=0.001, max_backoff=0.002)


def _reset_otel_globals() -> None:
    """The API lets a process set its meter provider once; a test needs a fresh one (what
    opentelemetry-test-utils' ``reset_metrics_globals`` does), and our instruments forgotten."""
    from opentelemetry.util._once import Once

    otel_internal._METER_PROVIDER_SET_ONCE = Once()
    otel_internal._METER_PROVIDER = None
    otel_internal._PROXY_METER_PROVIDER = otel_internal._ProxyMeterProvider()
    hook_metrics.reset()


@pytest.fixture
def reader() -> Iterator[Any]:
    """A real SDK meter provider, set globally as an application would, read in memory."""
    _reset_otel_globals()
    memory = sdk_export.InMemoryMetricReader()
    provider = sdk_metrics.MeterProvider(metric_readers=[memory])
    otel_metrics.set_meter_provider(provider)
    yield memory
    provider.shutdown()
    _reset_otel_globals()  # back to "installed, no provider": later tests record nothing


def _points(reader: Any, name: str) -> list[tuple[dict[str, Any], Any]]:
    """(attributes, data point) of metric ``name`` in the reader's current (cumulative) data."""
    data = reader.get_metrics_data()
    found = []
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found += [(dict(point.attributes), point) for point in metric.data.data_points]
    return found


def _value(reader: Any, name: str, **attributes: str) -> float:
    """The sum of ``name`` over points whose attributes include ``attributes``."""
    return sum(
        point.value
        for attrs, point in _points(reader, name)
        if all(attrs.get(key) == value for key, value in attributes.items())
    )


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def _aws(moto_server: Any, **kwargs: Any) -> AsyncAwsHook:
    return AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1", **kwargs)


async def test_calls_durations_and_errors_are_recorded_per_operation(reader, moto_server):
    async with _aws(moto_server) as hook:
        await hook.call("s3", "create_bucket", Bucket="bucket")
        for _ in range(3):
            await hook.call("s3", "list_buckets")
        with pytest.raises(NotFoundError):
            await hook.call("s3", "head_object", Bucket="bucket", Key="missing")
    listing = {"provider": "aws", "service": "s3", "operation": "list_buckets"}
    assert _value(reader, "async_hooks.calls", **listing) == 3
    assert _value(reader, "async_hooks.calls", provider="aws") == 5
    assert _value(reader, "async_hooks.errors", operation="head_object") == 1
    assert _value(reader, "async_hooks.errors", operation="list_buckets") == 0
    (durations,) = [p for a, p in _points(reader, "async_hooks.call.duration") if a == listing]
    assert durations.count == 3 and 0 < durations.sum < 60  # seconds, not milliseconds
    assert tuple(durations.explicit_bounds) == hook_metrics.DURATION_BUCKETS  # buckets in seconds


async def test_retries_and_throttled_answers_are_counted(reader, scripted):
    url, script = scripted([(429, {"Retry-After": "0"}), (503, {})])
    async with AsyncHttpHook(url, retry=FAST_RETRY) as hook:
        response = await hook.request("GET", "/thing")
    assert response.status == 200 and len(script.requests) == 3
    assert _value(reader, "async_hooks.calls", provider="http", operation="GET") == 1
    assert _value(reader, "async_hooks.retries", operation="GET") == 2
    assert _value(reader, "async_hooks.throttled", operation="GET") == 1
    assert _value(reader, "async_hooks.errors") == 0
    (durations,) = [p for a, p in _points(reader, "async_hooks.call.duration")]
    assert durations.count == 3  # one sample per request sent
    assert hook.stats()["retries"] == 2  # the same points as the hook's own stats


async def test_active_waits_rise_while_waiting_and_fall_when_done(reader, job_server):
    server = job_server()
    jobs = [server.create(polls=2) for _ in range(2)]
    during: list[float] = []

    def look(result: JobResult) -> None:
        if result.status == "RUNNING":
            during.append(_value(reader, "async_hooks.waits.active", provider="http", kind="http"))

    async with AsyncHttpHook(server.url) as hook:
        await asyncio.gather(
            *(hook.wait_for_job(f"/jobs/{job}", on_status=look, **QUICK) for job in jobs)
        )
        assert _value(reader, "async_hooks.waits.active") == 0
        # A cancelled wait leaves the count too: this one sleeps an hour after its first poll.
        polled = asyncio.Event()
        sleeper = hook.wait_for_job(
            f"/jobs/{server.create()}", poll_interval=3600, on_status=lambda _: polled.set()
        )
        task = asyncio.ensure_future(sleeper)
        await polled.wait()
        assert _value(reader, "async_hooks.waits.active") == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert during and all(1 <= value <= 2 for value in during)
    assert _value(reader, "async_hooks.waits.active") == 0
    # The waits' describe calls are counted as calls of their own.
    assert _value(reader, "async_hooks.calls", provider="http") >= 6


async def test_shared_schedule_waits_are_counted_with_their_kind(reader, moto_server):
    moto_server.set_config({"batch": {"use_docker": False}})
    from async_hooks.testing.aws_jobs import launch

    seen: list[float] = []
    async with _aws(moto_server) as hook:
        jobs = await launch(hook, "batch", 2, "t")

        def look(result: JobResult) -> None:
            seen.append(_value(reader, "async_hooks.waits.active", kind="batch"))

        await asyncio.gather(
            *(hook.wait_for_job("batch", job, on_status=look, **QUICK) for job in jobs.ids)
        )
    assert seen and max(seen) >= 1
    assert _value(reader, "async_hooks.waits.active", provider="aws", kind="batch") == 0


async def test_nothing_is_recorded_until_the_application_sets_a_provider(moto_server):
    _reset_otel_globals()
    try:
        async with _aws(moto_server) as hook:
            await hook.call("s3", "list_buckets")  # instruments made on the API's no-op proxy
            memory = sdk_export.InMemoryMetricReader()
            provider = sdk_metrics.MeterProvider(metric_readers=[memory])
            otel_metrics.set_meter_provider(provider)  # configured later, as apps often do
            await hook.call("s3", "list_buckets")
        assert _value(memory, "async_hooks.calls", operation="list_buckets") == 1
        provider.shutdown()
    finally:
        _reset_otel_globals()


def test_importing_the_package_does_not_import_opentelemetry():
    code = "import sys, async_hooks\nassert not [m for m in sys.modules if 'opentelemetry' in m]"
    done = _python(code)
    assert done.returncode == 0, done.stderr


def test_without_opentelemetry_calls_and_waits_work_and_nothing_is_imported(job_server):
    server = job_server()
    job = server.create(polls=1)
    code = textwrap.dedent(
        f"""
        import asyncio, sys
        from async_hooks import AsyncHttpHook
        from async_hooks._core import metrics

        async def main():
            seen = []
            async with AsyncHttpHook({server.url!r}) as hook:
                result = await hook.wait_for_job(
                    "/jobs/{job}", poll_interval=0.01, on_status=seen.append
                )
                assert result.succeeded and [r.status for r in seen][-1] == "SUCCEEDED"
                assert hook.stats()["calls"] >= 3
            assert metrics.instruments() is None

        asyncio.run(main())
        assert not [m for m in sys.modules if m.startswith("opentelemetry")], "imported"
        print("ok")
        """
    )
    done = run_without(["opentelemetry"], code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_console_exporter_example_of_the_docs_runs():
    page = (Path(__file__).parent.parent / "docs" / "observability.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", page, re.S)[:1]
    done = _python(example)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        "/jobs/job-1: PENDING after 1 polls",
        "/jobs/job-1: RUNNING after 2 polls",
        "/jobs/job-1: SUCCEEDED after 4 polls",
    ]
    assert json.loads(lines[3])["succeeded"] is True
    exported = json.loads("\n".join(lines[4:]))
    (scope,) = exported["resource_metrics"][0]["scope_metrics"]
    assert scope["scope"]["name"] == "async_hooks"
    names = {metric["name"] for metric in scope["metrics"]}
    assert {"async_hooks.calls", "async_hooks.call.duration", "async_hooks.waits.active"} <= names


async def test_the_meter_carries_the_packages_version(reader, job_server):
    import async_hooks

    server = job_server()
    async with AsyncHttpHook(server.url) as hook:
        await hook.wait_for_job(f"/jobs/{server.create(polls=0, outcome='SUCCEEDED')}", **QUICK)
    scopes = {
        (scope.scope.name, scope.scope.version)
        for resource in reader.get_metrics_data().resource_metrics
        for scope in resource.scope_metrics
    }
    assert scopes == {(hook_metrics.METER_NAME, async_hooks.__version__)}


async def test_without_a_provider_a_wait_is_not_wrapped_to_count_itself(moto_server):
    """Airflow installs the API in every process: until a provider is set, a shared wait is the
    wait itself, not a counting coroutine around it; once one is, new waits are counted."""
    _reset_otel_globals()
    try:
        async with _aws(moto_server) as hook:
            quiet = hook.wait_for_job("batch", "j-1", **QUICK)
            assert not inspect.iscoroutine(quiet)
            quiet.close()
            memory = sdk_export.InMemoryMetricReader()
            provider = sdk_metrics.MeterProvider(metric_readers=[memory])
            otel_metrics.set_meter_provider(provider)
            counted = hook.wait_for_job("batch", "j-1", **QUICK)
            assert inspect.iscoroutine(counted)
            counted.close()
        provider.shutdown()
    finally:
        _reset_otel_globals()
