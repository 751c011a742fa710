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
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from async_hooks.testing.aws_endpoint import AwsError

#: Classes with their own ``run`` that hand some settings to the base's (checked by reading it).
DELEGATES = {
    "airflow.providers.amazon.aws.triggers.glue.GlueJobCompleteTrigger": (
        "verbose=False; with verbose=True it forwards CloudWatch logs and runs as before"
    ),
}
SERVED = ("json", "rest-json")
#: Classes whose batch call is the waiter's own operation (a list of ids): not yet proven.
UNPROVEN = {
    "airflow.providers.amazon.aws.triggers.batch.BatchJobTrigger": "DescribeJobs",
    "airflow.providers.amazon.aws.triggers.emr.EmrAddStepsTrigger": "ListSteps",
}
#: Classes the differential test does not finish for yet (why, in the table).
UNFINISHED = {
    "airflow.providers.amazon.aws.triggers.sagemaker_unified_studio_notebook"
    ".SageMakerUnifiedStudioNotebookTrigger": "its differential test does not finish yet",
}
_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\[(?:\]|\*\]|0\]))?")
CHECKED = Path(__file__).parents[2] / "async_hooks/airflow/_accelerate/_checked.py"


#: Parameters whose value must be one of a few.
HINTS: dict[str, Any] = {"job_type": "training", "aws_account_id": "123456789012"}
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
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    kwargs = {
        p.name: value_for(p)
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    names = {p.name for p in parameters}
    kwargs.update({k: v for k, v in given.items() if k in names})
    return cls(**kwargs)


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
        elif acceptor.matcher in ("path", "pathAll", "pathAny") and not isinstance(
            acceptor.expected, bool
        ):
            answer = shaped(acceptor.argument, acceptor.expected)
            if answer is not None:
                yield acceptor.state, answer


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
        return False, "its own run (not a plain waiter wait): runs as before"
    try:
        trigger = build(cls)
        service = trigger.hook().client_type
        waiter_of(trigger)
    except Exception as error:
        text = re.sub(r"\s+", " ", str(error))[:80]
        return False, f"not built from its signature to be checked ({type(error).__name__}: {text})"
    if path in UNPROVEN:
        return False, (
            f"its batch form is its own {UNPROVEN[path]} call: not yet proven by the differential"
            " test"
        )
    if path in UNFINISHED:
        return False, UNFINISHED[path]
    if not any(state == "success" for state, _ in answers(waiter_of(trigger).config)):
        return (
            False,
            "its success acceptor is not a plain path: not covered by the differential test",
        )
    speaks = protocol(service)
    if speaks not in SERVED:
        return (
            False,
            f"{service} speaks the {speaks} protocol: not covered by the differential test",
        )
    return True, DELEGATES.get(path, "")


def table() -> str:
    """``_checked.py`` for the installed provider."""
    from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger

    from async_hooks.airflow._accelerate import _original
    from async_hooks.airflow._accelerate._survey import (
        class_path,
        common_fingerprint,
        fingerprint,
        provider_version,
        trigger_classes,
    )

    base_run = _original[0] if _original else AwsBaseWaiterTrigger.__dict__["run"]
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
