"""Which providers' extras are installed, read from the installed metadata (nothing is imported:
``--help`` stays fast), and the command that installs a missing one from where async-hooks came
from (a clone, a wheel, else the package index)."""

from __future__ import annotations

import importlib.metadata
import json
import re
import urllib.parse

from async_hooks._providers import PROVIDERS

__all__ = ["providers_epilog"]


def _extra_installed(extra: str) -> bool:
    """Whether every package the ``extra`` requires is installed, read from the installed
    metadata (nothing is imported: ``--help`` stays fast)."""
    try:
        requires = importlib.metadata.requires("async-hooks") or []
    except importlib.metadata.PackageNotFoundError:
        return False  # run from a source tree: nothing says what is installed
    needed = [
        re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0]
        for requirement in requires
        if re.search(rf"""extra\s*==\s*["']{re.escape(extra)}["']""", requirement)
    ]
    for name in needed:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            return False
    return bool(needed)


def _install_command(extra: str) -> str:
    """What installs ``extra`` here: from the directory or wheel async-hooks was installed from
    (its ``direct_url.json``, PEP 610), else from the package index."""
    try:
        origin = json.loads(
            importlib.metadata.distribution("async-hooks").read_text("direct_url.json") or "{}"
        )
    except (importlib.metadata.PackageNotFoundError, ValueError):
        origin = {}
    url = origin.get("url", "") if isinstance(origin, dict) else ""
    if not isinstance(url, str) or not url.startswith("file://"):
        return f"pip install 'async-hooks[{extra}]'"
    from urllib.request import url2pathname  # only when an extra is missing: 40 ms to import

    path = url2pathname(urllib.parse.urlsplit(url).path)
    dir_info = origin.get("dir_info")
    editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
    return f"pip install {'-e ' if editable else ''}'{path}[{extra}]'"


def _provider_status(extra: str | None) -> str:
    if extra is None:
        return "installed with async-hooks"
    if _extra_installed(extra):
        return f"installed (extra '{extra}')"
    return f"not installed: {_install_command(extra)}"


def providers_epilog() -> str:
    """``async-hooks --help``'s list of providers, each installed or with its install command."""
    rows = [
        f"  {row.name:<6} {row.hook:<14} {_provider_status(row.extra)}"
        for row in PROVIDERS.values()
    ]
    return "providers:\n" + "\n".join(rows) + "\n\nmore: async-hooks wait aws --help (its kinds)"
