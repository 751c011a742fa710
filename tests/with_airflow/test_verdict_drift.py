"""The drift guard: our AWS verdicts against the installed Amazon provider's own waiters.

For every kind with a reference (the provider's ``airflow/providers/amazon/aws/waiters/*.json``,
else the botocore waiter or the provider's state constants its trigger uses), every state of the
status field's enum in botocore's model is judged both ways: the reference's acceptors (in
order, the first match wins, as botocore's waiters do) and our kind. They must agree, except
where ``DIFFERENCES`` names the state and why. A change on either side fails here.
"""

from __future__ import annotations

import json
from importlib import import_module
from pathlib import Path
from typing import Any

import jmespath
import pytest
from botocore.loaders import Loader

from async_hooks.aws import job_kinds

pytest.importorskip("airflow.providers.amazon", reason="apache-airflow-providers-amazon")

#: Our kind -> (provider waiter file or "botocore:<service>", waiter name).
REFERENCES = {
    "batch": ("batch", "batch_job_complete"),
    "glue": ("glue", "job_complete"),
    "athena": ("athena", "query_complete"),
    "ecs": ("botocore:ecs", "TasksStopped"),
    "stepfunctions": ("stepfunctions", "step_function_succeeded"),
    "emr-step": ("emr", "step_wait_for_terminal"),
    "sagemaker-training": ("sagemaker", "TrainingJobComplete"),
    "emr-serverless": ("emr-serverless", "serverless_job_completed"),
    "emr-containers": ("emr-containers", "container_job_complete"),
    "glue-crawler": ("glue", "crawler_ready"),
    "sagemaker-processing": ("sagemaker", "ProcessingJobComplete"),
    "sagemaker-transform": ("sagemaker", "TransformJobComplete"),
    "sagemaker-pipeline": ("sagemaker", "PipelineExecutionComplete"),
    "bedrock-customization": ("bedrock", "model_customization_job_complete"),
    "bedrock-batch-inference": ("bedrock", "batch_inference_complete"),
    "comprehend-pii": ("comprehend", "pii_entities_detection_job_complete"),
    "ssm-command": ("botocore:ssm", "CommandExecuted"),
    "dynamodb-export": ("dynamodb", "export_table"),
    "databrew": ("databrew", "job_complete"),
}
#: Kinds whose provider hook judges by constants rather than a waiter: (module, success, failure).
CONSTANTS = {
    "redshift-data": (
        "airflow.providers.amazon.aws.hooks.redshift_data",
        "FINISHED_STATE",
        "FAILURE_STATES",
    ),
    "datasync": (
        "airflow.providers.amazon.aws.hooks.datasync",
        "DataSyncHook.TASK_EXECUTION_SUCCESS_STATES",
        "DataSyncHook.TASK_EXECUTION_FAILURE_STATES",
    ),
}
#: States of status fields the model types as a plain string (ECS's task lifecycle).
NO_ENUM = {
    ("ecs", "tasks.lastStatus"): [
        "PROVISIONING",
        "PENDING",
        "ACTIVATING",
        "RUNNING",
        "DEACTIVATING",
        "STOPPING",
        "DEPROVISIONING",
        "STOPPED",
    ]
}
#: Kinds the provider has no trigger for, hence nothing to agree with.
UNREFERENCED = {"codebuild"}

#: (kind, state) -> (the reference's verdict, ours, why). Verdicts: True success, False
#: failure, None not yet.
DIFFERENCES: dict[tuple[str, str], tuple[bool | None, bool | None, str]] = {
    ("glue", "EXPIRED"): (None, False, "terminal; the waiter would poll until it gives up"),
    ("stepfunctions", "TIMED_OUT"): (None, False, "terminal; the waiter would poll on"),
    ("sagemaker-pipeline", "CompletedWithFailures"): (None, False, "terminal: steps failed"),
    ("databrew", "FAILED"): (True, False, "the waiter succeeds on every terminal state"),
    ("databrew", "STOPPED"): (True, False, "the waiter succeeds on every terminal state"),
    ("databrew", "TIMEOUT"): (True, False, "the waiter succeeds on every terminal state"),
    ("ecs", "STOPPED/essential exit 1"): (
        True,
        False,
        "only essential containers must exit 0: TasksStopped says only that the task stopped",
    ),
}


def _provider_waiters(name: str) -> dict[str, Any]:
    if name.startswith("botocore:"):
        service = name.split(":", 1)[1]
        return dict(Loader().load_service_model(service, "waiters-2")["waiters"])
    waiters = import_module("airflow.providers.amazon.aws.waiters")
    path = Path(next(iter(waiters.__path__))) / f"{name}.json"
    return dict(json.loads(path.read_text())["waiters"])


def _judge_reference(acceptors: list[dict[str, Any]], answer: dict[str, Any]) -> bool | None:
    """botocore's waiter semantics: the first acceptor that matches decides."""
    for acceptor in acceptors:
        matcher, expected = acceptor["matcher"], acceptor["expected"]
        if matcher in ("error", "status"):
            continue
        found = jmespath.search(acceptor["argument"], answer)
        if matcher == "path":
            hit = found == expected
        elif matcher == "pathAll":
            hit = bool(found) and all(value == expected for value in found)
        elif matcher == "pathAny":
            hit = bool(found) and any(value == expected for value in found)
        else:  # pragma: no cover - a new matcher is itself drift
            raise AssertionError(f"unknown matcher {matcher!r}")
        if hit:
            return {"success": True, "failure": False}.get(acceptor["state"])
    return None


