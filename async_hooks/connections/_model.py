"""Connections in Airflow's URI and JSON forms, looked up in the environment.

``Connection.from_env("my_api")`` reads ``ASYNC_HOOKS_CONN_MY_API`` and then
``AIRFLOW_CONN_MY_API``, so an Airflow deployment's connections work unchanged. Parsing follows
Airflow's ``Connection._parse_from_uri``: ``scheme://login:password@host:port/schema?extra``,
percent-decoding login, password, host and schema; ``__extra__`` in the query carries the extras
as JSON; a host may carry its own protocol (``http://https%3A%2F%2Fexample.com``). The JSON form
follows the Task SDK's ``Connection.from_json``: ``"port": ""`` is no port, a port is an integer
or a string of one (not a float, not a bool). Both normalise ``conn_type`` as Airflow does.
Anything malformed is a :class:`HookConfigError` that never shows a password.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from async_hooks._core.redact import MASK, mask_mapping
from async_hooks._core.values import is_encodable
from async_hooks.errors import HookConfigError

__all__ = ["Connection"]

ENV_PREFIXES = ("ASYNC_HOOKS_CONN_", "AIRFLOW_CONN_")
_EXTRA_KEY = "__extra__"
_FIELDS = ("conn_type", "host", "login", "password", "schema", "port", "extra", "description")


@dataclass(frozen=True, slots=True, repr=False)
class Connection:
    """Where and how to connect: Airflow's connection fields.

    ``repr`` masks the password and secret-looking extras; nothing here logs them.
    """

    conn_type: str | None = None
    host: str | None = None
    login: str | None = None
    password: str | None = None
    schema: str | None = None
    port: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    conn_id: str | None = None

    def __repr__(self) -> str:
        shown = {
            "conn_id": self.conn_id,
            "conn_type": self.conn_type,
            "host": self.host,
            "port": self.port,
            "login": self.login,
            "password": MASK if self.password else None,
            "schema": self.schema,
            "extra": mask_mapping(self.extra),
        }
        body = ", ".join(f"{k}={v!r}" for k, v in shown.items() if v not in (None, "", {}))
        return f"Connection({body})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret this connection holds, for redacting text that might echo one."""
        found = [self.password] if self.password else []
        found.extend(_secret_values(self.extra))
        return tuple(found)

    @classmethod
    def from_uri(cls, uri: str, *, conn_id: str | None = None) -> Connection:
        """Parse Airflow's URI form. A malformed URI raises :class:`HookConfigError` that names
        the problem without echoing the URI (it may hold a password)."""
        if not isinstance(uri, str):
            raise HookConfigError(f"connection URI must be a str, not {type(uri).__name__}")
        where = _where(conn_id)
        try:
            return cls._parse_uri(uri.strip(), conn_id)
        except HookConfigError:
            raise
        except (ValueError, TypeError, UnicodeError) as error:
            raise HookConfigError(
                f"malformed connection URI{where}: {_safe_reason(error)}"
            ) from None

    @classmethod
    def _parse_uri(cls, uri: str, conn_id: str | None) -> Connection:
        schemes = uri.count("://")
        if schemes == 0:
            raise ValueError("no scheme (expected 'type://...')")
        if schemes > 2:
            raise ValueError("more than two '://' separators")
        scheme = urlsplit(uri).scheme  # lower-cased, as Airflow reads it
        prefix = uri[: len(scheme) + 3]
        if not scheme or prefix.lower() != f"{scheme}://":
            raise ValueError("no scheme (expected 'type://...')")
        host_with_protocol = schemes == 2
        rest = ("" if host_with_protocol else "//") + uri[len(prefix) :]
        if host_with_protocol:
            head = rest.split("://", 1)[0]
            if "@" in head or ":" in head:
                raise ValueError("a host protocol must come right after the scheme")
        parts = urlsplit(rest)
        netloc_host = parts.netloc.rsplit("@", 1)[-1]
        if netloc_host.startswith("["):
            host = netloc_host.split("]", 1)[0] + "]"
        else:
            host = netloc_host.split(":", 1)[0]
        host = unquote(host)
        if host_with_protocol and host:
            host = f"{parts.scheme}://{host}"
        port = parts.port  # ValueError for a port that is not a number in 0..65535
        extra: dict[str, Any] = {}
        if parts.query:
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            extra = _extra_from(query[_EXTRA_KEY]) if _EXTRA_KEY in query else query
        schema = unquote(parts.path[1:]) if parts.path[1:] else None
        return cls(
            conn_type=_normalize_conn_type(scheme),
            host=host or None,
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            schema=schema,
            port=port,
            extra=extra,
            conn_id=conn_id,
        )

    @classmethod
    def from_json(cls, text: str, *, conn_id: str | None = None) -> Connection:
        """Parse Airflow's JSON form: ``{"conn_type": ..., "host": ..., "extra": {...}}``."""
        where = _where(conn_id)
        if not isinstance(text, str):
            raise HookConfigError(
                f"connection JSON{where} must be a str, not {type(text).__name__}"
            )
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            why = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deep"
            raise HookConfigError(f"connection JSON{where} is not valid JSON: {why}") from None
        if not isinstance(data, dict):
            raise HookConfigError(f"connection JSON{where} must be an object")
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise HookConfigError(f"connection JSON{where} has unknown fields: {unknown}")
        port = _json_port(data.get("port"), where)
        for name in ("conn_type", "host", "login", "password", "schema"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise HookConfigError(f"connection JSON{where}: {name} must be a string")
        raw_extra = data.get("extra")
        extra = _extra_from(raw_extra) if isinstance(raw_extra, str) else raw_extra or {}
        if not isinstance(extra, dict):
            raise HookConfigError(f"connection JSON{where}: extra must be an object")
        conn_type = data.get("conn_type")
        return cls(
            conn_type=_normalize_conn_type(conn_type) if conn_type else None,
            host=data.get("host") or None,
            login=data.get("login") or None,
            password=data.get("password") or None,
            schema=data.get("schema") or None,
            port=port,
            extra=extra,
            conn_id=conn_id,
        )

    @classmethod
    def parse(cls, text: str, *, conn_id: str | None = None) -> Connection:
        """URI or JSON, as Airflow decides: JSON when it starts with ``{``."""
        if not isinstance(text, str):
            raise HookConfigError(
                f"a connection{_where(conn_id)} must be a str (a URI or JSON), not"
                f" {type(text).__name__}"
            )
        if text.lstrip().startswith("{"):
            return cls.from_json(text, conn_id=conn_id)
        return cls.from_uri(text, conn_id=conn_id)

    @classmethod
    def from_env(cls, conn_id: str) -> Connection:
        """Look ``conn_id`` up in ``ASYNC_HOOKS_CONN_<ID>``, then ``AIRFLOW_CONN_<ID>``."""
        if not isinstance(conn_id, str) or not conn_id.strip():
            raise HookConfigError("conn_id must be a non-empty string")
        if "\x00" in conn_id or not is_encodable(conn_id):
            raise HookConfigError(
                "conn_id cannot name an environment variable: it holds a NUL or an unencodable"
                " character"
            )
        suffix = conn_id.upper()
        for prefix in ENV_PREFIXES:
            value = os.environ.get(prefix + suffix)
            if value:
                return cls.parse(value, conn_id=conn_id)
        names = " or ".join(prefix + suffix for prefix in ENV_PREFIXES)
        raise HookConfigError(f"unknown conn_id {conn_id!r}: set {names}")


def _where(conn_id: str | None) -> str:
    return f" of connection {conn_id!r}" if conn_id else ""


def _normalize_conn_type(conn_type: str) -> str:
    """Airflow's ``Connection._normalize_conn_type``, exactly (no change of case)."""
    if conn_type == "postgresql":
        return "postgres"
    return conn_type.replace("-", "_")


def _json_port(port: Any, where: str) -> int | None:
    """The Task SDK's ``Connection._coerce_port``: ``None`` or ``""`` is no port; a string is
    read as an integer; then only an ``int`` (not a bool, not a float) in 0..65535 will do."""
    if port is None or port == "":
        return None
    if isinstance(port, str):
        try:
            port = int(port)
        except ValueError:
            raise HookConfigError(f"connection JSON{where}: port must be an integer") from None
    if type(port) is not int:
        raise HookConfigError(
            f"connection JSON{where}: port must be an integer, not {type(port).__name__}"
        )
    if not 0 <= port <= 65535:
        raise HookConfigError(f"connection JSON{where}: port must be in 0..65535")
    return port


def _extra_from(text: str) -> dict[str, Any]:
    try:
        extra = json.loads(text) if text else {}
    except (ValueError, RecursionError):
        raise HookConfigError("connection extra is not valid JSON") from None
    if not isinstance(extra, dict):
        raise HookConfigError("connection extra must be a JSON object")
    return extra


def _secret_values(values: Mapping[str, Any]) -> list[str]:
    from async_hooks._core.redact import is_sensitive

    found: list[str] = []
    for key, value in values.items():
        if isinstance(value, Mapping):
            found.extend(_secret_values(value))
        elif is_sensitive(str(key)):
            found.append(value if isinstance(value, str) else json.dumps(value, default=str))
    return found


def _safe_reason(error: BaseException) -> str:
    """The parser's complaint, kept only when it cannot contain part of the URI."""
    text = str(error)
    if isinstance(error, ValueError) and text.startswith(("Port", "port")):
        return "the port is not an integer in 0..65535"
    if text in {
        "no scheme (expected 'type://...')",
        "more than two '://' separators",
        "a host protocol must come right after the scheme",
    }:
        return text
    if "IPv6" in text or "bracket" in text.lower():
        return "invalid IPv6 host"
    return type(error).__name__
