"""``wait aws``, ``wait gcp`` and ``wait http``: check the flags, build the hook, run the waits.

Every check here speaks in flags (``glue needs --job-name``); a hook's own configuration error
is translated the same way (``pass region_name=`` -> ``pass --region``), or names the
``--conn-id`` connection when the setting came from it.
"""

from __future__ import annotations

import argparse
import difflib
import math
from typing import Any

from async_hooks._cli.catalog import KindInfo, flag, kinds_of
from async_hooks._cli.exitcodes import UsageError
from async_hooks._cli.translate import Wording, connection_fields
from async_hooks._cli.waits import Output, StatusCallback, run_waits
from async_hooks._providers import provider
from async_hooks._result import JobResult
from async_hooks.errors import HookConfigError

__all__ = ["identifier_dest", "wait_command"]


def identifier_dest(keyword: str) -> str:
    """The namespace attribute of an identifier flag (apart from the fixed options)."""
    return f"id_{keyword}"


def _identifiers(
    args: argparse.Namespace, kind: KindInfo, every: dict[str, KindInfo]
) -> dict[str, str]:
    """The identifiers ``kind`` takes, from their flags; names what is missing or foreign.
    (A GCP full resource name, ``projects/...``, carries its own.)"""
    given = {
        keyword: getattr(args, identifier_dest(keyword))
        for info in every.values()
        for keyword in info.identifiers
        if getattr(args, identifier_dest(keyword), None) is not None
    }
    short = args.job_ids
    if args.provider == "gcp":  # a full resource name carries its own identifiers
        short = [j for j in args.job_ids if not j.startswith("projects/")]
    missing = [flag(k) for k in kind.required if k not in given]
    if missing and short:
        named = " (or full resource names, projects/...)" if args.provider == "gcp" else ""
        raise UsageError(f"{kind.name} needs {' and '.join(missing)}{named}")
    foreign = sorted(flag(k) for k in given if k not in kind.identifiers)
    if foreign:
        takes = ", ".join(flag(k) for k in kind.identifiers) or "no identifier flags"
        raise UsageError(f"{', '.join(foreign)} does not apply to {kind.name} (it takes {takes})")
    return {k: v for k, v in given.items() if k in kind.identifiers}


def _kind(args: argparse.Namespace) -> tuple[KindInfo, dict[str, KindInfo]]:
    every = kinds_of(args.provider)
    if args.kind not in every:
        close = difflib.get_close_matches(args.kind, list(every), n=1)
        meant = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"unknown {args.provider.upper()} job kind {args.kind!r}{meant};"
            f" known: {', '.join(every)}"
        )
    return every[args.kind], every


def _timing(args: argparse.Namespace) -> dict[str, Any]:
    """The wait's timing; ``nan`` and ``inf`` (which ``float()`` reads) are refused here, in
    flags, before the hook refuses them in keywords."""
    for name, value in (("--poll-interval", args.poll_interval), ("--timeout", args.timeout)):
        if not (math.isfinite(value) and value > 0):
            raise UsageError(f"{name} must be > 0 seconds (a finite number), not {value!r}")
    return {"poll_interval": args.poll_interval, "timeout": args.timeout}


#: What a provider's builder returns: the hook, the title, the wait, the error wording.
Built = tuple[Any, str, Any, Wording]


def _hook(provider_name: str, **settings: Any) -> tuple[Any, Wording]:
    """The provider's hook, and how to word its configuration errors: a setting typed as a
    flag is named by its flag, one the connection supplied by its field."""
    typed = {keyword for keyword, value in settings.items() if value is not None}
    conn_id = settings.get("conn_id")
    wording = Wording(provider_name, conn_id, connection_fields(conn_id) - typed)
    try:
        return provider(provider_name).hook_class()(**settings), wording
    except HookConfigError as error:
        raise UsageError(wording(str(error))) from None


def _aws(args: argparse.Namespace) -> Built:
    return _kind_waits(
        args,
        "aws",
        region_name=args.region,
        endpoint_url=args.endpoint_url,
        profile_name=args.profile,
        conn_id=args.conn_id,
    )


def _gcp(args: argparse.Namespace) -> Built:
    return _kind_waits(
        args,
        "gcp",
        project=args.project,
        service_file=args.service_file,
        api_root=args.api_root,
        conn_id=args.conn_id,
    )


def _kind_waits(args: argparse.Namespace, provider: str, **settings: Any) -> Built:
    """A provider whose waits name a kind (AWS, GCP): its hook and a wait per job id."""
    kind, every = _kind(args)
    identifiers = _identifiers(args, kind, every)
    timing = _timing(args)
    hook, wording = _hook(provider, **settings)

    async def wait(job_id: str, on_status: StatusCallback) -> JobResult:
        result: JobResult = await hook.wait_for_job(
            kind.name, job_id, **timing, **identifiers, on_status=on_status
        )
        return result

    return hook, kind.name, wait, wording


def _headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, text = value.partition(":")
        if not sep or not name.strip():
            raise UsageError("--header takes NAME:VALUE, such as 'Accept: application/json'")
        headers[name.strip()] = text.strip()
    return headers


def _http(args: argparse.Namespace) -> Built:
    timing = _timing(args)
    absolute = all(path.startswith(("http://", "https://")) for path in args.job_ids)
    if args.base_url is None and args.conn_id is None and not absolute:
        raise UsageError("wait http needs --base-url (or --conn-id, or absolute URLs)")
    hook, wording = _hook(
        "http",
        base_url=args.base_url,
        conn_id=args.conn_id,
        headers=_headers(args.header),
    )
    checks = {
        "status_key": args.status_key,
        "success": args.success or ["SUCCEEDED"],
        "failure": args.failure or ["FAILED"],
        "reason_key": args.reason_key or None,
    }

    async def wait(path: str, on_status: StatusCallback) -> JobResult:
        result: JobResult = await hook.wait_for_job(path, **checks, **timing, on_status=on_status)
        return result

    return hook, "http", wait, wording


async def wait_command(args: argparse.Namespace, output: Output) -> int:
    """Run ``wait PROVIDER ...``; the exit code."""
    build = {"aws": _aws, "gcp": _gcp, "http": _http}[args.provider]
    hook, title, wait, wording = build(args)
    return await run_waits(hook, title, args.job_ids, wait, args.poll_interval, output, wording)
