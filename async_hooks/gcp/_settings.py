"""``AsyncGcpHook``'s settings: Airflow's connection extras, names, scopes and API roots,
each checked with a ``HookConfigError`` that names the setting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from async_hooks._core.urls import absolute_http_url
from async_hooks.errors import HookConfigError

__all__ = ["SCOPES", "api_root_url", "check_names", "check_scopes", "gcp_extras", "single_line"]

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


def gcp_extras(extra: Mapping[str, Any]) -> dict[str, Any]:
    """Airflow's extras, plain or with the old ``extra__google_cloud_platform__`` prefix."""
    prefix = "extra__google_cloud_platform__"
    found = {k.removeprefix(prefix): v for k, v in extra.items() if k.startswith(prefix)}
    found.update({k: v for k, v in extra.items() if not k.startswith(prefix)})
    return {k: v for k, v in found.items() if v not in (None, "")}


def check_names(bucket: str, name: str | None = None) -> None:
    if not isinstance(bucket, str) or not bucket:
        raise HookConfigError("bucket must be a non-empty string")
    if name is not None and (not isinstance(name, str) or not name):
        raise HookConfigError("object name must be a non-empty string")


def single_line(text: str) -> bool:
    return text == text.strip() and text.isprintable()


def check_scopes(scopes: object) -> list[str]:
    """OAuth scopes: a list (or tuple) of non-empty single-line strings; a str alone would be
    split into characters by ``list()``, so it is refused with the fix in the message."""
    if scopes is None:
        return list(SCOPES)
    if isinstance(scopes, str):
        raise HookConfigError("scopes must be a list of scope URLs, e.g. [scopes] for one")
    if not isinstance(scopes, (list, tuple)) or not all(
        isinstance(scope, str) and scope and single_line(scope) for scope in scopes
    ):
        raise HookConfigError("scopes must be a list of non-empty single-line strings")
    return list(scopes) or list(SCOPES)


def api_root_url(setting: str, value: str | None) -> str | None:
    return None if value is None else str(absolute_http_url(setting, value)).rstrip("/")
