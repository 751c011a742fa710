"""The AWS error mapping: every botocore error is mapped; categories follow botocore's lists."""

from __future__ import annotations

import inspect
import pickle
import socket
import textwrap

import pytest
from botocore import exceptions as boto
from conftest import run_dev_mode

from async_hooks import (
    HookConfigError,
    HookError,
    NotFoundError,
    PermissionDeniedError,
    ServiceError,
    ThrottledError,
    TransientError,
)
from async_hooks._core.redact import Redactor
from async_hooks.aws._errors import THROTTLING_CODES, map_botocore_error


def _client_error(code: str, status: int) -> boto.ClientError:
    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
    }
    return boto.ClientError(response, "DescribeJobs")  # type: ignore[arg-type]


def _map(error: BaseException) -> BaseException:
    return map_botocore_error(error, service="batch", operation="describe_jobs", redact=Redactor())


def test_all_fourteen_standard_mode_throttling_codes():
    assert len(THROTTLING_CODES) == 14
    for code in THROTTLING_CODES:
        mapped = _map(_client_error(code, 400))
        assert isinstance(mapped, ThrottledError), code
        assert isinstance(mapped, boto.ClientError)
        assert mapped.response["Error"]["Code"] == code


@pytest.mark.parametrize(
    ("code", "status", "category"),
    [
        ("RequestTimeout", 400, TransientError),
        ("InternalFailure", 500, TransientError),
        ("Whatever", 503, TransientError),
        ("NoSuchKey", 404, NotFoundError),
        ("ResourceNotFoundException", 400, NotFoundError),
        ("AccessDenied", 403, PermissionDeniedError),
        ("AccessDeniedException", 400, PermissionDeniedError),
        ("ValidationException", 400, ServiceError),
    ],
)
def test_answer_categories(code, status, category):
    mapped = _map(_client_error(code, status))
    assert type(mapped).__mro__[1:] and isinstance(mapped, category)
    assert isinstance(mapped, boto.ClientError)
    assert mapped.code == code and mapped.status == status
    assert mapped.retryable is (category in (TransientError, ThrottledError))


def _botocore_exception_types() -> list[type[BaseException]]:
    return [
        value
        for value in vars(boto).values()
        if inspect.isclass(value)
        and issubclass(value, boto.BotoCoreError | boto.ClientError)
        and value.__module__ == boto.__name__
    ]


