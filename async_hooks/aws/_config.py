"""Checks of ``AsyncAwsHook``'s settings at construction, and the client ``AioConfig``.

botocore finds most mistakes in ``config_kwargs`` only when the first client is built, some as
an ``AttributeError`` (``retries=3``); these checks find them when the hook is made, as a
``HookConfigError`` naming the option and the expected type. Messages never show a value: a
key, a token or a proxy URL with a password may be the one that is wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import botocore
from aiobotocore.config import AioConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from async_hooks._core.values import is_encodable, is_finite_number
from async_hooks.errors import HookConfigError

__all__ = ["check_settings", "client_config", "merged_config"]

#: botocore's ``validate_region_name`` pattern, matched whole: botocore's ``$`` also matches
#: before a final newline, so it lets ``"us-east-1\n"`` through to the endpoint's host name.
_REGION = re.compile(r"(?![0-9]+\Z)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)")
#: Control characters (line breaks, NUL...) and DEL: never part of a name, key or token.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SECRET_SETTINGS = ("aws_secret_access_key", "aws_session_token")


def check_settings(settings: Mapping[str, Any]) -> None:
    """Each of the hook's string settings (explicit or from the connection) is a single-line
    string; ``region_name`` a region's host label; ``profile_name`` and ``role_arn`` names
    without surrounding spaces. An empty string means "not set", as before."""
    for name, value in settings.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise HookConfigError(f"{name} must be a string, not {type(value).__name__}")
        if _CONTROL.search(value) or not is_encodable(value):
            raise HookConfigError(
                f"{name} has a line break, another control character or an unencodable one"
            )
        if not value or name in _SECRET_SETTINGS or name == "aws_access_key_id":
            continue
        if name == "region_name" and not _REGION.fullmatch(value):
            raise HookConfigError(_region_rule("region_name"))
        if name in ("profile_name", "role_arn") and value != value.strip():
            raise HookConfigError(f"{name} must not be blank or start or end with white space")
        if name == "role_arn" and not value.startswith("arn:"):
            raise HookConfigError("role_arn must be an IAM role ARN ('arn:aws:iam::...:role/...')")


def merged_config(from_connection: Any, explicit: Any) -> dict[str, Any]:
    """The connection's ``config_kwargs`` updated with the explicit ones, each checked, and the
    result accepted by ``AioConfig`` (an empty string from a connection means none)."""
    merged = {
        **_checked(None if from_connection == "" else from_connection, "of the connection"),
        **_checked(explicit, ""),
    }
    refused = _refused(merged) if merged else None
    if refused is not None:
        # Name the option botocore refuses alone, if one is; never botocore's text (a value).
        culprit = next((k for k in merged if _refused({k: merged[k]}) is not None), None)
        option = f"option {culprit!r}" if culprit else "these options together"
        raise HookConfigError(
            f"config_kwargs: botocore's Config refuses {option} ({type(refused).__name__})"
        )
    return merged


def _refused(options: dict[str, Any]) -> Exception | None:
    try:
        client_config(options, 1)
    except (TypeError, ValueError, AttributeError, BotoCoreError) as error:
        return error
    return None


def client_config(config_kwargs: Mapping[str, Any], concurrency: int) -> AioConfig:
    """The clients' ``AioConfig``: botocore's own retries off (the pipeline retries and sees
    every throttle), a pool of at least ``concurrency`` connections, and Airflow's
    ``signature_version="unsigned"`` for unsigned requests."""
    options = {**config_kwargs}
    retries = {**(options.get("retries") or {}), "total_max_attempts": 1}
    retries.pop("max_attempts", None)
    options["retries"] = retries
    options["max_pool_connections"] = max(options.get("max_pool_connections") or 0, concurrency)
    if options.get("signature_version") == "unsigned":  # as Airflow's AWS connection does
        options["signature_version"] = botocore.UNSIGNED
    return AioConfig(**options)


# ---------------------------------------------------------------------- config_kwargs, by type


def _checked(value: Any, source: str) -> dict[str, Any]:
    where = f"config_kwargs {source}".rstrip()
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise HookConfigError(
            f"{where} must be a mapping of botocore Config options, not {type(value).__name__}"
        )
    options = dict(value)
    unknown = sorted(repr(k)[:60] for k in options if not isinstance(k, str) or k not in _KNOWN)
    if unknown:
        raise HookConfigError(
            f"{where} has unknown options: [{', '.join(unknown)}] (botocore's Config takes"
            f" {', '.join(sorted(_KNOWN))})"
        )
    for key, option in options.items():
        rule = _RULES.get(key)
        if option is not None and rule is not None and not rule[0](option):  # None: default
            raise HookConfigError(f"{where}: option {key!r} must be {rule[1]}")
    return options


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and not _CONTROL.search(value) and is_encodable(value)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_bool_text(value: Any) -> bool:
    """botocore's ``ensure_boolean`` options also take ``"true"``/``"false"``."""
    return isinstance(value, bool) or (
        isinstance(value, str) and value.lower() in ("true", "false")
    )


