"""The AWS error mapping: every botocore error is mapped; categories follow botocore's lists."""

from __future__ import annotations

import inspect
import textwrap

import pytest
from botocore import exceptions as boto
from conftest import run_dev_mode

from async_hooks import (
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
    # The contract: every AWS ServiceError is also a ClientError with a .response.
    assert isinstance(mapped, boto.ClientError)
    assert mapped.response["Error"]["Code"] == type(error).__name__


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
