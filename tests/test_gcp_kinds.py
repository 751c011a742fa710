"""Google Cloud job kinds, cancels and ``api_root``: every kind against one local server that
speaks each API's real REST paths (``FakeGoogleApi`` behind the hook's ``api_root``)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from async_hooks import AsyncGcpHook, HookConfigError, JobFailedError, JobTimeoutError
from async_hooks.gcp import kinds as gcp_kinds
from async_hooks.gcp.kinds import get_job_kind, job_kinds
from async_hooks.testing.gcp import make_service_account

QUICK = {"poll_interval": 0.01, "jitter": 0.0}
#: Ends a wait on a job that never finishes; long enough for its first polls on a busy machine.
NEVER_DONE_TIMEOUT = 1.5


@dataclasses.dataclass
class Case:
    kind: str
    identifiers: dict[str, str]
    path: str
    running: dict[str, Any]
    done: dict[str, Any]
    done_status: str
    failed: dict[str, Any]
    failed_status: str
    reason: str
    running_status: str


CASES = [
    Case(
        "bigquery",
        {"location": "EU"},
        "/bigquery/v2/projects/test-project/jobs/j-1",
        {"status": {"state": "RUNNING"}},
        {"status": {"state": "DONE"}},
        "DONE",
        {"status": {"state": "DONE", "errorResult": {"message": "Syntax error at [1:8]"}}},
        "DONE_WITH_ERROR",
        "Syntax error at [1:8]",
        "RUNNING",
    ),
    Case(
        "dataproc",
        {"location": "europe-west1"},
        "/v1/projects/test-project/regions/europe-west1/jobs/j-1",
        {"status": {"state": "RUNNING"}},
        {"status": {"state": "DONE"}},
        "DONE",
        {"status": {"state": "ERROR", "details": "Job failed: exit code 1"}},
        "ERROR",
        "Job failed: exit code 1",
        "RUNNING",
    ),
    Case(
        "dataproc-batch",
        {"location": "europe-west1"},
        "/v1/projects/test-project/locations/europe-west1/batches/j-1",
        {"state": "RUNNING"},
        {"state": "SUCCEEDED"},
        "SUCCEEDED",
        {"state": "FAILED", "stateMessage": "Driver exited with code 2"},
        "FAILED",
        "Driver exited with code 2",
        "RUNNING",
    ),
    Case(
        "dataflow",
        {"location": "us-central1"},
        "/v1b3/projects/test-project/locations/us-central1/jobs/j-1",
        {"currentState": "JOB_STATE_RUNNING"},
        {"currentState": "JOB_STATE_DRAINED"},
        "JOB_STATE_DRAINED",
        {"currentState": "JOB_STATE_FAILED"},
        "JOB_STATE_FAILED",
        "JOB_STATE_FAILED",
        "JOB_STATE_RUNNING",
    ),
    Case(
        "vertex-custom-job",
        {"location": "us-central1"},
        "/v1/projects/test-project/locations/us-central1/customJobs/j-1",
        {"state": "JOB_STATE_RUNNING"},
        {"state": "JOB_STATE_SUCCEEDED"},
        "JOB_STATE_SUCCEEDED",
        {"state": "JOB_STATE_EXPIRED", "error": {"code": 4, "message": "Job expired in queue"}},
        "JOB_STATE_EXPIRED",
        "Job expired in queue",
        "JOB_STATE_RUNNING",
    ),
    Case(
        "vertex-pipeline",
        {"location": "us-central1"},
        "/v1/projects/test-project/locations/us-central1/pipelineJobs/j-1",
        {"state": "PIPELINE_STATE_RUNNING"},
        {"state": "PIPELINE_STATE_SUCCEEDED"},
        "PIPELINE_STATE_SUCCEEDED",
        {"state": "PIPELINE_STATE_FAILED", "error": {"code": 9, "message": "Task train failed"}},
        "PIPELINE_STATE_FAILED",
        "Task train failed",
        "PIPELINE_STATE_RUNNING",
    ),
    Case(
        "cloud-build",
        {"location": "europe-west1"},
        "/v1/projects/test-project/locations/europe-west1/builds/j-1",
        {"status": "WORKING"},
        {"status": "SUCCESS"},
        "SUCCESS",
        {"status": "TIMEOUT", "statusDetail": "Build timed out after 600s"},
        "TIMEOUT",
        "Build timed out after 600s",
        "WORKING",
    ),
    Case(
        "cloud-run-job",
        {"location": "europe-west1", "job": "nightly"},
        "/v2/projects/test-project/locations/europe-west1/jobs/nightly/executions/j-1",
        {"runningCount": 1, "conditions": [{"type": "Completed", "state": "CONDITION_PENDING"}]},
        {"completionTime": "2026-01-01T00:00:00Z", "succeededCount": 2},
        "SUCCEEDED",
        {
            "completionTime": "2026-01-01T00:00:00Z",
            "succeededCount": 1,
            "failedCount": 1,
            "conditions": [
                {"type": "Completed", "state": "CONDITION_FAILED", "message": "1 task failed"}
            ],
        },
        "FAILED",
        "1 task failed",
        "RUNNING",
    ),
]
IDS = [case.kind for case in CASES]


@pytest.fixture(scope="module")
def account_for():
    """One key per module (RSA generation is slow), pointed at each test's token endpoint."""
    account = make_service_account("http://placeholder/token")
    return lambda url: {**account, "token_uri": f"{url}/token"}


