"""Where an accelerated trigger's answers come from: the shared schedule's fetchers.

A waiter whose operation has a batch form that a built-in kind already uses (Glue ``GetJobRun``
through ``GetJobRuns`` pages, Batch ``DescribeJobs``, Athena ``GetQueryExecution``, EMR
``DescribeStep`` and ``ListSteps``, Glue ``GetCrawler``) joins one schedule per connection and
identifiers: one batch call per tick serves every trigger of that key, and each trigger's
answer is rebuilt from its batch item as the single call would have answered. Any other
operation joins one schedule per connection and operation, its call's parameters the id: equal
calls of one tick are one call. A single call (an id the batch answer does not list, or any
call of another operation) is the waiter's own call, its error answer returned, not raised, as
botocore's waiter sees it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from async_hooks._core.plan import BatchDescribe, Deferred
from async_hooks.airflow._accelerate._waiter import NO_CREDENTIALS
from async_hooks.errors import HookConfigError, ServiceError

__all__ = ["BATCH_FORMS", "BatchForm", "answer", "batch_describe", "job_id_of", "snake"]


@dataclass(frozen=True)
class BatchForm:
    """How a waiter's single call maps onto a built-in kind's batch call: the argument that
    names the job (``as_list``: a list of that one id), the other arguments as the kind's
    identifiers, and the key under which the single call's answer holds the item."""

    kind: str
    id_arg: str
    identifiers: Mapping[str, str]  # kind keyword -> waiter argument
    answer_key: str
    as_list: bool = False

    def fits(self, args: Mapping[str, Any]) -> bool:
        if set(args) != {self.id_arg, *self.identifiers.values()}:
            return False
        value = args[self.id_arg]
        if self.as_list:
            return isinstance(value, list) and len(value) == 1 and isinstance(value[0], str)
        return isinstance(value, str)

    def job_id(self, args: Mapping[str, Any]) -> str:
        value = args[self.id_arg]
        return str(value[0] if self.as_list else value)

    def rebuilt(self, item: Any) -> dict[str, Any]:
        """The single call's answer for a batch item (a 200 answer holding it alone)."""
        held = [item] if self.as_list else item
        return {self.answer_key: held, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def args(self, job_id: str, fixed: Mapping[str, Any]) -> dict[str, Any]:
        return {**fixed, self.id_arg: [job_id] if self.as_list else job_id}


#: (service, waiter operation) -> its batch form.
BATCH_FORMS: dict[tuple[str, str], BatchForm] = {
    ("glue", "GetJobRun"): BatchForm("glue", "RunId", {"job_name": "JobName"}, "JobRun"),
    ("batch", "DescribeJobs"): BatchForm("batch", "jobs", {}, "jobs", as_list=True),
    ("athena", "GetQueryExecution"): BatchForm("athena", "QueryExecutionId", {}, "QueryExecution"),
    ("emr", "DescribeStep"): BatchForm("emr-step", "StepId", {"cluster_id": "ClusterId"}, "Step"),
    ("emr", "ListSteps"): BatchForm(
        "emr-step", "StepIds", {"cluster_id": "ClusterId"}, "Steps", as_list=True
    ),
    ("glue", "GetCrawler"): BatchForm("glue-crawler", "Name", {}, "Crawler"),
    ("ecs", "DescribeTasks"): BatchForm(
        "ecs", "tasks", {"cluster": "cluster"}, "tasks", as_list=True
    ),
}


def snake(operation: str) -> str:
    from botocore import xform_name

    return str(xform_name(operation))


def job_id_of(service: str, operation: str, args: Mapping[str, Any]) -> str:
    """The id a trigger's wait has in its schedule."""
    form = BATCH_FORMS.get((service, operation))
    if form is not None and form.fits(args):
        return form.job_id(args)
    return json.dumps(args, sort_keys=True, default=str)


def batch_describe(hook: Any, service: str, operation: str, args: Mapping[str, Any]) -> Any:
    """The ``BatchDescribe`` of a trigger's wait on ``hook`` (an ``AsyncAwsHook``)."""
    from async_hooks.aws.kinds import get_job_kind

    method = snake(operation)
    form = BATCH_FORMS.get((service, operation))
    if form is None or not form.fits(args):
        key = ("accelerate", hook._client_key(service), service, operation)
        return BatchDescribe(key, 1, None, functools.partial(_one_of_json, hook, service, method))
    fixed = {k: v for k, v in args.items() if k != form.id_arg}
    identifiers = {keyword: fixed[arg] for keyword, arg in form.identifiers.items()}
    kind = get_job_kind(form.kind)
    inner = hook._plans().plan(kind, form.job_id(args), identifiers, coalesce=True).batch
    one = functools.partial(_one_of_id, hook, service, method, form, fixed)
    # The batch call is the waiter's own call (Batch ``DescribeJobs``, EMR ``ListSteps``): for
    # one id it is the single call, its answer (an error too) the waiter's, never asked twice.
    alone = one if kind.batch_describe == method else None
    return BatchDescribe(
        ("accelerate", inner.key, operation),
        inner.batch_max,
        None
        if inner.fetch_many is None
        else functools.partial(_many, inner.fetch_many, form, alone),
        one,
    )


async def _many(
    fetch_many: Any,
    form: BatchForm,
    alone: Callable[[str], Awaitable[dict[str, Any]]] | None,
    job_ids: list[str],
) -> dict[str, Any]:
    if alone is not None and len(job_ids) == 1:
        return {job_ids[0]: await alone(job_ids[0])}
    try:
        found = await fetch_many(job_ids)
    except HookConfigError as error:
        missing = _no_credentials(error)
        if missing is None:
            raise
        return dict.fromkeys(job_ids, missing)
    # the whole item (a ``Deferred`` holds only what a kind's verdict reads): the waiter's
    # acceptors and status queries may read any of it
    return {
        job_id: form.rebuilt(item.full() if isinstance(item, Deferred) else item)
        for job_id, item in found.items()
    }


async def _one_of_id(
    hook: Any, service: str, method: str, form: BatchForm, fixed: Mapping[str, Any], job_id: str
) -> dict[str, Any]:
    return await answer(hook, service, method, form.args(job_id, fixed))


async def _one_of_json(hook: Any, service: str, method: str, job_id: str) -> dict[str, Any]:
    return await answer(hook, service, method, json.loads(job_id))


async def answer(hook: Any, service: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """The waiter's own call through the hook's pipeline, its error answer returned as
    botocore's waiter sees it; missing credentials as a payload ``Attempts`` counts."""
    try:
        found: dict[str, Any] = await hook.call(service, method, **params)
    except ServiceError as error:
        response = getattr(error, "response", None)
        if isinstance(response, dict) and isinstance(response.get("Error"), dict):
            return response
        raise
    except HookConfigError as error:
        missing = _no_credentials(error)
        if missing is None:
            raise
        return missing
    return found


def _no_credentials(error: HookConfigError) -> dict[str, Any] | None:
    """The payload of a call botocore could not sign (``async_wait`` counts it as an attempt)."""
    from botocore.exceptions import NoCredentialsError

    if isinstance(error.__cause__, NoCredentialsError):
        return {NO_CREDENTIALS: str(error.__cause__)}
    return None
