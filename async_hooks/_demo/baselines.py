"""The demo's two baselines, both plain boto3: a thread per job (what operators write first),
and one thread describing up to 100 ids per call (what a careful hand-written poller does).

Each reports every status it sees to a ``Tracker`` (from its threads: the tracker is only
read by the display) and counts its calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from async_hooks._cli.display import Tracker
from async_hooks.testing.aws_jobs import TERMINAL, JobSet

__all__ = ["BATCH", "GOOD", "Calls", "batched", "batched_name", "thread_per_job"]

#: Ids per describe call of the careful poller (ECS DescribeTasks' limit).
BATCH = 100
#: The states the baselines count as success (ECS: a stopped task; no exit-code check here).
#: Not Batch: moto's Batch jobs have succeeded when they are submitted (nothing to wait on).
GOOD = {"ecs": {"STOPPED"}, "glue": {"SUCCEEDED"}}


def batched_name(kind: str) -> str:
    """The careful poller's row: how it batches this kind."""
    if kind == "glue":
        return "boto3: one thread, GetJobRuns pages"
    return f"boto3: one thread, {BATCH} ids a call"


class Calls:
    """A call counter that threads share."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.value += n

    def __call__(self) -> int:
        return self.value


def thread_per_job(
    client: Any,
    jobs: JobSet,
    poll_interval: float,
    tracker: Tracker,
    calls: Calls,
    threads_seen: Callable[[], None],
) -> list[str]:
    """A thread per job, each describing its job and sleeping; the final statuses."""
    outcomes: list[str] = []
    lock = threading.Lock()

    def wait(job_id: str) -> None:
        while True:
            answer = getattr(client, jobs.describe)(**jobs.describe_params(job_id))
            calls.add()
            status = JobSet.status_of(jobs.kind, answer)
            tracker.update(job_id, status)
            if status in TERMINAL[jobs.kind]:
                with lock:
                    outcomes.append(status)
                tracker.end(job_id)
                return
            time.sleep(poll_interval)

    threads = [threading.Thread(target=wait, args=(job,), daemon=True) for job in jobs.ids]
    for thread in threads:
        thread.start()
    threads_seen()
    for thread in threads:
        thread.join()
    return outcomes


def _chunks(ids: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _describe_many(client: Any, jobs: JobSet, ids: list[str], calls: Calls) -> dict[str, str]:
    """Statuses of ``ids`` by id: 100 ids a call (ECS, Batch); Glue, which has no describe by
    ids, through ``GetJobRuns`` pages of 200 runs."""
    found: dict[str, str] = {}
    if jobs.kind == "glue":
        wanted, token = set(ids), None
        while wanted - set(found):
            page = client.get_job_runs(
                JobName=jobs.identifiers["job_name"],
                MaxResults=200,
                **({"NextToken": token} if token else {}),
            )
            calls.add()
            found.update({run["Id"]: run["JobRunState"] for run in page.get("JobRuns", [])})
            token = page.get("NextToken")
            if not token:
                break
        return found
    for chunk in _chunks(ids, BATCH):
        if jobs.kind == "ecs":
            answer = client.describe_tasks(cluster=jobs.identifiers["cluster"], tasks=chunk)
            calls.add()
            found.update({t["taskArn"].rsplit("/", 1)[1]: t["lastStatus"] for t in answer["tasks"]})
        else:
            answer = client.describe_jobs(jobs=chunk)
            calls.add()
            found.update({j["jobId"]: j["status"] for j in answer["jobs"]})
    return found


def batched(
    client: Any, jobs: JobSet, poll_interval: float, tracker: Tracker, calls: Calls
) -> list[str]:
    """One thread polling every pending job per round, up to 100 ids a call; final statuses."""
    pending = list(jobs.ids)
    outcomes: list[str] = []
    while pending:
        statuses = _describe_many(client, jobs, pending, calls)
        still: list[str] = []
        for job_id in pending:
            status = statuses.get(job_id)
            if status is None:
                still.append(job_id)
                continue
            tracker.update(job_id, status)
            if status in TERMINAL[jobs.kind]:
                outcomes.append(status)
                tracker.end(job_id)
            else:
                still.append(job_id)
        pending = still
        if pending:
            time.sleep(poll_interval)
    return outcomes