@pytest.mark.parametrize("exc_type", _botocore_exception_types(), ids=lambda t: t.__name__)
def test_no_botocore_error_goes_unmapped(exc_type):
    if issubclass(exc_type, boto.ClientError):
        error: BaseException = exc_type(
            {"Error": {"Code": "X"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Op"
        )
    else:
        error = exc_type.__new__(exc_type)
        error.kwargs = {}  # type: ignore[attr-defined]
    mapped = _map(error)
    assert mapped is not error
    assert isinstance(mapped, HookError)


@pytest.mark.parametrize(
    ("error", "timeout", "acted"),
    [
        (boto.EndpointConnectionError(endpoint_url="http://x"), False, False),
        (boto.ConnectTimeoutError(endpoint_url="http://x"), True, False),
        (boto.ReadTimeoutError(endpoint_url="http://x"), True, True),
        (boto.ConnectionClosedError(endpoint_url="http://x"), False, True),
    ],
)
def test_connection_errors_are_transient(error, timeout, acted):
    mapped = _map(error)
    assert isinstance(mapped, TransientError)
    assert mapped.is_timeout is timeout
    assert mapped.may_have_acted is acted
    # The contract: an AWS error without an answer is the botocore class botocore raised for
    # it, not a ClientError (``except ClientError`` code must not take it for an answer).
    assert isinstance(mapped, type(error))
    assert not isinstance(mapped, boto.ClientError)
    assert mapped.code == type(error).__name__
    assert mapped.kwargs["endpoint_url"] == "http://x"
    assert pickle.loads(pickle.dumps(mapped)).__class__ is type(mapped)


def test_a_connection_error_class_is_rebuilt_by_name_in_a_fresh_process():
    """Unpickling in a process that never mapped such an error finds the class by name."""
    mapped = _map(boto.ProxyConnectionError(proxy_url="http://p", error="refused"))
    blob = pickle.dumps(mapped)
    script = f"import pickle; e = pickle.loads({blob!r}); print(type(e).__name__, e.retryable)"
    out = run_dev_mode(script)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["AwsProxyConnectionError", "True"]


def test_the_client_error_face_has_botocores_operation_name():
    mapped = _map(_client_error("ValidationException", 400))
    assert isinstance(mapped, boto.ClientError)
    assert mapped.operation_name == "DescribeJobs"  # botocore's, as ClientError has it
    assert mapped.operation == "describe_jobs"  # the method name, as async_hooks calls it


def _dns_failure(errno: int) -> boto.EndpointConnectionError:
    """What aiobotocore raises when aiohttp's resolver fails: botocore's error wrapping
    aiohttp's ``ClientConnectorDNSError`` wrapping the resolver's ``gaierror``."""
    from aiohttp import ClientConnectorDNSError
    from aiohttp.client_reqrep import ConnectionKey

    key = ConnectionKey("batch.mars-north-9.amazonaws.com", 443, True, True, None, None, None)
    dns = ClientConnectorDNSError(key, socket.gaierror(errno, "resolver says no"))
    return boto.EndpointConnectionError(
        endpoint_url="https://batch.mars-north-9.amazonaws.com/", error=dns
    )


def test_a_host_that_does_not_resolve_is_a_config_error_naming_it():
    mapped = _map(_dns_failure(socket.EAI_NONAME))
    assert isinstance(mapped, HookConfigError)
    assert "batch.mars-north-9.amazonaws.com" in str(mapped)


def test_a_temporary_resolver_failure_stays_transient():
    mapped = _map(_dns_failure(socket.EAI_AGAIN))
    assert isinstance(mapped, TransientError)
    assert isinstance(mapped, boto.EndpointConnectionError)


async def test_a_region_that_does_not_exist_ends_a_wait_at_once():
    """Through the real resolver: the host of a made-up region does not resolve."""
    from async_hooks import AsyncAwsHook

    hook = AsyncAwsHook(
        region_name="mars-north-9", aws_access_key_id="k", aws_secret_access_key="s"
    )
    async with hook:
        with pytest.raises(HookConfigError, match=r"batch\.mars-north-9\.amazonaws\.com"):
            await hook.wait_for_job("batch", "job-1", poll_interval=0.01, timeout=600)
    assert hook.stats()["retries"] == 0


DEV_MODE_SCRIPT = textwrap.dedent(
    """
    import asyncio
    from aiohttp import web
    from async_hooks import AsyncAwsHook
    from async_hooks.testing import ThreadedServer

    async def handle(request):
        return web.json_response({"clusterArns": []}, content_type="application/x-amz-json-1.1")

    app = web.Application()
    app.router.add_post("/", handle)
    with ThreadedServer(app) as server:
        async def main(close):
            hook = AsyncAwsHook(
                endpoint_url=server.url, region_name="us-east-1",
                aws_access_key_id="k", aws_secret_access_key="s",
            )
            await asyncio.gather(*(hook.call("ecs", "list_clusters") for _ in range(20)))
            if close:
                await hook.close()

        for close in (True, False, True):
            asyncio.run(main(close))
    print("done")
    """
)


def test_dev_mode_three_runs_leave_no_unclosed_resource():
    out = run_dev_mode(DEV_MODE_SCRIPT, "error::ResourceWarning", AWS_EC2_METADATA_DISABLED="true")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done"
    assert "Unclosed" not in out.stderr, out.stderr
    assert "ResourceWarning" not in out.stderr, out.stderr
