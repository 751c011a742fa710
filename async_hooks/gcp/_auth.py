"""Google credentials: a service account's data from a path, JSON text or a mapping, and which
of its fields are secrets. The access token obtained with them lives in ``_token``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from async_hooks.errors import HookConfigError

__all__ = ["load_service_data", "secrets_of"]

#: Fields of a credentials file whose values are secrets.
_SECRET_FIELDS = ("private_key", "private_key_id", "client_secret", "refresh_token")


def load_service_data(service_file: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A credentials file's data from a path, a JSON string or a mapping.

    Text that starts with ``{`` or ``[`` (after a UTF-8 BOM and white space) is JSON; any other
    text is a path. Errors name the problem, never the value: the JSON and the file hold a
    private key, and a path is shown nowhere either (it cannot be told apart from a mistyped
    JSON string).
    """
    if service_file is None:
        return None
    if isinstance(service_file, Mapping):
        data: Any = dict(service_file)
        _check_json_data(data)
    elif isinstance(service_file, str):
        text = _strip_lead(service_file)
        if not text.startswith(("{", "[")):
            text = _strip_lead(_read_service_file(text))
        data = _parse(text)
    else:
        raise HookConfigError(
            "service_file must be a path, a JSON string or a mapping, not"
            f" {type(service_file).__name__}"
        )
    if not isinstance(data, dict):
        raise HookConfigError("service_file must be a credentials JSON object, not a JSON list")
    if not isinstance(data.get("type"), str):
        raise HookConfigError("service_file must be a credentials JSON object with a 'type'")
    return data


#: A credentials file is a few KiB; more than this is not one (``/dev/zero`` never ends).
_MAX_FILE_BYTES = 1 << 20
#: Before JSON text: white space and a UTF-8 byte-order mark (Windows editors write one).
_LEAD = "\ufeff \t\r\n\x0b\x0c"


def _strip_lead(text: str) -> str:
    return text.lstrip(_LEAD).rstrip()


def _read_service_file(path: str) -> str:
    """The file's text; ``HookConfigError`` naming only the kind of failure."""
    try:
        with open(os.path.expanduser(path), "rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as error:
        why = error.strerror or type(error).__name__
        raise HookConfigError(f"service_file path cannot be read: {why}") from None
    except ValueError:  # an embedded NUL, a character the file system cannot encode
        raise HookConfigError(
            "service_file path cannot be read: it holds a NUL or another character no file"
            " name can hold"
        ) from None
    if len(raw) > _MAX_FILE_BYTES:
        raise HookConfigError("service_file is larger than 1 MiB: not a credentials file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HookConfigError("service_file is not UTF-8 text") from None


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise HookConfigError(f"service_file is not valid JSON: {error.msg} ({where})") from None
    except (ValueError, RecursionError):
        raise HookConfigError("service_file is not valid JSON (or nested too deep)") from None


def _check_json_data(data: dict[Any, Any]) -> None:
    """A mapping given as service_file must be what a JSON file could hold: the hook keys its
    token by the data's JSON text."""
    try:
        json.dumps(data, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        raise HookConfigError(
            "service_file as a mapping must hold JSON data: str keys and str, number, bool,"
            " None, list or mapping values"
        ) from None


def secrets_of(data: Mapping[str, Any] | None) -> list[str]:
    if not data:
        return []
    return [str(data[name]) for name in _SECRET_FIELDS if data.get(name)]
