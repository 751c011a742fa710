"""The demo's running commentary: each set-up step says what it does while it does it (a
spinner on a terminal, a line in a log), so no phase passes in silence."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["Narrator"]


class Narrator:
    """``with narrator.step("starting moto"):`` shows the step while it runs and its time."""

    def __init__(self, out: TextIO, *, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet
        self.console: Any = None
        if out.isatty() and not quiet:
            from rich.console import Console

            self.console = Console(file=out, highlight=False)

    def say(self, text: str) -> None:
        if self.quiet:
            return
        if self.console is not None:
            self.console.print(text, markup=False)
        else:
            self.out.write(text + "\n")
            self.out.flush()

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        started = time.perf_counter()
        if self.quiet:
            yield
            return
        if self.console is not None:
            with self.console.status(text + " ..."):
                yield
            self.say(f"{text}: {time.perf_counter() - started:.1f}s")
        else:
            self.say(text + " ...")
            yield
            self.say(f"  done in {time.perf_counter() - started:.1f}s")
