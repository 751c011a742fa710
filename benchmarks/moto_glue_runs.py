"""CPU of one ``GetJobRuns`` page of 200 runs (of a job's 500, as the deployment benchmark's
jobs hold), answered by moto's own serializer and by the counting moto's ``--fast-glue-runs``,
in this process (moto's WSGI app, no network): what the deployment benchmark's cloud stand-in
costs the cores it shares with the deployment, per page its pollers read.

``python -m benchmarks.moto_glue_runs`` (in the ``bench_airflow_deployment`` session's
environment) prints the median of five rounds of 30 pages each.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

from async_hooks.testing._moto_process import counting

RUNS, PAGE, PAGES, ROUNDS = 500, 200, 30, 5


def _headers(operation: str) -> dict[str, str]:
    return {
        "X-Amz-Target": f"AWSGlue.{operation}",
        "Content-Type": "application/x-amz-json-1.1",
        "Host": "glue.us-east-1.amazonaws.com",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/glue/"
        "aws4_request, SignedHeaders=host, Signature=0",
    }


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    app = DomainDispatcherApplication(create_backend_app)
    own, fast = Client(counting(app)), Client(counting(app, fast_glue_runs=True))
    command = {"Name": "glueetl", "ScriptLocation": "s3://bucket/etl.py"}
    job = {"Name": "etl", "Role": "r", "Command": command}
    own.post(
        "/",
        json={**job, "ExecutionProperty": {"MaxConcurrentRuns": RUNS}},
        headers=_headers("CreateJob"),
    )
    for _ in range(RUNS):
        own.post("/", json={"JobName": "etl"}, headers=_headers("StartJobRun"))
    body = {"JobName": "etl", "MaxResults": PAGE}

    def page(client: Any) -> list[Any]:
        runs: list[Any] = json.loads(
            client.post("/", json=body, headers=_headers("GetJobRuns")).data
        )["JobRuns"]
        return runs

    assert page(own) == page(fast), "the fast answer differs from moto's"
    samples: dict[str, list[float]] = {"moto's serializer": [], "--fast-glue-runs": []}
    for _ in range(ROUNDS):
        for times, client in zip(samples.values(), (own, fast), strict=True):
            began = time.process_time()
            for _ in range(PAGES):
                page(client)
            times.append((time.process_time() - began) / PAGES * 1000)
    for name, times in samples.items():
        print(f"{name}: {statistics.median(times):.1f} ms of CPU a page of {PAGE} runs")


if __name__ == "__main__":
    main()
