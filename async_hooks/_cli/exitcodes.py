"""The command's exit codes, in one place: the docs (``docs/cli.md``) and the tests read them."""

from __future__ import annotations

__all__ = ["FAILED", "INTERRUPTED", "OK", "USAGE", "UsageError"]

#: Every job succeeded (or the demo ran).
OK = 0
#: At least one job failed, timed out or could not be described.
FAILED = 1
#: Bad arguments or configuration: nothing was waited on. The message names the flag to fix.
USAGE = 2
#: Interrupted with Ctrl-C (SIGINT), as shells report 128 + 2.
INTERRUPTED = 130


class UsageError(Exception):
    """A usage or configuration error, in the command's terms (flags, not keyword arguments)."""
