"""A provider trigger's waiter, judged on answers async_hooks fetched, and its attempts counted
as the provider's ``async_wait`` counts them.

The waiter model is the one the provider's ``AwsGenericHook.get_waiter`` builds (its custom
waiter JSON with ``waiter_config_overrides``, else botocore's), and each answer is judged by
botocore's own ``Waiter`` with ``MaxAttempts`` 1, as ``async_wait`` drives it: the same acceptors,
the same ``WaiterError`` texts. ``Attempts`` then applies ``async_wait``'s rules (a terminal
failure, a non-retriable error code, a retriable one not counted, missing credentials counted,
max attempts) and keeps the exception the provider would raise, with the provider's message.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any

__all__ = ["NO_CREDENTIALS", "SUCCESS", "Attempts", "WaiterSpec", "verdict", "waiter_spec"]

#: The payload key a fetch uses for a call that found no credentials (botocore's
#: ``NoCredentialsError``, which ``async_wait`` counts as an attempt).
NO_CREDENTIALS = "__async_hooks_no_credentials__"
SUCCESS = "success"
_ENDED = "ended"  # every status that ends the wait in failure starts with this

_lock = threading.Lock()


class WaiterSpec:
    """A waiter's name, botocore config and operation (PascalCase), with the service it calls."""

    __slots__ = ("config", "name", "operation", "service")

    def __init__(self, service: str, name: str, config: Any) -> None:
        self.service = service
        self.name = name
        self.config = config
        self.operation: str = config.operation

    def outcome(self, answer: dict[str, Any]) -> tuple[str, Any]:
        """``("success", None)``, ``("waiting", None)`` or ``("error", WaiterError)``."""
        from botocore.exceptions import WaiterError
        from botocore.waiter import Waiter

        waiter = Waiter(self.name, self.config, lambda **_: answer)
        try:
            waiter.wait(WaiterConfig={"MaxAttempts": 1})
        except WaiterError as error:
            return "error", error
        return SUCCESS, None


def waiter_spec(provider_hook: Any, name: str, overrides: dict[str, Any] | None) -> WaiterSpec:
    """The waiter ``provider_hook.get_waiter(name, config_overrides=overrides)`` would build
    (blocking: files are read; call it off the loop). Cached by its inputs."""
    path = provider_hook.waiter_path
    key = json.dumps(overrides, sort_keys=True, default=str)
    return _spec(provider_hook.client_type, str(path) if path else None, name, key)


@functools.lru_cache(maxsize=256)
def _spec(service: str, path: str | None, name: str, overrides: str) -> WaiterSpec:
    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook
    from botocore.waiter import WaiterModel

    if path is not None:
        config: dict[str, Any] = json.loads(Path(path).read_text())
        if name in WaiterModel(config).waiter_names:
            extra = json.loads(overrides)
            if extra is not None:
                config["waiters"][name].update(extra)
            config = AwsGenericHook._apply_parameters_value(config, name, None)
            return WaiterSpec(service, name, WaiterModel(config).get_waiter(name))
    model = _botocore_model(service)  # as ``client.get_waiter``: by its snake_case name
    from botocore import xform_name

    names = {xform_name(known): known for known in model.waiter_names}
    if name not in names:
        raise ValueError(f"Waiter does not exist: {name}")
    return WaiterSpec(service, names[name], model.get_waiter(names[name]))


def _botocore_model(service: str) -> Any:
    """botocore's own waiters for ``service`` (what ``client.get_waiter`` reads)."""
    import botocore.session

    with _lock:  # one session, its loader not built twice by two threads
        return _session(botocore.session).get_waiter_model(service)


@functools.lru_cache(maxsize=1)
def _session(module: Any) -> Any:
    return module.get_session()


def verdict(payload: Any, status: str) -> bool | None:
    """A plan's verdict, from the status ``Attempts.status_of`` gave (the payload was judged
    there): success, an end in failure, or not yet."""
    if status == SUCCESS:
        return True
    return False if status.startswith(_ENDED) else None


