"""The deployment's two doors for tests: Airflow's REST API (``/api/v2``, no login: the simple
auth manager lets everyone in as admin) and its metadata database (PostgreSQL, read with
psycopg2, which Airflow itself needs)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from async_hooks.testing._processes import DeploymentError

__all__ = ["RestApi", "connection_body", "query"]


class RestApi:
    """JSON over HTTP to ``base`` (``http://127.0.0.1:<port>``)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: Any = None, *, timeout: float = 60.0) -> Any:
        """The decoded answer; ``DeploymentError`` with Airflow's detail for an HTTP error."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + "/api/v2" + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                payload = answer.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:2000].decode(errors="replace")
            raise DeploymentError(f"{method} {path}: HTTP {error.code}: {detail}") from None
        return json.loads(payload) if payload else None

    def ok(self, path: str) -> bool:
        """Whether GET ``path`` answers 2xx now (``False`` while the server is not up)."""
        try:
            self.call("GET", path, timeout=10)
        except (DeploymentError, OSError):
            return False
        return True

    def pages(self, path: str, key: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Every entry of a paginated list (``key`` holds a page, ``total_entries`` the count)."""
        entries: list[dict[str, Any]] = []
        while True:
            sep = "&" if "?" in path else "?"
            page = self.call("GET", f"{path}{sep}limit={limit}&offset={len(entries)}")
            entries += page[key]
            if not page[key] or len(entries) >= page["total_entries"]:
                return entries


def quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def connection_body(conn_id: str, connection: str | Mapping[str, Any]) -> dict[str, Any]:
    """The REST API's connection body from Airflow's URI form or a dict of its fields
    (``conn_type``, ``host``, ``login``, ``password``, ``schema``, ``port``, ``extra``)."""
    if isinstance(connection, str):
        parts = urllib.parse.urlsplit(connection)
        query = dict(urllib.parse.parse_qsl(parts.query))
        fields: dict[str, Any] = {
            "conn_type": parts.scheme.replace("-", "_"),
            "host": urllib.parse.unquote(parts.hostname or "") or None,
            "login": urllib.parse.unquote(parts.username) if parts.username else None,
            "password": urllib.parse.unquote(parts.password) if parts.password else None,
            "schema": urllib.parse.unquote(parts.path.lstrip("/")) or None,
            "port": parts.port,
            "extra": json.loads(query.pop("__extra__")) if "__extra__" in query else query,
        }
    else:
        fields = dict(connection)
    if "conn_type" not in fields:
        raise DeploymentError(f"connection {conn_id!r} needs a conn_type")
    extra = fields.get("extra")
    if extra is not None and not isinstance(extra, str):
        fields["extra"] = json.dumps(extra)
    return {"connection_id": conn_id, **{k: v for k, v in fields.items() if v is not None}}


def query(dsn: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of one SQL statement on the metadata database (read-only use in tests)."""
    import psycopg2  # type: ignore[import-untyped]

    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, tuple(params))
            rows: list[tuple[Any, ...]] = cursor.fetchall() if cursor.description else []
        connection.commit()
    finally:
        connection.close()
    return rows
