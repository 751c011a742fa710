"""What the demo shows: only kinds whose jobs run for a while on the local servers (moto's Batch
jobs have succeeded when they are submitted, so ``--kind batch`` is not offered), and what each
column of its table means, printed where the table is."""

from __future__ import annotations

import pytest

from async_hooks._cli.exitcodes import OK, USAGE
from async_hooks._demo.report import Phase, table
from async_hooks.cli import main


def test_batch_is_not_a_demo_kind(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["demo", "--kind", "batch"])
    assert caught.value.code == USAGE
    assert "invalid choice: 'batch'" in capsys.readouterr().err


def test_the_demo_help_lists_the_kinds_it_has(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["demo", "--help"])
    assert caught.value.code == OK
    assert "{ecs,glue,http}" in capsys.readouterr().out


def test_the_table_says_what_its_columns_mean():
    text = table([Phase("async_hooks: one loop, polls shared", 1.0, 9, 2, 3.0, 200, 0)])
    header, row, blank, *legend = text.strip("\n").splitlines()
    assert "threads" in header and "peak RSS +" in header
    assert row.startswith("async_hooks") and blank == ""
    explained = " ".join(legend)
    for column in ("wall:", "API calls:", "threads:", "peak RSS +:", "ok/failed:"):
        assert column in explained, column
    assert "moto server's aside" in explained


def test_the_http_demo_says_what_its_numbers_mean(capsys):
    args = ["demo", "--kind", "http", "--jobs", "5", "--polls", "1", "--poll-interval", "0.01"]
    assert main(args) == OK
    out = capsys.readouterr().out
    assert "(threads: every thread of this process" in out
    assert "peak RSS\n  growth: how much" in out
