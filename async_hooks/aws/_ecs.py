"""ECS tasks as Airflow's ``EcsRunTaskOperator`` judges them, and the task-definition look-up
that verdict needs once a task has stopped (which of its containers are essential)."""

from __future__ import annotations

import re
from typing import Any

from async_hooks.aws._context import KindContext

__all__ = ["VERDICT_READS", "essential_containers", "stopped_task", "verdict"]

#: What ``verdict`` reads of a task beyond its status (the status path's brief; ``_essential``
#: is what ``stopped_task`` adds once the task has stopped).
VERDICT_READS = ("stopCode", "stoppedReason", "containers.name", "containers.exitCode")

#: ``stoppedReason`` of a task whose host went away: no container exit code says so (Airflow's
#: ``EcsRunTaskOperator`` fails these too).
_HOST_GONE = re.compile(r"Host EC2 \(instance .+?\) (stopped|terminated)\.")


def verdict(task: dict[str, Any], status: str) -> bool | None:
    """STOPPED is a success only if the task started, its host did not go away, and it ran
    containers of which every essential one exited 0 (Airflow's verdict). A task that failed
    to start (``stopCode`` ``TaskFailedToStart``, no containers) failed, with its reason."""
    if status != "STOPPED":
        return None
    if task.get("stopCode") == "TaskFailedToStart":
        return False
    if _HOST_GONE.match(str(task.get("stoppedReason") or "")):
        return False
    containers = task.get("containers") or []
    if not containers:
        return False
    essential = task.get("_essential") or {}
    for container in containers:
        if essential.get(container.get("name"), True) and container.get("exitCode") != 0:
            return False
    return True


async def essential_containers(context: KindContext, task_definition_arn: str) -> dict[str, bool]:
    """Which containers of an ECS task definition are essential. Revisions are immutable, so
    each is described once per connection and loop, however many waits ask at once."""

    async def describe() -> dict[str, bool]:
        answer = await context.call(
            "ecs", "describe_task_definition", taskDefinition=task_definition_arn
        )
        containers = answer.get("taskDefinition", {}).get("containerDefinitions", [])
        return {c.get("name"): bool(c.get("essential", True)) for c in containers}

    return await context.shared(("ecs-essential", task_definition_arn), describe)


async def stopped_task(context: KindContext, task: dict[str, Any]) -> dict[str, Any]:
    """A stopped task with what the verdict and the failure reason need: which containers are
    essential (the task definition says; default: all) and which of them failed. A copy: the
    payload the shared schedule holds stays as the answer gave it."""
    task = dict(task)
    arn = task.get("taskDefinitionArn")
    if arn:
        task["_essential"] = await essential_containers(context, arn)
    failing = [
        f"{c.get('name')} exit {c.get('exitCode')}"
        for c in task.get("containers") or []
        if task.get("_essential", {}).get(c.get("name"), True) and c.get("exitCode") != 0
    ]
    if failing:
        task["_failing"] = ", ".join(failing)
    elif not task.get("containers") and not task.get("stoppedReason"):
        task["_failing"] = str(task.get("stopCode") or "no container ran")
    return task
