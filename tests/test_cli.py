"""The main job: ``async-hooks demo`` end to end, small."""

from __future__ import annotations

import pytest

from async_hooks.cli import main


def test_demo_waits_on_jobs_and_reports(capsys):
    assert main(["demo", "--jobs", "40", "--polls", "1", "--poll-interval", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "38 succeeded, 2 failed" in out
    assert "clients created 1" in out
    assert "sync facade from a plain thread" in out


@pytest.mark.parametrize("args", [["demo", "--jobs", "0"], ["demo", "--poll-interval", "-1"], []])
def test_bad_arguments_exit_with_usage(args, capsys):
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2
