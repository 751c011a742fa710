"""AWS jobs on a moto server: launch N of a kind, and make them finish after a few polls.

Shared by the demo, the tests and the benchmarks, so that one place knows what each kind needs
(ECS: a VPC with DNS hostnames, a security group, a Fargate task definition; Batch: a role, a
compute environment and a queue; Glue: a job allowing N concurrent runs).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from async_hooks.aws import AsyncAwsHook
from async_hooks.testing.moto import MotoServer

__all__ = [
    "KINDS",
    "TERMINAL",
    "JobSet",
    "create_glue_job",
    "launch",
    "launch_ecs",
    "prepare",
    "start_executions",
    "start_glue_runs",
]

KINDS = ("ecs", "glue", "batch")


@dataclass
class JobSet:
    """Jobs of one kind, ready to be waited on: ``ids``, and the ``identifiers`` each
    ``wait_for_job(kind, job_id, **identifiers)`` needs (``cluster`` for ECS, ``job_name`` for
    Glue, none for Batch)."""

    kind: str
    ids: list[str]
    identifiers: dict[str, Any]
    describe: str  # the single-job describe operation (for the blocking baseline)

    def describe_params(self, job_id: str) -> dict[str, Any]:
        if self.kind == "ecs":
            return {"cluster": self.identifiers["cluster"], "tasks": [job_id]}
        if self.kind == "glue":
            return {"JobName": self.identifiers["job_name"], "RunId": job_id}
        return {"jobs": [job_id]}

    @staticmethod
    def status_of(kind: str, answer: dict[str, Any]) -> str:
        if kind == "ecs":
            return str(answer["tasks"][0]["lastStatus"])
        if kind == "glue":
            return str(answer["JobRun"]["JobRunState"])
        return str(answer["jobs"][0]["status"])


TERMINAL = {"ecs": {"STOPPED"}, "glue": {"SUCCEEDED", "FAILED", "ERROR", "TIMEOUT", "STOPPED"},
            "batch": {"SUCCEEDED", "FAILED"}}  # fmt: skip


def prepare(moto: MotoServer, kind: str) -> None:
    """Reset ``moto`` and set its knobs for ``launch``: Batch without Docker; ECS tasks and
    Glue runs advance one state per describe, so a wait sees them run, then finish."""
    moto.reset()
    moto.set_config({"batch": {"use_docker": False}})
    moto.set_transition("ecs::task", {"progression": "manual", "times": 1})
    moto.set_transition("glue::job_run", {"progression": "manual", "times": 2})


async def launch(hook: AsyncAwsHook, kind: str, count: int, tag: str) -> JobSet:
    """Create what ``kind`` (``"ecs"``, ``"glue"`` or ``"batch"``) needs on the server
    ``hook`` talks to, start ``count`` jobs, and return them as a ``JobSet``.

    ECS gets a VPC (DNS hostnames on), a subnet, a security group, a Fargate task definition
    and one cluster; Glue a job allowing ``count`` concurrent runs (moto's default is one);
    Batch a role, an unmanaged compute environment, a queue and a job definition. ``tag`` goes
    into every name, so two sets in one test (or one moto) do not collide. Call ``prepare``
    first, so that the jobs finish after a few polls:

        prepare(moto_server, "glue")
        async with AsyncAwsHook(endpoint_url=moto_server.url) as hook:
            jobs = await launch(hook, "glue", 3, tag="t")
            for job_id in jobs.ids:
                await hook.wait_for_job(jobs.kind, job_id, **jobs.identifiers)
    """
    if kind == "ecs":
        return await _launch_ecs(hook, count, tag)
    if kind == "glue":
        return await _launch_glue(hook, count, tag)
    return await _launch_batch(hook, count, tag)


async def _launch_ecs(hook: AsyncAwsHook, count: int, tag: str) -> JobSet:
    (jobs,) = await launch_ecs(hook, count, tag, per_cluster=count)
    return jobs


async def launch_ecs(
    hook: AsyncAwsHook, count: int, tag: str, *, per_cluster: int = 100
) -> list[JobSet]:
    """``count`` Fargate tasks in clusters of at most ``per_cluster``, one ``JobSet`` each
    (moto scans a cluster's tasks on every describe, so big clusters measure moto)."""
    vpc = (await hook.call("ec2", "create_vpc", CidrBlock="10.0.0.0/16"))["Vpc"]["VpcId"]
    await hook.call("ec2", "modify_vpc_attribute", VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = await hook.call("ec2", "create_subnet", VpcId=vpc, CidrBlock="10.0.1.0/24")
    group = await hook.call(
        "ec2", "create_security_group", GroupName=f"g-{tag}", Description="demo", VpcId=vpc
    )
    await hook.call(
        "ecs",
        "register_task_definition",
        family=f"etl-{tag}",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "etl", "image": "etl:1", "memory": 128, "cpu": 64}],
    )
    network = {
        "awsvpcConfiguration": {
            "subnets": [subnet["Subnet"]["SubnetId"]],
            "securityGroups": [group["GroupId"]],
        }
    }
    sizes = [min(per_cluster, count - start) for start in range(0, count, per_cluster)]
    clusters = [f"demo-{tag}" if len(sizes) == 1 else f"demo-{tag}-{n}" for n in range(len(sizes))]
    await asyncio.gather(
        *(hook.call("ecs", "create_cluster", clusterName=name) for name in clusters)
    )

    async def run(cluster: str, size: int) -> JobSet:
        runs = await asyncio.gather(
            *(
                hook.call(
                    "ecs",
                    "run_task",
                    cluster=cluster,
                    taskDefinition=f"etl-{tag}",
                    launchType="FARGATE",
                    count=min(10, size - start),
                    networkConfiguration=network,
                )
                for start in range(0, size, 10)
            )
        )
        ids = [task["taskArn"].rsplit("/", 1)[1] for answer in runs for task in answer["tasks"]]
        return JobSet("ecs", ids, {"cluster": cluster}, "describe_tasks")

    return list(
        await asyncio.gather(*(run(name, size) for name, size in zip(clusters, sizes, strict=True)))
    )


async def _launch_glue(hook: AsyncAwsHook, count: int, tag: str) -> JobSet:
    name = await create_glue_job(hook, f"etl-{tag}", count)
    runs = await start_glue_runs(hook, name, count)
    return JobSet("glue", runs, {"job_name": name}, "get_job_run")


async def create_glue_job(hook: AsyncAwsHook, name: str, max_runs: int) -> str:
    """A Glue job that allows ``max_runs`` concurrent runs (moto's default is one); its name."""
    await hook.call(
        "glue",
        "create_job",
        Name=name,
        Role="etl",
        Command={"Name": "glueetl"},
        ExecutionProperty={"MaxConcurrentRuns": max_runs},
    )
    return name


async def start_glue_runs(hook: AsyncAwsHook, name: str, count: int) -> list[str]:
    """Start ``count`` runs of the Glue job ``name``; their run ids."""
    runs = await asyncio.gather(
        *(hook.call("glue", "start_job_run", JobName=name) for _ in range(count))
    )
    return [run["JobRunId"] for run in runs]


async def _launch_batch(hook: AsyncAwsHook, count: int, tag: str) -> JobSet:
    role = await hook.call(
        "iam", "create_role", RoleName=f"batch-{tag}", AssumeRolePolicyDocument="{}"
    )
    env = await hook.call(
        "batch",
        "create_compute_environment",
        computeEnvironmentName=f"env-{tag}",
        type="UNMANAGED",
        state="ENABLED",
        serviceRole=role["Role"]["Arn"],
    )
    await hook.call(
        "batch",
        "create_job_queue",
        jobQueueName=f"queue-{tag}",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}],
    )
    await hook.call(
        "batch",
        "register_job_definition",
        jobDefinitionName=f"def-{tag}",
        type="container",
        containerProperties={"image": "etl:1", "vcpus": 1, "memory": 128, "command": ["true"]},
    )
    jobs = await asyncio.gather(
        *(
            hook.call(
                "batch",
                "submit_job",
                jobName=f"job-{n}",
                jobQueue=f"queue-{tag}",
                jobDefinition=f"def-{tag}",
            )
            for n in range(count)
        )
    )
    return JobSet("batch", [job["jobId"] for job in jobs], {}, "describe_jobs")


async def start_executions(
    hook: AsyncAwsHook, outcomes: dict[str, tuple[str, str] | None]
) -> dict[str, str]:
    """One Step Functions execution per name: ``None`` succeeds (a Pass state), ``(error,
    cause)`` fails with them. moto runs them once ``{"stepfunctions": {"execute_state_machine":
    True}}`` is set, before the state machines are created. Returns name -> execution ARN."""
    executions = {}
    for name, failure in outcomes.items():
        state: dict[str, Any] = (
            {"Type": "Pass", "End": True}
            if failure is None
            else {"Type": "Fail", "Error": failure[0], "Cause": failure[1]}
        )
        machine = await hook.call(
            "stepfunctions",
            "create_state_machine",
            name=name,
            roleArn="arn:aws:iam::123456789012:role/sfn",
            definition=json.dumps({"StartAt": "S", "States": {"S": state}}),
        )
        run = await hook.call(
            "stepfunctions", "start_execution", stateMachineArn=machine["stateMachineArn"]
        )
        executions[name] = str(run["executionArn"])
    return executions