def _judge_ours(kind: str, item: dict[str, Any]) -> bool | None:
    spec = job_kinds()[kind]
    status = spec.status_of(item)
    if spec.verdict is not None:
        return spec.verdict(item, status)
    return True if status in spec.success else False if status in spec.failure else None


def _enum(service: str, operation: str, path: str) -> list[str]:
    """The enum of the output member at ``path`` (dots, through lists) in botocore's model."""
    model = Loader().load_service_model(service, "service-2")
    shapes = model["shapes"]
    name = model["operations"][operation]["output"]["shape"]
    for part in path.split("."):
        shape = shapes[name]
        while shape["type"] == "list":
            name = shape["member"]["shape"]
            shape = shapes[name]
        name = shape["members"][part]["shape"]
    return list(shapes[name].get("enum") or NO_ENUM[service, path])


def _pascal(snake: str) -> str:
    return "".join(word.capitalize() for word in snake.split("_"))


def _answer(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """The describe answer that holds ``item`` where the kind's item path says."""
    spec = job_kinds()[kind]
    if not spec.item_path:
        return item
    value: Any = [item] if spec.id_is_list else item
    for part in reversed(spec.item_path.split(".")):
        value = {part: value}
    return dict(value)


def _item(kind: str, status: str) -> dict[str, Any]:
    spec = job_kinds()[kind]
    item: dict[str, Any] = {}
    target = item
    parts = spec.status_path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = status
    if kind == "ecs":
        item["containers"] = [{"name": "main", "exitCode": 0}]
    return item


def _status_member(kind: str) -> str:
    spec = job_kinds()[kind]
    return ".".join(p for p in (spec.item_path, spec.status_path) if p)


def _checked(kind: str, state: str, theirs: bool | None, ours: bool | None) -> None:
    named = DIFFERENCES.get((kind, state))
    if named is None:
        assert ours == theirs, f"{kind} {state}: the provider says {theirs}, we say {ours}"
    else:
        assert (theirs, ours) == named[:2], f"{kind} {state}: named difference changed"


@pytest.mark.parametrize("kind", sorted(REFERENCES))
def test_our_verdicts_agree_with_the_providers_waiter(kind):
    source, name = REFERENCES[kind]
    waiter = _provider_waiters(source)[name]
    spec = job_kinds()[kind]
    operation = waiter["operation"][0].upper() + waiter["operation"][1:]
    assert _pascal(spec.describe) == operation, f"{kind}: the waiter describes with {operation}"
    if kind == "glue-crawler":
        states = _enum("glue", "GetCrawler", "Crawler.State")
        crawls = _enum("glue", "GetCrawler", "Crawler.LastCrawl.Status")
        for state in states:
            for crawl in crawls:
                item = {"Name": "c", "State": state, "LastCrawl": {"Status": crawl}}
                theirs = _judge_reference(waiter["acceptors"], {"Crawler": item})
                _checked(kind, f"{state}/{crawl}", theirs, _judge_ours(kind, item))
        return
    for state in _enum(spec.service, operation, _status_member(kind)):
        item = _item(kind, state)
        theirs = _judge_reference(waiter["acceptors"], _answer(kind, item))
        _checked(kind, state, theirs, _judge_ours(kind, item))


def test_ecs_differs_on_purpose_for_a_failed_essential_container():
    """TasksStopped ends on STOPPED whatever the exit codes; the provider's operator then fails
    a task whose essential container failed, and so do we (named in ``DIFFERENCES``)."""
    waiter = _provider_waiters("botocore:ecs")["TasksStopped"]
    item = {
        "lastStatus": "STOPPED",
        "containers": [{"name": "main", "exitCode": 1}],
        "_essential": {"main": True},
    }
    theirs = _judge_reference(waiter["acceptors"], {"tasks": [item]})
    _checked("ecs", "STOPPED/essential exit 1", theirs, _judge_ours("ecs", item))


@pytest.mark.parametrize("kind", sorted(CONSTANTS))
def test_our_verdicts_agree_with_the_providers_state_constants(kind):
    module_name, success_name, failure_name = CONSTANTS[kind]
    module: Any = import_module(module_name)

    def constant(dotted: str) -> set[str]:
        value = module
        for part in dotted.split("."):
            value = getattr(value, part)
        return {value} if isinstance(value, str) else set(value)

    spec = job_kinds()[kind]
    assert set(spec.success) == constant(success_name)
    assert set(spec.failure) == constant(failure_name)


def test_every_built_in_kind_has_a_reference_or_is_named():
    from async_hooks.aws._catalog import catalog

    first = {"batch", "glue", "athena", "ecs", "stepfunctions", "emr-step", "sagemaker-training"}
    built_in = first | {kind.name for kind in catalog()}
    assert built_in == set(REFERENCES) | set(CONSTANTS) | UNREFERENCED


def test_the_ssm_waiter_retries_on_the_code_we_read_as_not_yet():
    waiter = _provider_waiters("botocore:ssm")["CommandExecuted"]
    retried = {
        a["expected"]
        for a in waiter["acceptors"]
        if a["matcher"] == "error" and a["state"] == "retry"
    }
    assert set(job_kinds()["ssm-command"].not_yet) == retried