@pytest.fixture
def google(fake_google_api, account_for):
    """``url, api, hook``: the scripted API and a hook whose ``api_root`` is that server."""
    url, api = fake_google_api
    return url, api, AsyncGcpHook(service_file=account_for(url), api_root=url)


def test_every_kind_is_listed_with_its_identifiers_and_states():
    listed = job_kinds()
    assert set(IDS) <= set(listed)
    for case in CASES:
        kind = listed[case.kind]
        assert set(case.identifiers) <= set(kind.identifiers)
        assert case.done_status in kind.success and case.failed_status in kind.failure
        assert case.running_status not in kind.states


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_success(google, case):
    _url, api, hook = google
    api.resources[case.path] = [case.running, case.running, case.done]
    if case.kind == "bigquery":
        api.jobs["j-1"] = [case.running, case.running, case.done]
    async with hook:
        result = await hook.wait_for_job(case.kind, "j-1", **case.identifiers, **QUICK)
    assert result.succeeded and result.status == case.done_status
    assert result.polls == 3 and result.job_id == "j-1"
    assert api.requests[case.path] == 3  # the real API's path, under api_root


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_failure_carries_the_kinds_reason(google, case):
    _url, api, hook = google
    api.resources[case.path] = [case.running, case.failed]
    if case.kind == "bigquery":
        api.jobs["j-1"] = [case.running, case.failed]
    async with hook:
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job(case.kind, "j-1", **case.identifiers, **QUICK)
    assert caught.value.reason == case.reason
    assert caught.value.result.status == case.failed_status


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_time_out_names_the_last_state(google, case):
    _url, api, hook = google
    api.resources[case.path] = [case.running]
    api.jobs["j-1"] = [case.running]
    async with hook:
        with pytest.raises(JobTimeoutError) as caught:
            await hook.wait_for_job(
                case.kind, "j-1", **case.identifiers, timeout=NEVER_DONE_TIMEOUT, **QUICK
            )
    assert caught.value.last_status == case.running_status
    assert caught.value.result is not None and caught.value.result.polls >= 1


async def test_a_full_resource_name_uses_its_own_project_and_location(google):
    _url, api, hook = google
    path = "/v1/projects/other/locations/asia-east1/customJobs/77"
    api.resources[path] = [{"state": "JOB_STATE_SUCCEEDED"}]
    async with hook:
        result = await hook.wait_for_job(
            "vertex-custom-job",
            "projects/other/locations/asia-east1/customJobs/77",
            location="us-central1",  # the name's location wins
            **QUICK,
        )
    assert result.succeeded and api.requests[path] == 1
    assert result.job_id == "projects/other/locations/asia-east1/customJobs/77"


async def test_concurrent_waits_on_one_job_share_its_polls(google):
    _url, api, hook = google
    path = "/v1/projects/test-project/regions/r1/jobs/shared"
    running, done = {"status": {"state": "RUNNING"}}, {"status": {"state": "DONE"}}
    api.resources[path] = [running, running, done]
    async with hook:
        results = await asyncio.gather(
            *(hook.wait_for_job("dataproc", "shared", location="r1", **QUICK) for _ in range(20))
        )
    assert all(r.succeeded and r.polls == 3 for r in results)
    assert api.requests[path] == 3  # one poll per tick for all 20 waits


