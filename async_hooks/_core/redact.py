"""Keep secrets out of reprs, logs and exception text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MASK", "Redactor", "is_sensitive", "mask_mapping"]

MASK = "***"

#: Parts of a key name that mark its value as secret (Airflow's list, and the providers').
_SENSITIVE_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "private_key",
    "keyfile",
    "credential",
    "service_file",
    "session_key",
)


def is_sensitive(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return any(part in lowered for part in _SENSITIVE_PARTS)


def mask_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with secret-looking keys masked, recursively."""
    masked: dict[str, Any] = {}
    for key, value in values.items():
        if is_sensitive(str(key)):
            masked[key] = MASK
        elif isinstance(value, Mapping):
            masked[key] = mask_mapping(value)
        else:
            masked[key] = value
    return masked


class Redactor:
    """Replaces known secret values inside any text (error bodies, messages)."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        unique = {s for s in secrets if s and len(s) >= 4}
        self._secrets = tuple(sorted(unique, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def __repr__(self) -> str:
        return f"<Redactor of {len(self._secrets)} secrets>"
