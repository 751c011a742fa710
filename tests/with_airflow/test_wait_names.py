"""A misspelt ``wait_kwargs`` key (``job_nme``, ``poll_intervall``) or hook setting is refused
where it is written, wherever blocking is allowed (a sensor at DAG parse, a ``JobWait``, a
trigger made in a worker), with the message the triggerer gives for the same wait; templated
values are never refused for being templates."""

from __future__ import annotations

import textwrap

import pytest

from async_hooks.airflow import JobWait, WaitForJobSensor, WaitForJobTrigger
from async_hooks.errors import HookConfigError

from ._support import needs_airflow_3_3, only_event

GLUE_KEYWORDS = "job_name, poll_interval, timeout, backoff, max_poll_interval, jitter, coalesce"


def sensor(wait_kwargs, kind="glue", job_id="{{ ti.xcom_pull(task_ids='start') }}", **extra):
    return WaitForJobSensor(
        task_id="wait",
        provider="aws",
        kind=kind,
        job_id=job_id,
        wait_kwargs=wait_kwargs,
        **extra,
    )


def job_wait(wait_kwargs, kind="glue"):
    return JobWait("aws", {"conn_id": "aws_etl"}, [kind, "jr_1"], wait_kwargs)


def worker_trigger(wait_kwargs, kind="glue"):
    return WaitForJobTrigger("aws", wait_args=[kind, "jr_1"], wait_kwargs=wait_kwargs)


PLACES = [sensor, job_wait, worker_trigger]


def refusal(make, wait_kwargs) -> str:
    with pytest.raises(HookConfigError) as refused:
        make(wait_kwargs)
    return str(refused.value)


@pytest.mark.parametrize("make", PLACES, ids=["sensor", "JobWait", "trigger"])
@pytest.mark.parametrize(
    ("typo", "meant"), [("job_nme", "job_name"), ("poll_intervall", "poll_interval")]
)
def test_a_misspelt_keyword_is_refused_where_it_is_written(make, typo, meant):
    wait_kwargs = {"job_name": "nightly", "timeout": 60}
    wait_kwargs.pop(meant, None)
    message = refusal(make, {**wait_kwargs, typo: "5"})
    assert message == (
        f"wait_kwargs for the aws hook's wait_for_job: unknown {typo!r} (did you mean"
        f" {meant!r}?); a glue wait takes {GLUE_KEYWORDS}"
    )


@pytest.mark.parametrize("make", PLACES, ids=["sensor", "JobWait", "trigger"])
def test_a_missing_identifier_is_refused_naming_it(make):
    message = refusal(make, {"poll_interval": 5})
    assert message == (
        "wait_kwargs for the aws hook's wait_for_job: a glue wait needs 'job_name';"
        f" it takes {GLUE_KEYWORDS}"
    )


async def test_the_triggerer_gives_the_same_message_as_a_failed_event():
    """The trigger the triggerer builds (on its running loop) checks nothing then; its run
    refuses the wait with the message the parse would have given."""
    at_parse = refusal(job_wait, {"job_nme": "nightly"})
    trigger = WaitForJobTrigger("aws", wait_args=["glue", "jr_1"], wait_kwargs={"job_nme": "x"})
    payload = await only_event(trigger)
    assert payload["status"] == "failed"
    assert payload["reason"] == f"HookConfigError: {at_parse}"


def test_templated_values_pass_at_parse():
    waiting = sensor(
        {
            "job_name": "{{ params.job_name }}",
            "poll_interval": "{{ params.every }}",
            "timeout": "{{ params.timeout }}",
        },
        hook_kwargs={"conn_id": "{{ params.conn }}", "region_name": "{{ var.value.region }}"},
    )
    assert waiting.wait_kwargs["poll_interval"] == "{{ params.every }}"


@needs_airflow_3_3
async def test_a_templated_kind_is_checked_once_rendered_in_the_triggerer():
    """Which identifiers a wait takes depends on its kind: with the kind a template, they are
    checked in the triggerer, after rendering, with the same message."""
    waiting = sensor({"job_nme": "nightly"}, kind="{{ params.kind }}", job_id="jr_1")  # parsed
    trigger = WaitForJobTrigger(**waiting.start_trigger_args.trigger_kwargs)
    trigger.template_fields = ("hook_kwargs", "wait_args", "wait_kwargs")
    trigger.render_template_fields(context={"params": {"kind": "glue"}})
    payload = await only_event(trigger)
    assert payload["reason"] == f"HookConfigError: {refusal(job_wait, {'job_nme': 'nightly'})}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: JobWait("http", {"base_url": "http://127.0.0.1:1"}, ["/j"], {"statuskey": "s"}),
            "unknown 'statuskey' (did you mean 'status_key'?); it takes status_key, success,",
        ),
        (
            lambda: JobWait("gcp", {"project": "p"}, ["bigquery", "j"], {"locaton": "EU"}),
            "unknown 'locaton' (did you mean 'location'?); a bigquery wait takes location,",
        ),
        (
            lambda: JobWait("aws", {}, ["landing"], {"ky": "a/b"}, method="wait_for_s3_key"),
            "wait_for_s3_key: unknown 'ky' (did you mean 'key'?); it takes key, poll_interval",
        ),
        (
            lambda: sensor({"job_name": "n"}, hook_kwargs={"regoin_name": "eu-west-1"}),
            "aws hook has no setting 'regoin_name'; it takes aws_access_key_id,",
        ),
    ],
    ids=["http", "gcp", "s3-key", "hook-setting"],
)
def test_every_provider_and_wait_names_what_it_takes(make, message):
    with pytest.raises(HookConfigError) as refused:
        make()
    assert message in str(refused.value)


def test_a_secret_is_never_in_the_message():
    with pytest.raises(HookConfigError) as refused:
        JobWait(
            "aws",
            {"aws_secret_access_key": "s3cr3t-k3y"},
            ["glue", "jr_1"],
            {"job_name": "n", "pasword": "s3cr3t-k3y"},
        )
    assert "pasword" in str(refused.value)
    assert "s3cr3t-k3y" not in str(refused.value)


def test_a_dag_file_with_a_misspelt_keyword_fails_to_parse_naming_it(tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "typo_dag.py").write_text(
        textwrap.dedent(
            """
            from airflow.sdk import DAG

            from async_hooks.airflow import WaitForJobSensor

            with DAG("typo", schedule=None):
                WaitForJobSensor(
                    task_id="wait", provider="aws", kind="glue", job_id="jr_1",
                    wait_kwargs={"job_name": "nightly", "poll_intervall": 30},
                )
            """
        )
    )
    bag = DagBag(str(tmp_path))
    (error,) = bag.import_errors.values()
    assert "unknown 'poll_intervall' (did you mean 'poll_interval'?)" in error
