"""``async-hooks demo``: check its options, then run the HTTP or the AWS demo."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from async_hooks._cli.exitcodes import UsageError

__all__ = ["run_demo_command"]

#: What the AWS demo imports, as the ``demo`` extra installs it.
_NEEDS = ("aiobotocore", "moto", "boto3")


def run_demo_command(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs must be >= 1")
    if args.poll_interval <= 0:
        raise UsageError("--poll-interval must be > 0 seconds")
    if args.polls < 0:
        raise UsageError("--polls must be >= 0")
    if args.kind == "http":
        from async_hooks._demo.http import run_http_demo

        return run_http_demo(args.jobs, args.polls, args.poll_interval, sys.stdout, args.quiet)
    missing = [name for name in _NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"the AWS demo needs the 'demo' extra: pip install 'async-hooks[demo]'"
            f" ({', '.join(missing)} missing); --kind http needs nothing more"
        )
    from async_hooks._demo.aws import run_demo

    return run_demo(
        args.kind, args.jobs, args.poll_interval, not args.no_baseline, sys.stdout, args.quiet
    )
