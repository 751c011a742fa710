"""Glue job runs described many at a time: Glue has no describe-by-ids for runs, and
``GetJobRuns`` lists a job's runs, newest first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from async_hooks.aws._context import KindContext

__all__ = ["GLUE_MAX_PAGES", "GLUE_PAGE", "recent_runs"]

#: GetJobRuns' largest page, and how many pages one poll of the runs of a job may read: 1,000
#: runs, Glue's limit of concurrent runs per job, so the runs being waited on (running, hence
#: among the newest) are all within reach.
GLUE_PAGE = 200
GLUE_MAX_PAGES = 5


async def recent_runs(
    context: KindContext, run_ids: list[str], identifiers: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The runs asked for, read from ``GetJobRuns`` pages until every one is found (at most
    ``GLUE_MAX_PAGES``); a run they miss is polled alone with ``GetJobRun``."""
    wanted, found = set(run_ids), {}
    params: dict[str, Any] = {"JobName": identifiers["job_name"], "MaxResults": GLUE_PAGE}
    for _ in range(GLUE_MAX_PAGES):
        answer = await context.call("glue", "get_job_runs", **params)
        for run in answer.get("JobRuns", []):
            if run.get("Id") in wanted:
                found[run["Id"]] = run
        token = answer.get("NextToken")
        if not token or len(found) == len(wanted):
            break
        params["NextToken"] = token
    return found