async def test_coalesce_false_polls_alone(google):
    _url, api, hook = google
    path = "/v1/projects/test-project/regions/r1/jobs/alone"
    api.resources[path] = [{"status": {"state": "RUNNING"}}, {"status": {"state": "DONE"}}]
    async with hook:
        result = await hook.wait_for_job(
            "dataproc", "alone", location="r1", coalesce=False, **QUICK
        )
    assert result.succeeded and result.polls == 2 and api.requests[path] == 2


CANCELS = [
    ("bigquery", {"location": "EU"}, "POST",
     "/bigquery/v2/projects/test-project/jobs/c-1/cancel?location=EU", None),
    ("dataproc", {"location": "r1"}, "POST", "/v1/projects/test-project/regions/r1/jobs/c-1:cancel",
     {}),
    ("dataflow", {"location": "r1"}, "PUT", "/v1b3/projects/test-project/locations/r1/jobs/c-1",
     {"requestedState": "JOB_STATE_CANCELLED"}),
    ("vertex-custom-job", {"location": "r1"}, "POST",
     "/v1/projects/test-project/locations/r1/customJobs/c-1:cancel", {}),
    ("vertex-pipeline", {"location": "r1"}, "POST",
     "/v1/projects/test-project/locations/r1/pipelineJobs/c-1:cancel", {}),
    ("cloud-build", {"location": "r1"}, "POST",
     "/v1/projects/test-project/locations/r1/builds/c-1:cancel",
     {"projectId": "test-project", "id": "c-1"}),
    ("cloud-build", {}, "POST", "/v1/projects/test-project/builds/c-1:cancel", {}),
    ("cloud-run-job", {"location": "r1", "job": "nightly"}, "POST",
     "/v2/projects/test-project/locations/r1/jobs/nightly/executions/c-1:cancel", {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "identifiers", "method", "path", "body"),
    CANCELS,
    ids=[f"{c[0]}-{len(c[1])}" for c in CANCELS],
)
async def test_cancel_is_observed_at_the_server(google, kind, identifiers, method, path, body):
    _url, api, hook = google
    api.answers[f"{method} {path.partition('?')[0]}"] = {"name": "cancelled"}
    async with hook:
        answer = await hook.cancel_job(kind, "c-1", **identifiers)
    assert api.calls == [(method, path, body)]
    assert answer == {"name": "cancelled"}


async def test_cancelling_a_dataproc_batch_cancels_its_operation(google):
    _url, api, hook = google
    operation = "projects/test-project/regions/r1/operations/op-9"
    batch = "/v1/projects/test-project/locations/r1/batches/b-1"
    api.resources[batch] = [{"state": "RUNNING", "operation": operation}]
    async with hook:
        await hook.cancel_job("dataproc-batch", "b-1", location="r1")
    assert api.requests[batch] == 1
    assert api.calls == [("POST", f"/v1/{operation}:cancel", {})]


async def test_cancel_operation_by_name_and_by_a_google_url_under_api_root(google):
    url, api, hook = google
    async with hook:
        await hook.cancel_operation("projects/p/locations/l/operations/o1", api_root=f"{url}/v1")
        # A real Google URL goes to the hook's api_root, with its path kept.
        await hook.cancel_operation(
            "https://run.googleapis.com/v2/projects/p/locations/l/operations/o2"
        )
    assert api.calls == [
        ("POST", "/v1/projects/p/locations/l/operations/o1:cancel", {}),
        ("POST", "/v2/projects/p/locations/l/operations/o2:cancel", {}),
    ]


async def test_wait_for_operation_moves_a_google_url_under_api_root(google):
    _url, api, hook = google
    name = "projects/p/regions/r/operations/o3"
    api.operations[name] = [{"name": name, "done": True}]
    async with hook:
        result = await hook.wait_for_operation(
            name, api_root="https://dataproc.googleapis.com/v1", **QUICK
        )
    assert result.succeeded and api.requests[f"/v1/{name}"] == 1


async def test_storage_goes_under_api_root_too(google):
    _url, api, hook = google
    api.resources["/storage/v1/b/data/o/x.json"] = [{"name": "x.json", "bucket": "data"}]
    async with hook:
        assert await hook.exists("data", "x.json")
    assert api.requests["/storage/v1/b/data/o/x.json"] == 1


def test_the_sync_facade_waits_and_cancels(fake_google_api, account_for):
    url, api = fake_google_api
    path = "/v1/projects/test-project/locations/r1/builds/s-1"
    api.resources[path] = [{"status": "QUEUED"}, {"status": "SUCCESS"}]
    hook = AsyncGcpHook(service_file=account_for(url), api_root=url)
    try:
        assert hook.sync.wait_for_job("cloud-build", "s-1", location="r1", **QUICK).succeeded
        hook.sync.cancel_job("cloud-build", "s-1", location="r1")
        hook.sync.cancel_operation("projects/p/operations/o", api_root=f"{url}/v1")
    finally:
        hook.sync.close()
    assert [c[1] for c in api.calls] == [f"{path}:cancel", "/v1/projects/p/operations/o:cancel"]


def test_without_api_root_each_api_has_its_real_host():
    hook = AsyncGcpHook(project="p")
    hosts = {}
    for name, kind in job_kinds().items():
        values = {"location": "us-east4", "job": "j"}
        ref = kind.resolve("x", "p", {k: v for k, v in values.items() if k in kind.identifiers})
        hosts[name] = hook._job_url(ref).host
    assert (
        hosts["vertex-custom-job"]
        == hosts["vertex-pipeline"]
        == "us-east4-aiplatform.googleapis.com"
    )
    assert hosts["dataproc"] == hosts["dataproc-batch"] == "dataproc.googleapis.com"
    assert hosts["dataflow"] == "dataflow.googleapis.com"
    assert hosts["cloud-build"] == "cloudbuild.googleapis.com"
    assert hosts["cloud-run-job"] == "run.googleapis.com"
    assert hosts["bigquery"] == "bigquery.googleapis.com"


@pytest.mark.parametrize(
    ("kind", "job_id", "kwargs", "problem"),
    [
        ("dataproc", "j", {}, r"missing \['location'\]"),
        ("cloud-run-job", "j", {"location": "r1"}, r"missing \['job'\]"),
        ("dataflow", "j", {"location": "r1", "cluster": "c"}, r"unknown \['cluster'\]"),
        ("dataproc", "projects/p/locations/l/jobs/j", {}, "must look like projects/"),
        ("dataproc", "a/b", {"location": "r1"}, "without '/'"),
        ("dataproc", "j", {"location": "bad region"}, "location"),
        ("dataproc", "", {"location": "r1"}, "non-empty"),
        ("emr", "j", {}, "unknown GCP job kind 'emr'; known: bigquery, cloud-build"),
    ],
)
async def test_bad_names_are_config_errors(kind, job_id, kwargs, problem):
    hook = AsyncGcpHook(project="p")
    with pytest.raises(HookConfigError, match=problem):
        await hook.wait_for_job(kind, job_id, **kwargs)
    with pytest.raises(HookConfigError, match=problem):
        await hook.cancel_job(kind, job_id, **kwargs)


async def test_a_kind_without_a_cancel_is_named(monkeypatch):
    plain = dataclasses.replace(get_job_kind("dataflow"), name="no-cancel", cancel=None)
    monkeypatch.setitem(gcp_kinds._KINDS, "no-cancel", plain)
    hook = AsyncGcpHook(project="p")
    with pytest.raises(HookConfigError, match="'no-cancel' cannot be cancelled"):
        await hook.cancel_job("no-cancel", "j", location="r1")


async def test_a_closed_gcp_hook_leaves_no_cycle(fake_google_api, account_for):
    from tests.test_hook_cycles import cyclic_garbage

    url, api = fake_google_api
    case = next(c for c in CASES if c.kind != "bigquery")
    api.resources[case.path] = [case.done]
    async with AsyncGcpHook(service_file=account_for(url), api_root=url) as setup:
        await setup.wait_for_job(case.kind, "j-1", **case.identifiers, **QUICK)  # token, models
    with cyclic_garbage() as found:
        for _ in range(2):
            api.resources[case.path] = [case.running, case.done]
            hook = AsyncGcpHook(service_file=account_for(url), api_root=url)
            result = await hook.wait_for_job(case.kind, "j-1", **case.identifiers, **QUICK)
            await hook.close()
            assert result.succeeded
            del hook, result
    assert not found, found
