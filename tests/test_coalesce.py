"""Poll coalescing: concurrent waits share batch-describe calls; per-wait semantics hold."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import pytest

from async_hooks import AsyncAwsHook, JobFailedError, JobTimeoutError, NotFoundError, RetryPolicy
from async_hooks.testing.aws_jobs import launch
from async_hooks.testing.jobserver import until

QUICK = {"poll_interval": 0.05, "jitter": 0.1, "timeout": 30}
#: For tests that count calls per poll: a tick gathers the polls due within a tenth of the
#: interval, and 50 ms holds waits started together in one tick even on a busy machine (5 ms,
#: QUICK's, does not when the process is preempted in the middle of resuming them).
IN_STEP = {"poll_interval": 0.5, "jitter": 0.1, "timeout": 60}


def _hook(url: str, **kwargs) -> AsyncAwsHook:
    return AsyncAwsHook(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **kwargs,
    )


class AthenaBoard:
    """Athena's query states, advanced by each time a query is described."""

    def __init__(self, ids: list[str], *, polls: int = 2, unprocessed: set[str] = frozenset()):
        self.seen: Counter[str] = Counter()
        self.polls = polls
        self.unprocessed = set(unprocessed)
        self.batch_sizes: list[int] = []
        self.batches: list[list[str]] = []
        self.ids = ids
        self.hold_first_batch = False  # hold the first batch answer until ``release`` is set
        self.held = threading.Event()
        self.release = threading.Event()

    def _execution(self, query_id: str) -> dict:
        self.seen[query_id] += 1
        if self.seen[query_id] <= self.polls:
            status = {"State": "RUNNING"}
        elif query_id.endswith("-bad"):
            status = {"State": "FAILED", "StateChangeReason": f"{query_id}: syntax error"}
        else:
            status = {"State": "SUCCEEDED"}
        return {"QueryExecutionId": query_id, "Status": status}

    def batch(self, body: dict) -> tuple[int, dict]:
        ids = body["QueryExecutionIds"]
        self.batch_sizes.append(len(ids))
        self.batches.append(list(ids))
        if self.hold_first_batch and len(self.batches) == 1:
            self.held.set()
            # Blocks the endpoint's own thread (answers are computed synchronously there): the
            # batch call stays in flight until the test lets it go.
            assert self.release.wait(30), "the test never released the held batch call"
        found = [self._execution(i) for i in ids if i not in self.unprocessed]
        unprocessed = [
            {"QueryExecutionId": i, "ErrorCode": "X", "ErrorMessage": "later"}
            for i in ids
            if i in self.unprocessed
        ]
        return 200, {"QueryExecutions": found, "UnprocessedQueryExecutionIds": unprocessed}

    def single(self, body: dict) -> tuple[int, dict]:
        return 200, {"QueryExecution": self._execution(body["QueryExecutionId"])}


def _athena(aws_json_endpoint, board: AthenaBoard, answers=None):
    return aws_json_endpoint(
        answers or {},
        default={"BatchGetQueryExecution": board.batch, "GetQueryExecution": board.single},
    )


async def test_athena_waits_share_batch_calls_of_at_most_50(aws_json_endpoint):
    ids = [f"q{n}" for n in range(118)] + ["q-bad", "q-lost"]
    board = AthenaBoard(ids, unprocessed={"q-lost"})
    endpoint = _athena(aws_json_endpoint, board)
    async with _hook(endpoint.url) as hook:
        outcomes = await asyncio.gather(
            *(hook.wait_for_job("athena", query, **QUICK) for query in ids),
            return_exceptions=True,
        )
    by_id = dict(zip(ids, outcomes, strict=True))
    assert all(by_id[q].status == "SUCCEEDED" for q in ids if q != "q-bad")
    assert isinstance(by_id["q-bad"], JobFailedError)
    assert by_id["q-bad"].reason == "q-bad: syntax error"
    assert max(board.batch_sizes) <= 50
    # q-lost was left out of every batch answer and polled alone, three times.
    assert endpoint.count("GetQueryExecution") == 3
    assert endpoint.count("BatchGetQueryExecution") <= 3 * 3 * 2  # 3 ticks, 3 chunks, jitter
    assert by_id["q0"].polls == 3


