"""The deployment benchmark's ``--fast-glue-runs``: ``GetJobRuns`` answered with the runs moto
itself answers, in its order, without its serializer (``async_hooks.testing._moto_process``).

Both answers come from the same moto state: moto's own through the session's moto server, the
fast one through the counting app in this process (moto keeps its backends per process).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from async_hooks.testing._moto_process import GLUE_RUNS_DEFAULT_PAGE, counting


def _moto_answer(url: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    for name, value in _headers(operation).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=30) as answer:
        parsed: dict[str, Any] = json.loads(answer.read())
    return parsed


def _headers(operation: str) -> dict[str, str]:
    return {
        "X-Amz-Target": f"AWSGlue.{operation}",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/glue/"
        "aws4_request, SignedHeaders=host, Signature=0",
    }


def _fast_answer(operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    app = counting(DomainDispatcherApplication(create_backend_app), fast_glue_runs=True)
    answer = Client(app).post(
        "/", data=json.dumps(body), headers={**_headers(operation), "Host": "glue.amazonaws.com"}
    )
    return answer.status_code, json.loads(answer.data)


def _pages(answer: Any, body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    pages, token = [], None
    while True:
        page = answer({**body, **({"NextToken": token} if token else {})})
        pages.append(page["JobRuns"])
        token = page.get("NextToken")
        if not token:
            return pages


@pytest.fixture
def glue_runs(moto_server):
    """A job of 450 runs: held in STARTING, some stopped, some with arguments and a timeout."""
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 10**9})
    url = moto_server.url
    job = {"Name": "etl", "Role": "r", "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/x"}}
    _moto_answer(url, "CreateJob", {**job, "ExecutionProperty": {"MaxConcurrentRuns": 1000}})
    ids = []
    for index in range(450):
        extra = {"Arguments": {"--day": str(index)}, "Timeout": 60} if index % 7 == 0 else {}
        ids.append(_moto_answer(url, "StartJobRun", {"JobName": "etl", **extra})["JobRunId"])
    stopped = _fast_answer("BatchStopJobRun", {"JobName": "etl", "JobRunIds": ids[::5]})[1]
    assert len(stopped["SuccessfulSubmissions"]) == 90
    return url


@pytest.mark.parametrize("size", [200, 7, None])
def test_fast_pages_hold_the_runs_moto_answers_in_its_order(glue_runs, size):
    body: dict[str, Any] = {"JobName": "etl", **({"MaxResults": size} if size else {})}
    moto_pages = _pages(lambda b: _moto_answer(glue_runs, "GetJobRuns", b), body)
    fast_pages = _pages(lambda b: _fast_answer("GetJobRuns", b)[1], body)
    assert fast_pages == moto_pages
    assert len(fast_pages[0]) == min(size or GLUE_RUNS_DEFAULT_PAGE, 450)
    runs = [run for page in fast_pages for run in page]
    assert len({run["Id"] for run in runs}) == 450
    assert {run["JobRunState"] for run in runs} == {"STARTING", "STOPPED"}
    assert any("Arguments" in run and "Timeout" in run for run in runs)


def test_fast_runs_advance_as_moto_advances_them(moto_server, glue_runs):
    """moto moves a run on when it is read: so does the fast answer (held runs would stay
    STARTING otherwise), and moto's next answer agrees with it."""
    moto_server.set_transition("glue::job_run", {"progression": "immediate"})
    fast = _fast_answer("GetJobRuns", {"JobName": "etl"})[1]["JobRuns"]
    assert {run["JobRunState"] for run in fast} == {"SUCCEEDED", "STOPPED"}
    moto = _moto_answer(glue_runs, "GetJobRuns", {"JobName": "etl"})["JobRuns"]
    assert [run["JobRunState"] for run in moto] == [run["JobRunState"] for run in fast]


def test_an_unknown_job_gets_moto_s_own_error(glue_runs):
    status, answer = _fast_answer("GetJobRuns", {"JobName": "missing"})
    assert status == 400
    assert answer["__type"] == "EntityNotFoundException"


def test_a_page_the_fast_path_cannot_read_gets_moto_s_own_answer(glue_runs):
    """A token moto made (not an offset) is moto's to read: the body reaches it intact."""
    body = {"JobName": "etl", "MaxResults": 3}
    token = _moto_answer(glue_runs, "GetJobRuns", body)["NextToken"]
    assert not token.isdigit()
    moto = _moto_answer(glue_runs, "GetJobRuns", {**body, "NextToken": token})
    assert _fast_answer("GetJobRuns", {**body, "NextToken": token}) == (200, moto)