def _is_int(low: int, high: float = math.inf) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    return check


def _is_seconds(value: Any) -> bool:
    return is_finite_number(value) and value > 0


def _is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) for k in value)


def _is_proxies(value: Any) -> bool:
    return _is_mapping(value) and all(_is_str(v) for v in value.values())


def _is_retries(value: Any) -> bool:
    if not _is_mapping(value) or not set(value) <= {"max_attempts", "total_max_attempts", "mode"}:
        return False
    return (
        _is_int(0)(value.get("max_attempts", 0))
        and _is_int(1)(value.get("total_max_attempts", 1))
        and value.get("mode", "standard") in ("legacy", "standard", "adaptive")
    )


def _is_s3(value: Any) -> bool:
    return (
        _is_mapping(value)
        and value.get("addressing_style") in ("virtual", "auto", "path", None)
        and value.get("us_east_1_regional_endpoint", "legacy") in ("regional", "legacy")
    )


def _is_client_cert(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return len(value) == 2 and all(_is_str(part) for part in value)
    return _is_str(value)


def _is_signature_version(value: Any) -> bool:
    return value is botocore.UNSIGNED or _is_str(value)


def _is_endpoint_discovery(value: Any) -> bool:
    return _is_bool_text(value) or (isinstance(value, str) and value.lower() == "auto")


def _is_region(value: Any) -> bool:
    return isinstance(value, str) and bool(_REGION.fullmatch(value))


def _is_class(value: Any) -> bool:
    return isinstance(value, type)


_STR = (_is_str, "a single-line str")
_BOOL = (_is_bool, "a bool")
_MAPPING = (_is_mapping, "a mapping with str keys")

#: Every option of botocore's ``Config`` and aiobotocore's ``AioConfig``, with its check.
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "region_name": (_is_region, "a str region name such as 'us-east-1'"),
    "signature_version": (_is_signature_version, "a str (or botocore.UNSIGNED, or 'unsigned')"),
    "user_agent": _STR,
    "user_agent_extra": _STR,
    "user_agent_appid": _STR,
    "connect_timeout": (_is_seconds, "a finite number of seconds > 0 (int or float)"),
    "read_timeout": (_is_seconds, "a finite number of seconds > 0 (int or float)"),
    "parameter_validation": _BOOL,
    "max_pool_connections": (_is_int(1), "an int >= 1"),
    "proxies": (_is_proxies, "a mapping of str to str (protocol or host to proxy URL)"),
    "proxies_config": _MAPPING,
    "s3": (
        _is_s3,
        "a mapping with str keys (addressing_style 'virtual', 'auto' or 'path';"
        " us_east_1_regional_endpoint 'regional' or 'legacy')",
    ),
    "s3_disable_express_session_auth": (_is_bool_text, "a bool"),
    "retries": (
        _is_retries,
        "a mapping of max_attempts (int >= 0), total_max_attempts (int >= 1) and mode"
        " ('legacy', 'standard' or 'adaptive')",
    ),
    "client_cert": (_is_client_cert, "a str path or a (cert, key) pair of str paths"),
    "inject_host_prefix": _BOOL,
    "endpoint_discovery_enabled": (_is_endpoint_discovery, "a bool or 'auto'"),
    "use_dualstack_endpoint": _BOOL,
    "use_fips_endpoint": _BOOL,
    "ignore_configured_endpoint_urls": _BOOL,
    "defaults_mode": _STR,
    "tcp_keepalive": _BOOL,
    "request_min_compression_size_bytes": (_is_int(1, 1048576), "an int in 1..1048576"),
    "disable_request_compression": (_is_bool_text, "a bool"),
    "client_context_params": _MAPPING,
    "sigv4a_signing_region_set": _STR,
    "request_checksum_calculation": _STR,
    "response_checksum_validation": _STR,
    "account_id_endpoint_mode": _STR,
    "auth_scheme_preference": _STR,
    # aiobotocore's AioConfig
    "connector_args": _MAPPING,
    "http_session_cls": (_is_class, "an HTTP session class"),
    "warm_up_loader_caches": _BOOL,
}
#: The options this botocore and aiobotocore take (a newer botocore's new option is passed on
#: unchecked; one this botocore lacks is unknown).
_KNOWN = frozenset(Config.OPTION_DEFAULTS) | {
    "connector_args",
    "http_session_cls",
    "warm_up_loader_caches",
}


def _region_rule(name: str) -> str:
    return (
        f"{name} must be a region name such as 'us-east-1': 1 to 63 ASCII letters, digits and"
        " '-', not all digits, not starting or ending with '-' (no spaces or line breaks)"
    )
