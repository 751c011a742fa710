"""The ``async-hooks`` command (``async_hooks.cli:main``); its parts live in ``async_hooks._cli``.

``async-hooks demo`` shows the library at work on an embedded moto server; ``async-hooks wait
aws|gcp|http`` waits on real jobs with progress and an exit code (see ``docs/cli.md``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from async_hooks._cli import main as _cli

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``async-hooks`` with ``argv`` (default: the process's arguments); the exit code."""
    return _cli.main(argv, _demo)


def _demo(args: argparse.Namespace) -> int:
    from async_hooks._demo.command import run_demo_command  # the demo loads on its own command

    return run_demo_command(args)


if __name__ == "__main__":
    raise SystemExit(main())