async def test_each_wait_keeps_its_own_timeout(aws_json_endpoint):
    board = AthenaBoard(["slow", "fast"])
    board.polls = 2
    endpoint = _athena(aws_json_endpoint, board)
    board.seen["slow"] = -1000  # stays RUNNING
    async with _hook(endpoint.url) as hook:
        slow = asyncio.create_task(hook.wait_for_job("athena", "slow", **{**QUICK, "timeout": 0.3}))
        fast = await hook.wait_for_job("athena", "fast", **QUICK)
        with pytest.raises(JobTimeoutError):
            await slow
    assert fast.succeeded


async def test_a_cancelled_wait_leaves_its_tick_and_fails_nobody(aws_json_endpoint):
    board = AthenaBoard([f"q{n}" for n in range(10)], polls=3)
    board.hold_first_batch = True
    endpoint = _athena(aws_json_endpoint, board)
    async with _hook(endpoint.url) as hook:
        tasks = [
            asyncio.create_task(hook.wait_for_job("athena", f"q{n}", **QUICK)) for n in range(10)
        ]
        await until(board.held.is_set)  # the first tick's batch call, with q3 in it, in flight
        tasks[3].cancel()
        await asyncio.wait([tasks[3]])  # q3's wait ended while its tick was still out
        board.release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[3], asyncio.CancelledError)
    assert all(r.succeeded for n, r in enumerate(results) if n != 3)
    assert "q3" in board.batches[0]
    assert len(board.batches) > 1 and not any("q3" in batch for batch in board.batches[1:])


async def test_a_failing_batch_call_never_fails_the_waits(aws_json_endpoint):
    board = AthenaBoard([f"q{n}" for n in range(5)], polls=1)
    failing = (500, {"__type": "InternalServerException", "message": "down"})
    endpoint = _athena(aws_json_endpoint, board, {"BatchGetQueryExecution": [failing] * 4})
    policy = RetryPolicy(max_attempts=2, initial_backoff=0.001, max_backoff=0.002)
    async with _hook(endpoint.url, retry=policy) as hook:
        results = await asyncio.gather(
            *(hook.wait_for_job("athena", f"q{n}", **QUICK) for n in range(5))
        )
    assert all(r.succeeded for r in results)
    assert endpoint.count("GetQueryExecution") == 0  # transient: the waits polled again


async def test_a_refused_batch_call_falls_back_to_single_polls(aws_json_endpoint):
    board = AthenaBoard([f"q{n}" for n in range(4)], polls=0)
    refused = (400, {"__type": "InvalidRequestException", "message": "bad id in batch"})
    endpoint = _athena(aws_json_endpoint, board, {"BatchGetQueryExecution": [refused]})
    async with _hook(endpoint.url) as hook:
        results = await asyncio.gather(
            *(hook.wait_for_job("athena", f"q{n}", **QUICK) for n in range(4))
        )
    assert all(r.succeeded for r in results)
    assert endpoint.count("GetQueryExecution") == 4


async def test_coalesce_false_polls_alone(aws_json_endpoint):
    board = AthenaBoard([f"q{n}" for n in range(5)], polls=1)
    endpoint = _athena(aws_json_endpoint, board)
    async with _hook(endpoint.url) as hook:
        await asyncio.gather(
            *(hook.wait_for_job("athena", f"q{n}", coalesce=False, **QUICK) for n in range(5))
        )
    assert endpoint.count("BatchGetQueryExecution") == 0
    assert endpoint.count("GetQueryExecution") == 10


