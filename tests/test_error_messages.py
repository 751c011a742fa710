"""Messages that say what to fix: a URL setting without a scheme says so (not ``got scheme
'?'``), and a Cloud Storage error names the bucket, the object and the host the request went
to (not ``https://storage``)."""

from __future__ import annotations

import socket

import pytest

from async_hooks import AsyncGcpHook, AsyncHttpHook, HookConfigError, NotFoundError, RetryPolicy
from async_hooks._core.urls import absolute_http_url
from async_hooks.errors import ServiceError


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("example.com/api", "base_url has no scheme: write it as https://HOST/... (or http://)"),
        ("jobs.example.com", "base_url has no scheme: write it as https://HOST/... (or http://)"),
        ("//jobs.example.com/api", "base_url has no scheme"),
        ("localhost:8080", "base_url must start with https:// or http:// (no scheme was found"),
        ("example.com:8080/api", "base_url must start with https:// or http://"),
        ("ftp://files.example.com", "base_url must be an http(s) URL, not 'ftp': https://HOST/"),
        ("http:///api", "base_url has no host: write it as http://HOST/..."),
        ("https:api", "base_url has no host: write it as https://HOST/..."),
    ],
)
def test_a_url_that_is_not_absolute_http_says_what_to_write(value, message):
    with pytest.raises(HookConfigError) as refused:
        absolute_http_url("base_url", value)
    assert str(refused.value).startswith(message)
    assert "'?'" not in str(refused.value)


def test_a_url_is_never_quoted_it_may_hold_a_credential():
    with pytest.raises(HookConfigError) as refused:
        AsyncHttpHook(base_url="etl:s3cr3t-pass@jobs.example.com/api")
    assert "s3cr3t-pass" not in str(refused.value)
    assert str(refused.value).startswith("base_url must start with https:// or http://")


async def test_a_missing_object_names_the_bucket_the_object_and_the_host(gcs_emulator):
    gcs_emulator.create_bucket("data")
    host = gcs_emulator.url.removeprefix("http://")
    async with AsyncGcpHook(project="test-project") as hook:
        with pytest.raises(NotFoundError) as caught:
            await hook.download("data", "day=1/part-0.json")
        with pytest.raises(NotFoundError) as listed:
            await hook.list_objects("no-such-bucket", prefix="in/")
    text = str(caught.value)
    assert text.startswith("download gs://data/day=1/part-0.json via http://" + host), text
    assert "answered 404" in text
    assert "https://storage " not in text
    assert caught.value.operation == "download"  # the operation, as the metrics know it
    assert isinstance(caught.value, ServiceError) and caught.value.message == text
    assert str(listed.value).startswith(f"list_objects gs://no-such-bucket/in/ via http://{host}")


async def test_an_unreachable_storage_host_is_named(monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    once = RetryPolicy(max_attempts=1)
    async with AsyncGcpHook(project="test-project", retry=once) as hook:
        with pytest.raises(ServiceError) as caught:
            await hook.exists("data", "a.json")
    text = str(caught.value)
    assert text.startswith(f"get_metadata gs://data/a.json via http://127.0.0.1:{port}"), text
    assert "could not connect" in text
