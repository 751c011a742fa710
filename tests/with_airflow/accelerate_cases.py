"""The installed Amazon provider's waiter triggers, built for the differential test, and the table
``accelerate()`` is checked against (``async_hooks/airflow/_accelerate/_checked.py``).

Which classes may be taken over is worked out here from the installed provider, never listed by
hand: a class that waits with the base's ``run`` (or whose own ``run`` hands a setting to it, as
``GlueJobCompleteTrigger`` does without ``verbose``), builds from its signature, and whose waiter's
service speaks a protocol the differential test's endpoint serves. After a provider upgrade:
``python -m tests.with_airflow.accelerate_cases --write``, then run the differential test.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from async_hooks.airflow._accelerate._survey import OWN_RUN
from async_hooks.testing.aws_endpoint import AwsError

#: Classes with their own ``run`` that hand some settings to the base's (checked by reading it).
DELEGATES = {
    "airflow.providers.amazon.aws.triggers.glue.GlueJobCompleteTrigger": (
        "verbose=False; with verbose=True it forwards CloudWatch logs and runs as before"
    ),
}
SERVED = ("json", "rest-json", "query")
#: Triggers with their own ``run`` that is reproduced (``_accelerate/_statement.py``), and the
#: differential test that proves it.
OWN_RUNS_TAKEN = {
    "airflow.providers.amazon.aws.triggers.redshift_data.RedshiftDataTrigger": (
        "its own run, reproduced: the polls on the shared schedule, its last call and parse the"
        " provider's"
    ),
}
#: What each trigger with its own ``run`` does that a waiter's wait does not (the report's why).
OWN_RUNS = {
    "dms.DmsTableReloadCompleteTrigger": "one async_wait per table to reload, in turn",
    "dynamodb.DynamoDBValueSensorTrigger": "GetItem pokes, its own value check, no max attempts",
    "ec2.EC2StateSensorTrigger": "instance state polls with no max attempts",
    "ecs.TaskDoneTrigger": "the tasks_stopped waiter with CloudWatch log forwarding each poll",
    "emr.EmrServerlessStartJobTrigger": "cancels its job run if the task is killed",
    "glue.GlueCatalogPartitionTrigger": "GetPartitions pokes with its expression, no max attempts",
    "kinesis.KinesisTrigger": "reads shard records with checkpoints (an event trigger, not a wait)",
    "redshift_cluster.RedshiftClusterTrigger": (
        "DescribeClusters polls until its target status, no max attempts, any exception's text"
        " its error event (not reproduced yet: RedshiftDataTrigger's way would fit)"
    ),
    "s3.S3KeyTrigger": "key listings and head-object checks (wildcards, regex, metadata)",
    "s3.S3KeysUnchangedTrigger": "an inactivity check over listings kept between polls",
    "sagemaker.SageMakerPipelineTrigger": "lists and logs the pipeline's steps each poll",
    "sagemaker_unified_studio.SageMakerNotebookJobTrigger": "polls a blocking hook in a thread",
    "sqs.SqsSensorTrigger": "receives (and may delete) messages: not a status poll",
    "ssm.SsmRunCommandTrigger": "one wait per instance of the command, then its exit-code checks",
}
_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\[(?:\]|\*\]|0\]))?")
CHECKED = Path(__file__).parents[2] / "async_hooks/airflow/_accelerate/_checked.py"


#: Parameters whose value must be one of a few.
HINTS: dict[str, Any] = {"aws_account_id": "123456789012"}
#: Parameters whose value picks the waiter: each value is proven (the first is the default).
VARIANTS: dict[str, list[Any]] = {
    "db_type": ["instance", "cluster"],
    "job_type": ["training", "transform", "processing", "tuning", "endpoint"],
}
#: Optional parameters of which one must be given.
GIVEN: dict[str, Any] = {"collection_id": "id-1"}
HEAD = '''# ruff: noqa: E501
"""What ``accelerate()`` was checked against, written by
``python -m tests.with_airflow.accelerate_cases --write`` (the differential test fails when it is
stale): the Amazon provider range checked, the hash of the provider code every taken trigger
relies on, each taken class's own code hash and note, and each class left with why.
"""
'''


def value_for(parameter: inspect.Parameter) -> Any:
    """A value of the parameter's annotated type (an id-like string by default)."""
    if parameter.name in HINTS:
        return HINTS[parameter.name]
    if parameter.name in VARIANTS:
        return VARIANTS[parameter.name][0]
    annotation = str(parameter.annotation)
    if "int" in annotation and "str" not in annotation:
        return 3
    if annotation.startswith("list") or "list[" in annotation:
        return ["id-1"]
    if annotation.startswith("dict"):
        return {}
    if annotation == "bool":
        return False
    return "id-1"