@pytest.mark.slow
async def test_1000_batch_waits_issue_a_fiftieth_of_the_describe_calls(moto_server):
    """Also issue 3's "1,000 concurrent waits on moto with one client", alone and shared."""
    moto_server.set_config({"batch": {"use_docker": False}})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        jobs = (await launch(hook, "batch", 1000, "t")).ids
        alone = await asyncio.gather(
            *(hook.wait_for_job("batch", job, coalesce=False, poll_interval=0.5) for job in jobs)
        )
        calls_alone = hook.stats()["operations"]["aws:batch:describe_jobs"]["calls"]
        shared = await asyncio.gather(
            *(hook.wait_for_job("batch", job, poll_interval=0.5) for job in jobs)
        )
        calls_shared = hook.stats()["operations"]["aws:batch:describe_jobs"]["calls"] - calls_alone
        clients = hook.stats()["clients_created"]
    assert clients == 2  # iam (to set up) and batch: 2,000 waits on one batch client
    assert [(r.job_id, r.status) for r in alone] == [(r.job_id, r.status) for r in shared]
    assert calls_alone == 1000
    assert calls_shared <= calls_alone / 50
    print(f"1000 batch waits: {calls_alone} describe calls alone, {calls_shared} coalesced")


async def test_ecs_waits_coalesce_per_cluster_across_several_polls(moto_server):
    moto_server.set_transition("ecs::task", {"progression": "manual", "times": 1})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        launched = await launch(hook, "ecs", 120, "t")
        tasks = launched.ids
        results = await asyncio.gather(
            *(hook.wait_for_job("ecs", task, **launched.identifiers, **IN_STEP) for task in tasks)
        )
        stats = hook.stats()["operations"]
    assert len(tasks) == 120
    assert all(r.succeeded and r.status == "STOPPED" for r in results)
    polls = sum(r.polls for r in results)
    describe_calls = stats["aws:ecs:describe_tasks"]["calls"]
    assert describe_calls <= polls / 20
    assert stats["aws:ecs:describe_task_definition"]["calls"] == 1  # cached per revision


async def test_a_closed_hook_does_not_break_the_polls_other_hooks_share(moto_server):
    """Triggers in one triggerer: each has its own hook on one connection, and ends (closing
    its hook) while others still wait. Their shared polls must go through a live hook."""
    moto_server.set_transition("ecs::task", {"progression": "manual", "times": 1})
    url = moto_server.url
    async with AsyncAwsHook(endpoint_url=url, region_name="us-east-1") as setup:
        launched = await launch(setup, "ecs", 4, "t")
        early, late = launched.ids[:2], launched.ids[2:]
        cluster = launched.identifiers["cluster"]
        for _ in range(2):  # moto's tasks stop on their fourth describe: `early` after two more
            await setup.call("ecs", "describe_tasks", cluster=cluster, tasks=early)
    first = AsyncAwsHook(endpoint_url=url, region_name="us-east-1")
    second = AsyncAwsHook(endpoint_url=url, region_name="us-east-1")

    def describe_calls(hook) -> int:
        return hook.stats()["operations"].get("aws:ecs:describe_tasks", {}).get("calls", 0)

    second_calls_when_first_closed: list[int] = []

    async def wait_first():
        async with first:
            done = await asyncio.gather(
                *(first.wait_for_job("ecs", t, **launched.identifiers, **QUICK) for t in early)
            )
        second_calls_when_first_closed.append(describe_calls(second))
        return done

    async def wait_second():
        # Join once `first` has started the shared poller; its waits end on their second poll,
        # ours need four: `second` polls on after `first` closed.
        await until(lambda: describe_calls(first) >= 1)
        async with second:
            return await asyncio.gather(
                *(second.wait_for_job("ecs", t, **launched.identifiers, **QUICK) for t in late)
            )

    # `first` starts the shared poller, finishes and closes while `second` still waits
    done_first, done_second = await asyncio.gather(wait_first(), wait_second())
    assert all(r.succeeded for r in done_first + done_second)
    assert done_second[0].polls > 1
    # `second` polled after `first` had closed: those shared polls went through a live hook.
    (calls_then,) = second_calls_when_first_closed
    assert describe_calls(second) > calls_then


