"""Response timestamps: the hook's clients parse them to exactly botocore's values (the same
instants, the same zone class), with the local zone built once, not once per value."""

from __future__ import annotations

import datetime as dt
import inspect
import os
import time

import botocore.utils
import pytest
from aiobotocore.session import AioSession
from botocore.utils import parse_timestamp

from async_hooks import AsyncAwsHook
from async_hooks.aws import _timestamps
from async_hooks.aws._timestamps import parse_timestamp_fast

VALUES = [
    0,
    1,
    -86_400,
    1_796_605_590,
    1_796_605_590.5,
    1_796_605_590.123456,
    True,
    "1796605590",
    "1796605590.25",
    "2026-12-07T03:30:25Z",
    "2026-12-07T03:30:25.123+02:00",
    "Mon, 07 Dec 2026 03:30:25 GMT",
    "2026-12-07",
]


def _same(value: object) -> None:
    theirs = parse_timestamp(value)
    ours = parse_timestamp_fast(value)
    assert ours == theirs, value
    assert ours.utcoffset() == theirs.utcoffset(), value
    assert type(ours.tzinfo) is type(theirs.tzinfo), value
    assert ours.tzinfo == theirs.tzinfo, value


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_form_parses_to_botocores_value_and_zone(value: object) -> None:
    _same(value)


@pytest.mark.parametrize("value", [10**12, "not a time", ""], ids=repr)
def test_what_botocore_refuses_is_refused_the_same_way(value: object) -> None:
    with pytest.raises((ValueError, OverflowError, OSError, RuntimeError)) as theirs:
        parse_timestamp(value)
    with pytest.raises(type(theirs.value)):
        parse_timestamp_fast(value)


@pytest.fixture
def another_zone():
    """The process's zone changed at run time (``time.tzset``), as a long-lived worker's may."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is Unix only")
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_a_zone_changed_at_run_time_is_followed(another_zone) -> None:
    for value in (1_796_605_590, 1_780_000_000.5):  # winter and summer time there
        _same(value)
    assert parse_timestamp_fast(1_796_605_590).utcoffset() == dt.timedelta(hours=-5)


def test_the_upstream_code_it_stands_for_is_unchanged() -> None:
    """Pins what ``parse_timestamp_fast`` mirrors: an epoch number becomes
    ``fromtimestamp(value, tzinfo())`` with botocore's first zone class. When botocore changes
    this, the fast parser must be checked against it again."""
    source = inspect.getsource(botocore.utils._parse_timestamp_with_tzinfo)
    assert "if isinstance(value, (int, float)):" in source
    assert "return datetime.datetime.fromtimestamp(value, tzinfo())" in source
    assert "for tzinfo in tzinfo_options:" in inspect.getsource(parse_timestamp)


async def test_the_hooks_clients_parse_with_it_to_botocores_values(moto_server, monkeypatch):
    """A Glue run described through the hook and through a plain aiobotocore client: the same
    timestamps, and the hook's client parsed them with the fast parser (which builds its zone
    on first use)."""
    moto_server.set_transition("glue::job_run", {"progression": "immediate"})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        await hook.call("glue", "create_job", Name="etl", Role="r", Command={"Name": "glueetl"})
        run_id = (await hook.call("glue", "start_job_run", JobName="etl"))["JobRunId"]
        monkeypatch.setattr(_timestamps, "_zone", None)
        ours = (await hook.call("glue", "get_job_run", JobName="etl", RunId=run_id))["JobRun"]
        assert _timestamps._zone is not None
    plain = AioSession().create_client(
        "glue",
        endpoint_url=moto_server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    async with plain as glue:
        theirs = (await glue.get_job_run(JobName="etl", RunId=run_id))["JobRun"]
    stamps = [name for name, value in theirs.items() if isinstance(value, dt.datetime)]
    assert stamps, theirs
    for name in stamps:
        assert ours[name] == theirs[name], name
        assert type(ours[name].tzinfo) is type(theirs[name].tzinfo), name
