"""The job kinds the command can wait on, per provider, and the flags their identifiers take.

AWS kinds come from the kind registry (``async_hooks.aws.kinds.job_kinds()``: built-in ones and
any a module given to ``--import`` registers, found in the current directory or on
``PYTHONPATH``); GCP kinds from the GCP provider's table when it
has one. An identifier keyword becomes a flag: ``job_name=`` is ``--job-name``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from async_hooks._cli.exitcodes import UsageError
from async_hooks._providers import provider

if TYPE_CHECKING:  # the kinds module imports aiobotocore: only once the provider loads
    from async_hooks.aws.kinds import JobKind

__all__ = ["KindInfo", "aws_kinds", "flag", "gcp_kinds", "import_plugins", "kinds_of"]


@dataclass(frozen=True)
class KindInfo:
    """One kind as the command shows it: the identifiers it takes, those a short id cannot do
    without (``required``; a GCP full resource name needs none), and a one-line summary."""

    name: str
    identifiers: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    summary: str = ""
    help: Mapping[str, str] = field(default_factory=dict)


def flag(keyword: str) -> str:
    """The flag of an identifier keyword: ``job_name`` -> ``--job-name``."""
    return "--" + keyword.replace("_", "-")


def import_plugins(modules: Iterable[str]) -> None:
    """Import the modules named by ``--import`` (they register kinds as they load).

    The current directory is searched first, as ``python -m`` does: the installed script's
    ``sys.path`` starts with its own ``bin`` directory, where no plugin lives."""
    modules = list(modules)
    here = os.getcwd()
    if modules and here not in sys.path:
        sys.path.insert(0, here)
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise UsageError(f"--import {name}: cannot import it ({error})") from None


def _aws_summary(kind: JobKind) -> str:
    """The one-job describe call, and the call that describes many when waits share their
    polls: ``emr describe_step (shared: list_steps, 10 ids/call)``. A ``batch_fetch`` reads
    pages of recent jobs instead of asking for ids (Glue's ``get_job_runs``)."""
    summary = f"{kind.service} {kind.describe}"
    if not kind.coalescable:
        return summary
    call = "" if kind.batch_describe == kind.describe else f": {kind.batch_describe}"
    if kind.batch_fetch is not None:
        return f"{summary} (shared{call} pages, up to {kind.batch_max} recent jobs)"
    return f"{summary} (shared{call}, {kind.batch_max} ids/call)"


def aws_kinds() -> dict[str, KindInfo]:
    """Every registered AWS kind; ``ImportError`` (naming the extra) without aiobotocore."""
    provider("aws").load()
    kinds = importlib.import_module("async_hooks.aws.kinds")
    found: dict[str, KindInfo] = {}
    for name, kind in sorted(kinds.job_kinds().items()):
        names = tuple(kind.identifiers)
        found[name] = KindInfo(
            name,
            names,
            names,
            _aws_summary(kind),
            {k: f"the {v} parameter" for k, v in kind.identifiers.items()},
        )
    return found


def gcp_kinds() -> dict[str, KindInfo]:
    """The GCP provider's kinds (``async_hooks.gcp.kinds.job_kinds()``)."""
    provider("gcp").load()
    kinds = importlib.import_module("async_hooks.gcp.kinds")
    found: dict[str, KindInfo] = {}
    for name, kind in sorted(kinds.job_kinds().items()):
        required = tuple(k for k in kind.identifiers if k in kind.required)
        summary = f"GET /{kind.version}/{kind.templates[0]}"
        found[name] = KindInfo(
            name, tuple(kind.identifiers), required, summary, dict(kind.identifiers)
        )
    return found


def kinds_of(provider_name: str) -> dict[str, KindInfo]:
    """The kinds of ``aws`` or ``gcp``."""
    return aws_kinds() if provider_name == "aws" else gcp_kinds()
