"""The public surface: complete ``__all__``s, the contract's names, lazy providers."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import async_hooks

CONTRACT = {
    "AsyncAwsHook",
    "AsyncGcpHook",
    "AsyncBaseHook",
    "AsyncHttpHook",
    "AsyncExecutor",
    "Connection",
    "HookClosedError",
    "HookConfigError",
    "HookError",
    "HttpError",
    "JobError",
    "JobFailedError",
    "JobResult",
    "JobTimeoutError",
    "NotFoundError",
    "PermissionDeniedError",
    "RetryPolicy",
    "ServiceError",
    "SyncInAsyncError",
    "ThrottledError",
    "TransientError",
    "delay",
    "run_sync",
}


def _public_modules() -> list[str]:
    names = ["async_hooks"]
    for info in pkgutil.walk_packages(async_hooks.__path__, "async_hooks."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def test_contract_names_are_importable_from_the_package():
    missing = {name for name in CONTRACT if not hasattr(async_hooks, name)}
    assert not missing
    assert set(async_hooks.__all__) >= CONTRACT


def test_package_all_is_sorted_and_resolvable():
    assert async_hooks.__all__ == sorted(async_hooks.__all__)
    for name in async_hooks.__all__:
        assert getattr(async_hooks, name) is not None


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_public_module_all_is_complete(module_name):
    if module_name == "async_hooks.testing.plugin":
        pytest.importorskip("pytest")
    if module_name.startswith("async_hooks.airflow"):
        pytest.importorskip("airflow", reason="checked by the airflow session (nox -s airflow)")
    module = importlib.import_module(module_name)
    exported = set(getattr(module, "__all__", ()))
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == module_name
        and (isinstance(value, type) or callable(value))
    }
    assert defined <= exported, (
        f"{module_name} defines public names not in __all__: {defined - exported}"
    )


def test_importing_the_package_loads_no_cloud_sdk_nor_airflow():
    code = (
        "import sys, async_hooks\n"
        "sdks = ('botocore', 'aiobotocore', 'boto3', 'gcloud', 'moto', 'airflow')\n"
        "bad = [m for m in sdks if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        async_hooks.NoSuchThing  # noqa: B018


def test_package_is_typed():
    from pathlib import Path

    assert (Path(async_hooks.__file__).parent / "py.typed").exists()
