"""Our rows against the quiet floor, run by run, over several results of
``benchmarks.airflow_deployment``: are we slower, or is it the machine?

A deployment row's start, end and longest stall move by tens of percent from one run to the
next on two shared cores, ours and the floor's alike; the pooled medians of a handful of runs
can then differ by more than the code does. ``--repeat`` interleaves our rows with the floor's
(ours, floor, ours, floor, ...), so each of our runs has a floor run next to it, on the machine
as it was then. This pairs them, in each file in order, and for each measure gives the median
of the per-pair ratios (what a drift of the machine between runs does not move), how many pairs
we lost, and a paired sign-flip test: the chance that the mean difference would be as much in
the floor's favour if which of the two was ours were a coin toss (exact up to
``EXACT_UP_TO`` pairs, sampled past it).

    python -m benchmarks.deployment_pairs fastruns fresh-e19219f b587f1e-2000 --waits 2000
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._deployment_report import FLOOR, _stall, end_after_seen

RESULTS = Path(__file__).resolve().parent / "results"
OURS = "async_hooks"
#: Up to this many pairs the sign-flip test enumerates every assignment (2**n of them).
EXACT_UP_TO = 18
SAMPLED = 200_000

Row = dict[str, Any]

MEASURES: dict[str, Callable[[Row], float]] = {
    "start s": lambda row: float(row["start"]["seconds"]),
    "end s from the first poll": end_after_seen,
    "longest stall s": _stall,
}


@dataclass(frozen=True)
class Paired:
    """One measure over the pairs: ours and the floor's, run by run."""

    measure: str
    ours: tuple[float, ...]
    floor: tuple[float, ...]

    @property
    def differences(self) -> list[float]:
        return [a - b for a, b in zip(self.ours, self.floor, strict=True)]

    @property
    def ratio_median(self) -> float:
        """The median of the per-pair ratios (ours / the floor's)."""
        return statistics.median(a / b for a, b in zip(self.ours, self.floor, strict=True) if b)

    @property
    def pooled_ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.floor)

    @property
    def lost(self) -> int:
        """Pairs in which ours was the larger (slower, or the longer stall)."""
        return sum(1 for d in self.differences if d > 0)

    def p_value(self, seed: int = 0) -> float:
        """One-sided: the share of sign assignments whose mean difference is at least ours."""
        return sign_flip_p(self.differences, seed)


def sign_flip_p(differences: Sequence[float], seed: int = 0, samples: int = SAMPLED) -> float:
    """How often flipping the signs of the paired differences at random gives a mean at least
    as large as the one observed (the observed assignment counts itself)."""
    n = len(differences)
    if n == 0:
        raise ValueError("no pairs to test")
    observed = sum(differences) - 1e-9 * max(1.0, sum(abs(d) for d in differences))
    flips: Iterable[Iterable[float]]
    if n <= EXACT_UP_TO:
        flips = itertools.product((1.0, -1.0), repeat=n)
        total = 2**n
    else:
        draw = random.Random(seed)
        flips = ((draw.choice((1.0, -1.0)) for _ in range(n)) for _ in range(samples))
        total = samples
    hits = sum(
        1
        for signs in flips
        if sum(s * d for s, d in zip(signs, differences, strict=True)) >= observed
    )
    return float(hits / total)


def pairs_of(rows: list[Row], waits: int) -> list[tuple[Row, Row]]:
    """Ours and the floor's successful rows at ``waits``, paired in the order they ran."""
    done = [row for row in rows if row.get("waits") == waits and "error" not in row]
    ours = [row for row in done if row.get("approach") == OURS]
    floor = [row for row in done if row.get("approach") == FLOOR]
    return list(zip(ours, floor, strict=False))  # an odd run out has no partner


def load(stems: Sequence[str]) -> list[list[Row]]:
    """Each results file's rows (``results/STEM.json``)."""
    found = []
    for stem in stems:
        path = RESULTS / f"{stem}.json"
        if not path.is_file():
            raise SystemExit(f"no results file {path}")
        found.append(json.loads(path.read_text())["rows"])
    return found


def paired(files: Sequence[list[Row]], waits: int) -> list[Paired]:
    pairs = [pair for rows in files for pair in pairs_of(rows, waits)]
    return [
        Paired(name, tuple(of(a) for a, _ in pairs), tuple(of(b) for _, b in pairs))
        for name, of in MEASURES.items()
    ]


def report(files: Sequence[list[Row]], waits: int) -> str:
    measures = paired(files, waits)
    n = len(measures[0].ours)
    if n == 0:
        return f"{waits:,} waits: no pairs of {OURS} and {FLOOR}"
    lines = [
        f"{waits:,} waits, {n} pairs",
        "| Measure | Ours (median) | Floor's (median) | Pooled ratio | Median per-pair ratio"
        " | Ours larger in | p (sign flip, one-sided) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in measures:
        lines.append(
            f"| {m.measure} | {statistics.median(m.ours):.2f} | {statistics.median(m.floor):.2f}"
            f" | {m.pooled_ratio:.2f}x | {m.ratio_median:.3f}x | {m.lost} of {n}"
            f" | {m.p_value():.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stems", nargs="+", help="results files (benchmarks/results/STEM.json)")
    parser.add_argument("--waits", type=int, nargs="+", default=[2000, 5000])
    args = parser.parse_args(argv)
    files = load(args.stems)
    print("\n\n".join(report(files, waits) for waits in args.waits))


if __name__ == "__main__":
    main()