async def test_glue_waits_on_runs_of_one_job_share_get_job_runs_pages(moto_server):
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 1})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        launched = await launch(hook, "glue", 250, "t")  # more than one page of 200
        results = await asyncio.gather(
            *(
                hook.wait_for_job("glue", run, **launched.identifiers, **IN_STEP)
                for run in launched.ids
            ),
            hook.wait_for_job("glue", "jr_nobody", **launched.identifiers, **IN_STEP),
            return_exceptions=True,
        )
        stats = hook.stats()["operations"]
    *runs, missing = results
    assert all(r.succeeded and r.status == "SUCCEEDED" for r in runs)
    assert isinstance(missing, NotFoundError)  # not in the pages, then polled alone: no such run
    polls = sum(r.polls for r in runs)
    pages = stats["aws:glue:get_job_runs"]["calls"]
    assert pages <= polls / 50
    assert stats["aws:glue:get_job_run"]["calls"] <= 3  # only the run that does not exist
    print(f"250 glue waits: {polls} polls, {pages} GetJobRuns pages")


async def test_coalesced_waits_started_together_stay_in_step_whatever_their_jitter(moto_server):
    """Jitter spreads lone polls; coalesced ones share a call, so they poll in step: 100 tasks
    asking for 50 % jitter still take one DescribeTasks per round of polls."""
    moto_server.set_transition("ecs::task", {"progression": "manual", "times": 1})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        launched = await launch(hook, "ecs", 100, "t")
        timing = {**IN_STEP, "jitter": 0.5}
        results = await asyncio.gather(
            *(hook.wait_for_job("ecs", t, **launched.identifiers, **timing) for t in launched.ids)
        )
        calls = hook.stats()["operations"]["aws:ecs:describe_tasks"]["calls"]
    rounds = max(r.polls for r in results)
    assert all(r.succeeded for r in results)
    assert calls <= rounds + 1, f"{calls} calls for {rounds} rounds of polls"


async def test_ecs_waits_started_over_several_intervals_share_one_schedule(moto_server):
    """The schedule is the coalescer's: 20 waits arriving in four groups, a tick apart (over
    three intervals), poll in the running ticks of their interval instead of on schedules of
    their own that never meet. Counted, not timed: describe calls per job poll."""
    never = 10**9  # moto's manual progression: the tasks stay RUNNING until told otherwise
    moto_server.set_transition("ecs::task", {"progression": "manual", "times": never})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        launched = await launch(hook, "ecs", 20, "t")

        def describe_calls() -> int:
            return hook.stats()["operations"].get("aws:ecs:describe_tasks", {}).get("calls", 0)

        waits = []
        for first in range(0, 20, 5):
            waits += [
                asyncio.create_task(
                    hook.wait_for_job("ecs", task, **launched.identifiers, **IN_STEP)
                )
                for task in launched.ids[first : first + 5]
            ]
            seen = describe_calls()
            await until(lambda seen=seen: describe_calls() > seen)  # a tick before the next 5
        seen = describe_calls()
        await until(lambda: describe_calls() >= seen + 4)  # all 20 polling together
        await asyncio.to_thread(
            moto_server.set_transition, "ecs::task", {"progression": "immediate"}
        )
        results = await asyncio.gather(*waits)
        stats = hook.stats()["operations"]
    assert all(r.succeeded and r.status == "STOPPED" for r in results)
    polls = sum(r.polls for r in results)
    calls = stats["aws:ecs:describe_tasks"]["calls"]
    assert calls <= 0.15 * polls, f"{calls} DescribeTasks calls for {polls} polls"
    assert stats["aws:ecs:describe_task_definition"]["calls"] == 1  # once, at the end
    print(f"20 staggered ECS waits: {polls} polls, {calls} DescribeTasks calls")
