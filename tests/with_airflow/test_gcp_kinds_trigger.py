"""A Google Cloud kind beyond BigQuery through ``WaitForJobTrigger``, unchanged: a Dataproc job
on the scripted Google API behind ``api_root``, judged with its own failure reason."""

from __future__ import annotations

from async_hooks.airflow import WaitForJobTrigger
from async_hooks.testing.gcp import make_service_account

from ._support import only_event, rebuilt

QUICK = {"poll_interval": 0.05, "jitter": 0.0}


async def test_a_dataproc_job_through_the_trigger(fake_google_api, secrets_backend):
    url, api = fake_google_api
    account = make_service_account(f"{url}/token")
    secrets_backend(
        {"gcp_etl": {"conn_type": "google_cloud_platform", "extra": {"keyfile_dict": account}}}
    )
    path = "/v1/projects/test-project/regions/europe-west1/jobs/spark-7"
    api.resources[path] = [
        {"status": {"state": "PENDING"}},
        {"status": {"state": "RUNNING"}},
        {"status": {"state": "ERROR", "details": "Google Cloud Dataproc Agent reports failure"}},
    ]
    trigger = rebuilt(
        WaitForJobTrigger(
            "gcp",
            hook_kwargs={"conn_id": "gcp_etl", "api_root": url},
            wait_args=["dataproc", "spark-7"],
            wait_kwargs={"location": "europe-west1", **QUICK},
        )
    )
    payload = await only_event(trigger)
    assert payload["status"] == "failed"
    assert payload["reason"] == "Google Cloud Dataproc Agent reports failure"
    assert payload["result"]["polls"] == 3
    assert api.requests[path] == 3
    assert account["private_key"] not in repr(trigger) + str(payload)


async def test_a_cloud_run_execution_by_full_name_through_the_trigger(fake_google_api):
    url, api = fake_google_api
    account = make_service_account(f"{url}/token")
    name = "projects/other/locations/us-east1/jobs/nightly/executions/nightly-abc"
    api.resources[f"/v2/{name}"] = [
        {"runningCount": 1},
        {"completionTime": "2026-01-01T00:00:00Z", "succeededCount": 3},
    ]
    trigger = rebuilt(
        WaitForJobTrigger(
            "gcp",
            hook_kwargs={"service_file": account, "api_root": url},
            wait_args=["cloud-run-job", name],
            wait_kwargs=QUICK,
        )
    )
    payload = await only_event(trigger)
    assert payload["status"] == "success"
    assert payload["result"]["status"] == "SUCCEEDED"
