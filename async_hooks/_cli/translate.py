"""Library messages in the command's terms: keyword arguments become the flags that set them
(``pass region_name=`` -> ``pass --region``), so an error names what to change on the line.

A setting the user did not type but a ``--conn-id`` connection supplied is the connection's
field, not a flag: ``connection 'x': endpoint_url must be ...`` (``Wording``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from async_hooks.errors import HookConfigError

__all__ = ["KEYWORD_FLAGS", "Wording", "connection_fields", "in_flags"]

#: Hook and wait keywords whose flag is not simply ``--`` + the keyword with dashes.
KEYWORD_FLAGS = {
    "region_name": "--region",
    "profile_name": "--profile",
    "endpoint_url": "--endpoint-url",
    "conn_id": "--conn-id",
    "service_file": "--service-file",
    "api_root": "--api-root",
    "base_url": "--base-url",
    "status_key": "--status-key",
    "reason_key": "--reason-key",
    "poll_interval": "--poll-interval",
}

_NAMED = re.compile(r"\b(" + "|".join(KEYWORD_FLAGS) + r")\b=?")
#: Any other ``name=`` that ends a word: an identifier keyword (``job_name=``, ``cluster=``).
_KEYWORD = re.compile(r"\b([a-z][a-z0-9_]*)=(?=$|[\s,;:)\]'\"])")

#: The library's advice for a URL with credentials, which means nothing at a shell ...
_IN_SETTINGS = "put credentials in the hook's settings"
#: ... and what to say instead, per provider (and for a connection's URL).
_CREDENTIALS = {
    "aws": "put credentials in --profile, --conn-id or the AWS_* variables",
    "gcp": "put credentials in --service-file or --conn-id",
    "http": "put credentials in --header or --conn-id",
}
_IN_CONNECTION = "put credentials in the connection's login and password"

#: Connection extras that stand for another setting (Airflow's GCP key fields).
_EXTRA_ALIASES = {"key_path": "service_file", "keyfile_dict": "service_file"}
_GCP_PREFIX = "extra__google_cloud_platform__"


def in_flags(message: str, keep: Collection[str] = ()) -> str:
    """``message`` with keyword arguments replaced by their flags (those in ``keep`` stay
    keywords, without ``=``)."""

    def named(match: re.Match[str]) -> str:
        word = match.group(1)
        return word if word in keep else KEYWORD_FLAGS[word]

    def keyword(match: re.Match[str]) -> str:
        word = match.group(1)
        return word if word in keep else "--" + word.replace("_", "-")

    return _KEYWORD.sub(keyword, _NAMED.sub(named, message))


def connection_fields(conn_id: str | None) -> frozenset[str]:
    """The hook settings (by keyword) the connection ``conn_id`` supplies: its extras, its host
    (``base_url``), a GCP key (``service_file``). Empty when it cannot be read: the hook then
    says why."""
    if conn_id is None:
        return frozenset()
    from async_hooks.connections._lookup import resolve_connection

    try:
        conn = resolve_connection(conn_id)
    except HookConfigError:
        return frozenset()
    if conn is None:
        return frozenset()
    fields = {str(key).removeprefix(_GCP_PREFIX) for key in conn.extra}
    fields |= {_EXTRA_ALIASES[key] for key in fields if key in _EXTRA_ALIASES}
    if conn.host:
        fields.add("base_url")
    return frozenset(fields)


@dataclass(frozen=True)
class Wording:
    """Turns a hook's configuration error into the command's terms: flags for what the user
    typed, the connection's fields for what ``--conn-id`` supplied (``from_connection``)."""

    provider: str
    conn_id: str | None = None
    from_connection: frozenset[str] = frozenset()

    def __call__(self, message: str) -> str:
        named = {
            word for word in self.from_connection if re.search(rf"\b{re.escape(word)}\b", message)
        }
        if named:
            message = message.replace(_IN_SETTINGS, _IN_CONNECTION)
            return f"connection {self.conn_id!r}: {in_flags(message, keep=named)}"
        message = message.replace(_IN_SETTINGS, _CREDENTIALS.get(self.provider, _IN_SETTINGS))
        return in_flags(message)