class Attempts:
    """One trigger's attempts, counted as ``async_wait`` counts them. ``status_of`` is told
    each poll's answer (once per poll, by the shared schedule's tick) and returns a status:
    ``success``, ``waiting: <the provider's status text>``, ``retrying ...`` or ``ended ...``
    (``error`` then holds the exception the provider would raise)."""

    __slots__ = (
        "all_no_credentials",
        "attempt",
        "error",
        "failure_message",
        "last_no_credentials",
        "max_attempts",
        "spec",
        "status_queries",
    )

    def __init__(
        self, spec: WaiterSpec, max_attempts: int, failure_message: str, status_queries: list[str]
    ) -> None:
        self.spec = spec
        self.max_attempts = max_attempts
        self.failure_message = failure_message
        self.status_queries = status_queries
        self.attempt = 0
        self.all_no_credentials = True
        self.last_no_credentials: str | None = None
        self.error: Exception | None = None

    def status_of(self, answer: Any) -> str:
        if self.error is not None or self.attempt >= self.max_attempts:
            return f"{_ENDED} (already)"
        if isinstance(answer, dict) and NO_CREDENTIALS in answer:
            self.last_no_credentials = str(answer[NO_CREDENTIALS])
            return self._counted(f"no credentials: {self.last_no_credentials}")
        state, error = self.spec.outcome(answer)
        if state == SUCCESS:
            return SUCCESS
        if state == "error":
            self.all_no_credentials = False
            return self._waiter_error(error, answer)
        return self._counted(f"waiting: {self.formatted(answer)}")

    def _waiter_error(self, error: Any, answer: dict[str, Any]) -> str:
        from airflow.providers.amazon.aws.exceptions import WaiterTerminalFailure
        from airflow.providers.amazon.aws.utils.waiter_with_logging import (
            RETRIABLE_ERROR_CODES,
        )
        from airflow.providers.common.compat.sdk import AirflowException

        reason = str(error)
        last = error.last_response
        if "terminal failure" in reason:
            self.error = WaiterTerminalFailure(
                f"{self.failure_message}: {self.formatted(last)}\n{error}", last_response=last
            )
            return f"{_ENDED}: terminal failure"
        failed = last.get("Error")
        if "An error occurred" in reason and isinstance(failed, dict) and "Code" in failed:
            code = failed["Code"]
            if code not in RETRIABLE_ERROR_CODES:
                self.error = AirflowException(f"{self.failure_message}\n{last}\n{error}")
                return f"{_ENDED}: error {code}"
            # not counted, as async_wait does not count it; the attempt makes each one news
            return f"retrying {code} {self.attempt + 1}/{self.max_attempts}"
        return self._counted(f"waiting: {self.formatted(answer)}")

    def _counted(self, status: str) -> str:
        self.attempt += 1
        if self.attempt < self.max_attempts:
            return status
        self.error = self.exhausted()
        return f"{_ENDED}: max attempts after {status}"  # its line is logged too

    def exhausted(self) -> Exception:
        """What ``async_wait`` raises once its attempts are spent."""
        from airflow.providers.amazon.aws.exceptions import (
            WaiterMaxAttemptsError,
            WaiterNoCredentialsError,
        )

        error: Exception
        if self.all_no_credentials and self.last_no_credentials is not None:
            error = WaiterNoCredentialsError(
                "Waiter error: max attempts reached due to missing credentials:"
                f" {self.last_no_credentials}"
            )
        else:
            error = WaiterMaxAttemptsError("Waiter error: max attempts reached")
        return error

    def formatted(self, answer: Any) -> str:
        """The provider's status text for ``answer`` (its ``_LazyStatusFormatter``)."""
        from airflow.providers.amazon.aws.utils.waiter_with_logging import _LazyStatusFormatter

        return str(_LazyStatusFormatter(self.status_queries, answer))