def build(cls: type, **given: Any) -> Any:
    """An instance of trigger class ``cls`` from its signature, ``given`` on top."""
    parameters = list(inspect.signature(cls).parameters.values())
    kwargs = {
        p.name: value_for(p)
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    names = {p.name for p in parameters}
    kwargs.update({k: v for k, v in {**GIVEN, **given}.items() if k in names})
    return cls(**kwargs)


def variants(cls: type) -> list[dict[str, Any]]:
    """The class's settings to prove, each picking another waiter: its defaults (or, for a
    required ``waiter_name`` parameter, each waiter of its hook's custom waiters that takes its
    arguments), then each other value of a ``VARIANTS`` parameter."""
    parameters = inspect.signature(cls).parameters
    names = set(parameters)
    found: list[dict[str, Any]] = [{}]
    if "waiter_name" in names and parameters["waiter_name"].default is inspect.Parameter.empty:
        hook = build(cls).hook()
        if hook.waiter_path is not None:
            waiters = json.loads(Path(hook.waiter_path).read_text())["waiters"]
            service = hook.client_type
            found = [
                {"waiter_name": name}
                for name in sorted(waiters)
                if _takes(service, waiters[name]["operation"], build(cls, waiter_name=name))
            ]
    return found + [
        {**found[0], name: value}
        for name in VARIANTS
        if name in names
        for value in VARIANTS[name][1:]
    ]


def _takes(service: str, operation: str, trigger: Any) -> bool:
    """Whether ``operation`` takes the trigger's waiter arguments."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    members = model.operation_model(operation).input_shape.members
    return set(trigger.waiter_args) <= set(members)


def shaped(expression: str, value: Any) -> dict[str, Any] | None:
    """An answer in which JMESPath ``expression`` (a plain path) finds ``value``."""
    parts = expression.split(".")
    held: Any = value
    for part in reversed(parts):
        found = _PART.fullmatch(part)
        if found is None:
            return None
        held = {found[1]: [held] if found[2] else held}
    return dict(held)


def answers(config: Any) -> Iterator[tuple[str, Any]]:
    """``(state, answer)`` for each acceptor this test can shape an answer for."""
    for acceptor in config.acceptors:
        if acceptor.matcher == "error" and isinstance(acceptor.expected, str):
            yield acceptor.state, AwsError(acceptor.expected, "scripted")
        elif acceptor.matcher in ("path", "pathAll", "pathAny"):
            if isinstance(acceptor.expected, bool):  # an expression: the first answer it holds
                answer = next((a for a in _tried(config) if _matches(acceptor, a)), None)
            else:
                answer = shaped(acceptor.argument, acceptor.expected)
            if answer is not None:
                yield acceptor.state, answer


def running(config: Any, form: Any) -> dict[str, Any]:
    """An answer no acceptor matches: the job, with no state yet (a batch answer must list
    it), or the first tried answer every acceptor reads without an error."""
    if form is not None:
        return {form.answer_key: [{}] if form.as_list else {}}
    return next(
        a for a in _tried(config) if all(_matches(acc, a) is False for acc in config.acceptors)
    )


def _tried(config: Any) -> Iterator[dict[str, Any]]:
    """``{}``, then each name of the acceptors' expressions holding each of their quoted
    literals, a list of no job, of one job."""
    yield {}
    for acceptor in config.acceptors:
        if isinstance(acceptor.argument, str):
            literals = re.findall(r"'([^']*)'", acceptor.argument)
            bare = re.sub(r"'[^']*'", "", acceptor.argument)
            for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", bare):
                yield from ({name: literal} for literal in literals)
                yield {name: []}
                yield {name: [{}]}


def _matches(acceptor: Any, answer: Any) -> bool | None:
    """Whether ``acceptor`` matches ``answer``; None when it cannot read it (botocore raises)."""
    try:
        return bool(acceptor.matcher_func(answer))
    except Exception:
        return None


def waiter_of(trigger: Any) -> Any:
    from async_hooks.airflow._accelerate._waiter import waiter_spec

    return waiter_spec(trigger.hook(), trigger.waiter_name, trigger.waiter_config_overrides)


def protocol(service: str) -> str:
    import botocore.session

    return str(botocore.session.get_session().get_service_model(service).protocol)


def candidate(cls: type, base: type) -> tuple[bool, str]:
    """Whether ``cls`` can be taken over and proven here, or why not."""
    from async_hooks.airflow._accelerate._survey import class_path

    path = class_path(cls)
    if "run" in cls.__dict__ and path not in DELEGATES:
        return False, own_run(path)
    try:
        triggers = [build(cls, **variant) for variant in variants(cls)]
        service = triggers[0].hook().client_type
        configs = [waiter_of(trigger).config for trigger in triggers]
    except Exception as error:
        if isinstance(error, NotImplementedError) and cls.__subclasses__():
            return False, f"a base of other trigger classes, never run itself ({error})"
        text = re.sub(r"\s+", " ", str(error))[:80]
        return False, f"not built from its signature to be checked ({type(error).__name__}: {text})"
    if not all(any(state == "success" for state, _ in answers(c)) for c in configs):
        return False, "no answer is shaped for its success acceptor: not covered by the test"
    speaks = protocol(service)
    if speaks not in SERVED:
        return (
            False,
            f"{service} speaks the {speaks} protocol: not covered by the differential test",
        )
    return True, DELEGATES.get(path, "")


def own_run(path: str) -> str:
    """Why a trigger with its own ``run`` is left."""
    what = OWN_RUNS.get(path.removeprefix("airflow.providers.amazon.aws.triggers."))
    return f"its own run: {what}; runs as before" if what else OWN_RUN


def table() -> str:
    """``_checked.py`` for the installed provider."""
    from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger

    from async_hooks.airflow._accelerate import _original
    from async_hooks.airflow._accelerate._survey import (
        BASE_MODULE,
        class_path,
        common_fingerprint,
        fingerprint,
        own_run_classes,
        provider_version,
        statement_fingerprint,
        trigger_classes,
    )

    base_run = _original.get(BASE_MODULE) or AwsBaseWaiterTrigger.__dict__["run"]
    classes, broken = trigger_classes(AwsBaseWaiterTrigger)
    taken, notes, left = {}, {}, dict(broken)
    for cls in classes:
        ok, why = candidate(cls, AwsBaseWaiterTrigger)
        if ok:
            taken[class_path(cls)] = fingerprint(cls, AwsBaseWaiterTrigger)
            if why:
                notes[class_path(cls)] = why
        else:
            left[class_path(cls)] = why
    for cls in own_run_classes(AwsBaseWaiterTrigger):
        if class_path(cls) in OWN_RUNS_TAKEN:  # its run reproduced (``_statement``)
            run = _original.get(cls.__module__) or cls.__dict__["run"]
            taken[class_path(cls)] = statement_fingerprint(cls, run)
            notes[class_path(cls)] = OWN_RUNS_TAKEN[class_path(cls)]
        else:
            left[class_path(cls)] = own_run(class_path(cls))
    version = provider_version()
    lines = [
        HEAD,
        f"#: Checked: apache-airflow-providers-amazon {version}.",
        'VERSION_RANGE = ("9.39.0", "10.0.0")',
        f"COMMON = {common_fingerprint(AwsBaseWaiterTrigger, base_run)!r}",
        _mapping("TAKEN", taken),
        _mapping("NOTES", notes),
        _mapping("LEFT", dict(sorted(left.items()))),
    ]
    return "\n".join(lines) + "\n"


def _mapping(name: str, values: dict[str, str]) -> str:
    rows = "".join(f"    {k!r}: {v!r},\n" for k, v in values.items())
    return f"{name}: dict[str, str] = {{\n{rows}}}"


if __name__ == "__main__":
    import os
    import tempfile

    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp())
    text = table()
    if "--write" in sys.argv:
        CHECKED.write_text(text)
    else:
        print(text)
