"""The entry point: parse, run, and turn every ending into its exit code (see ``exitcodes``).

A usage or configuration error is one line naming the flag to fix (exit 2); Ctrl-C is one line,
``interrupted`` (exit 130); neither shows a traceback. Only a bug of ours does.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from functools import cache

from async_hooks._cli.catalog import KindInfo, import_plugins, kinds_of
from async_hooks._cli.exitcodes import INTERRUPTED, USAGE, UsageError
from async_hooks._cli.interrupt import run_interruptibly
from async_hooks._cli.parser import build_parser, plugins_in
from async_hooks._cli.waits import Output

__all__ = ["main"]


def _version() -> str:
    from async_hooks import __version__

    return __version__


def _kinds_loader(wanted: bool) -> Callable[[str], dict[str, KindInfo] | str]:
    @cache
    def kinds(provider_name: str) -> dict[str, KindInfo] | str:
        if not wanted:
            return "not loaded"
        try:
            return kinds_of(provider_name)
        except ImportError as error:  # the registry's message names the extra to install
            return str(error)

    return kinds


@contextlib.contextmanager
def _log_to_stderr(verbose: int) -> Iterator[None]:
    """``-v``: the library's INFO records (retries, throttling); ``-vv``: DEBUG as well."""
    if not verbose:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("async_hooks")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _fail(where: str, message: str) -> int:
    sys.stderr.write(f"{where}: error: {message}\n")
    return USAGE


#: Runs ``async-hooks demo`` (the entry point, ``async_hooks.cli``, hands it in: the demo is
#: built on the CLI's display, so this package does not import it).
DemoCommand = Callable[[argparse.Namespace], int]


def _run(argv: list[str], demo: DemoCommand) -> int:
    waiting = "wait" in argv
    if waiting:
        try:
            import_plugins(plugins_in(argv))
        except UsageError as error:
            return _fail("async-hooks wait", str(error))
    kinds = _kinds_loader(waiting)
    parser = build_parser(kinds, _version())
    args = parser.parse_args(argv)
    with _log_to_stderr(args.verbose):
        return _command(args, kinds, demo)


def _command(
    args: argparse.Namespace,
    kinds: Callable[[str], dict[str, KindInfo] | str],
    demo: DemoCommand,
) -> int:
    if args.command == "demo":
        try:
            return demo(args)
        except UsageError as error:
            return _fail("async-hooks demo", str(error))
    where = f"async-hooks wait {args.provider}"
    if args.provider != "http":
        loaded = kinds(args.provider)
        if isinstance(loaded, str):
            return _fail(where, loaded)
    from async_hooks._cli.commands import wait_command

    output = Output(quiet=args.quiet, json=args.json, verbose=bool(args.verbose))
    try:
        return run_interruptibly(wait_command(args, output))
    except UsageError as error:
        return _fail(where, f"{error} (see: {where} --help)")


def main(argv: Sequence[str] | None, demo: DemoCommand) -> int:
    """The ``async-hooks`` command; returns the exit code (argparse exits 2 on bad syntax)."""
    try:
        return _run(list(sys.argv[1:] if argv is None else argv), demo)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
        return INTERRUPTED
