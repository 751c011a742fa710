"""Google credentials: service-account data, and one shared access token per identity.

gcloud-aio-auth refreshes a token in a task that every caller awaits *unshielded*, so one
caller's cancellation cancels the refresh for all of them (talkiq/gcloud-aio #500). The shared
token here awaits that refresh shielded: a cancelled caller leaves, the refresh goes on.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Mapping
from typing import Any

from gcloud.aio.auth import Token

from async_hooks._core.errors import HookConfigError

__all__ = ["SharedToken", "load_service_data", "secrets_of"]

#: Fields of a credentials file whose values are secrets.
_SECRET_FIELDS = ("private_key", "private_key_id", "client_secret", "refresh_token")


class SharedToken(Token):
    """A gcloud-aio ``Token`` whose refresh survives any one caller's cancellation."""

    async def ensure_token(self) -> None:
        await asyncio.shield(super().ensure_token())


def load_service_data(service_file: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A credentials file's data from a path, a JSON string or a mapping.

    Errors name the problem, never the content (it holds a private key).
    """
    if service_file is None:
        return None
    if isinstance(service_file, Mapping):
        data: Any = dict(service_file)
    elif isinstance(service_file, str):
        text = service_file.strip()
        if not text.startswith("{"):
            try:
                with open(os.path.expanduser(text), encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as error:
                raise HookConfigError(
                    f"service_file {service_file!r} cannot be read: {error.strerror}"
                ) from None
        try:
            data = json.loads(text)
        except ValueError:
            raise HookConfigError("service_file is not valid JSON") from None
    else:
        raise HookConfigError("service_file must be a path, a JSON string or a mapping")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise HookConfigError("service_file must be a credentials JSON object with a 'type'")
    return data


def secrets_of(data: Mapping[str, Any] | None) -> list[str]:
    if not data:
        return []
    return [str(data[name]) for name in _SECRET_FIELDS if data.get(name)]


def build_token(data: dict[str, Any] | None, session: Any, scopes: list[str]) -> SharedToken:
    """A shared token on ``session``: from the credentials data, else application defaults."""
    service_file = io.StringIO(json.dumps(data)) if data is not None else None
    return SharedToken(service_file=service_file, session=session, scopes=scopes)
