"""The paired reading of deployment results (``benchmarks.deployment_pairs``)."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.deployment_pairs import Paired, pairs_of, report, sign_flip_p


def _row(approach: str, start: float, end: float, stall: float, waits: int = 2000) -> Any:
    return {
        "approach": approach,
        "waits": waits,
        "start": {"seconds": start, "longest_stall_s": stall},
        "end": {"seconds": end, "longest_stall_s": 0.0},
        "seen_s": 0.5 if approach == "async_hooks" else None,
    }


def test_sign_flip_is_exact_for_few_pairs() -> None:
    assert sign_flip_p([1.0, 1.0, 1.0]) == pytest.approx(1 / 8)  # only as observed
    assert sign_flip_p([1.0, -1.0]) == pytest.approx(3 / 4)  # a tie counts as "as large"
    assert sign_flip_p([-2.0, -1.0]) == pytest.approx(1.0)


def test_sign_flip_samples_many_pairs() -> None:
    assert sign_flip_p([1.0] * 30, samples=2000) < 0.01
    assert 0.3 < sign_flip_p([1.0, -1.0] * 15, samples=2000) <= 1.0


def test_sign_flip_needs_pairs() -> None:
    with pytest.raises(ValueError, match="no pairs"):
        sign_flip_p([])


def test_rows_pair_in_the_order_they_ran_and_an_odd_one_is_left_out() -> None:
    rows = [
        _row("async_hooks", 20, 30, 2),
        _row("floor_quiet", 18, 28, 3),
        _row("floor_datetime", 1, 1, 1),
        _row("async_hooks", 22, 33, 1, waits=5000),
        _row("async_hooks", 21, 31, 4),
        {**_row("floor_quiet", 1, 1, 1), "error": "deployment failed"},
        _row("floor_quiet", 19, 29, 2),
        _row("async_hooks", 99, 99, 9),
    ]
    pairs = pairs_of(rows, 2000)
    starts = [(a["start"]["seconds"], b["start"]["seconds"]) for a, b in pairs]
    assert starts == [(20, 18), (21, 19)]


def test_the_measures_compare_pair_by_pair() -> None:
    measure = Paired("start s", (20.0, 30.0, 10.0), (10.0, 40.0, 10.0))
    assert measure.differences == [10.0, -10.0, 0.0]
    assert measure.ratio_median == pytest.approx(1.0)
    assert measure.pooled_ratio == pytest.approx(2.0)  # medians 20 against 10
    assert measure.lost == 1


def test_the_report_reads_end_from_the_first_poll() -> None:
    rows = [_row("async_hooks", 20, 30.5, 2), _row("floor_quiet", 10, 20, 4)]
    text = report([rows], 2000)
    assert "1 pairs" in text
    assert "| end s from the first poll | 30.00 | 20.00 | 1.50x | 1.500x | 1 of 1 | 0.500 |" in text
    assert "| longest stall s | 2.00 | 4.00 | 0.50x | 0.500x | 0 of 1 | 1.000 |" in text
    assert "no pairs" in report([rows], 5000)
