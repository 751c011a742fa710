"""A minimal AWS-JSON and HTTP endpoint, run in its own process (``python -m
benchmarks.endpoint --port P [--rate R] [--batch-polls K]``), so that client overhead is
measured against a server that costs next to nothing and does not share the client's GIL.

``--rate`` makes it a token bucket of R requests/s (burst R) that answers the rest with AWS's
``ThrottlingException``. ``GET /stats`` and ``POST /reset`` read and clear its counters.

It also answers AWS Batch ``DescribeJobs`` (rest-json, ``POST /v1/describejobs`` with
``{"jobs": [ids]}``): any id is a job, RUNNING from its first describe and SUCCEEDED on its
K-th (``--batch-polls``, default 6), counted per id in a dict. An item is *lean* (the members
DescribeJobs' JobDetail requires, and a running job's timestamps: ~400 bytes) unless its id
contains ``-full-``: then it carries what a container job's JobDetail has (container, attempts,
tags: 1.6-2 KB), so that the client parses what it would from AWS. Items are joined from a
template split at the id, which keeps a 100-id answer cheap to make.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from aiohttp import web

CLUSTERS = json.dumps({"clusterArns": []}).encode()
THROTTLED = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
COUNTERS = ("requests", "throttled", "describe_calls", "ids_described")
ID = "@ID@"  # where a job's id goes in the templates below
ACCOUNT = "arn:aws:batch:us-east-1:123456789012"
_CONTAINER: dict[str, object] = {
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/etl:2026.11.25",
    "command": ["python", "-m", "etl.run", "--date", "2026-11-25"],
    "jobRoleArn": "arn:aws:iam::123456789012:role/etl-job",
    "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    "volumes": [],
    "environment": [{"name": "STAGE", "value": "prod"}, {"name": "LOG_LEVEL", "value": "info"}],
    "mountPoints": [],
    "ulimits": [],
    "logStreamName": f"etl/default/{ID}",
    "networkInterfaces": [{"attachmentId": f"eni-{ID}", "privateIpv4Address": "10.0.1.23"}],
    "resourceRequirements": [{"value": "1", "type": "VCPU"}, {"value": "2048", "type": "MEMORY"}],
    "secrets": [],
    "networkConfiguration": {"assignPublicIp": "DISABLED"},
    "fargatePlatformConfiguration": {"platformVersion": "LATEST"},
    "ephemeralStorage": {"sizeInGiB": 21},
    "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
    "taskArn": f"arn:aws:ecs:us-east-1:123456789012:task/batch/{ID}",
}
_JOB: dict[str, object] = {
    "jobArn": f"{ACCOUNT}:job/{ID}",
    "jobName": f"etl-{ID}",
    "jobId": ID,
    "jobQueue": f"{ACCOUNT}:job-queue/etl",
    "status": "RUNNING",
    "attempts": [],
    "createdAt": 1764090000000,
    "retryStrategy": {"attempts": 1, "evaluateOnExit": []},
    "startedAt": 1764090012000,
    "dependsOn": [],
    "jobDefinition": f"{ACCOUNT}:job-definition/etl:7",
    "parameters": {},
    "container": _CONTAINER,
    "timeout": {"attemptDurationSeconds": 3600},
    "tags": {"team": "data", "pipeline": "etl"},
    "propagateTags": True,
    "platformCapabilities": ["FARGATE"],
    "eksAttempts": [],
    "isCancelled": False,
    "isTerminated": False,
}
_DONE = dict(
    _JOB,
    status="SUCCEEDED",
    statusReason="Essential container in task exited",
    stoppedAt=1764090312000,
    container=dict(_CONTAINER, exitCode=0),
    attempts=[
        {
            "container": {
                "taskArn": _CONTAINER["taskArn"],
                "exitCode": 0,
                "logStreamName": _CONTAINER["logStreamName"],
                "networkInterfaces": _CONTAINER["networkInterfaces"],
            },
            "startedAt": 1764090012000,
            "stoppedAt": 1764090312000,
            "statusReason": "Essential container in task exited",
        }
    ],
)
RUNNING, SUCCEEDED = (json.dumps(job).split(ID) for job in (_JOB, _DONE))
_LEAN_KEYS = (
    "jobArn", "jobName", "jobId", "jobQueue", "status", "createdAt", "startedAt", "jobDefinition",
)  # fmt: skip
_LEAN_DONE = {key: _DONE[key] for key in _LEAN_KEYS}
_LEAN_DONE.update(stoppedAt=_DONE["stoppedAt"], statusReason=_DONE["statusReason"])
LEAN_RUNNING, LEAN_SUCCEEDED = (
    json.dumps(job).split(ID) for job in ({key: _JOB[key] for key in _LEAN_KEYS}, _LEAN_DONE)
)
FULL = "-full-"  # an id containing this is answered with full job details


def app(rate: float | None, batch_polls: int = 6) -> web.Application:
    state = {"requests": 0, "throttled": 0, "tokens": rate or 0.0, "at": 0.0}
    state.update(describe_calls=0, ids_described=0)
    described: dict[str, int] = {}  # Batch job id -> describes so far

    def admit() -> bool:
        if rate is None:
            return True
        now = asyncio.get_running_loop().time()
        if not state["at"]:
            state["at"] = now
        state["tokens"] = min(rate, state["tokens"] + (now - state["at"]) * rate)
        state["at"] = now
        if state["tokens"] >= 1:
            state["tokens"] -= 1
            return True
        return False

    async def aws(request: web.Request) -> web.Response:
        await request.read()
        state["requests"] += 1
        if not admit():
            state["throttled"] += 1
            return web.Response(
                body=THROTTLED, status=400, content_type="application/x-amz-json-1.1"
            )
        return web.Response(body=CLUSTERS, content_type="application/x-amz-json-1.1")

    async def describe_jobs(request: web.Request) -> web.Response:
        ids = json.loads(await request.read())["jobs"]
        state["requests"] += 1
        state["describe_calls"] += 1
        state["ids_described"] += len(ids)
        items = []
        for job_id in ids:
            count = described[job_id] = described.get(job_id, 0) + 1
            if FULL in job_id:
                template = SUCCEEDED if count >= batch_polls else RUNNING
            else:
                template = LEAN_SUCCEEDED if count >= batch_polls else LEAN_RUNNING
            items.append(json.dumps(job_id)[1:-1].join(template))
        body = '{"jobs": [' + ", ".join(items) + "]}"
        return web.Response(body=body.encode(), content_type="application/json")

    async def ping(request: web.Request) -> web.Response:
        state["requests"] += 1
        return web.Response(body=b'{"ok": true}', content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({key: state[key] for key in COUNTERS})

    async def reset(request: web.Request) -> web.Response:
        state.update(requests=0, throttled=0, tokens=rate or 0.0, at=0.0)
        state.update(describe_calls=0, ids_described=0)
        described.clear()
        return web.json_response({})

    application = web.Application()
    application.router.add_post("/", aws)
    application.router.add_post("/v1/describejobs", describe_jobs)
    application.router.add_get("/ping", ping)
    application.router.add_get("/stats", stats)
    application.router.add_post("/reset", reset)
    return application


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--batch-polls", type=int, default=6, help="describes until SUCCEEDED")
    args = parser.parse_args()
    application = app(args.rate, args.batch_polls)
    web.run_app(application, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
