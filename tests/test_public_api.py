"""The public surface: complete ``__all__``s, the contract's names, lazy providers."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from _without_sdk import EXTRA_SDKS, run_without

import async_hooks
from async_hooks import AsyncBaseHook, HookConfigError
from async_hooks._providers import PROVIDERS, Provider, export_of, provider

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


# ---------------------------------------------------------------------- the provider registry

ROWS = list(PROVIDERS.values())


def _row_id(row: Provider) -> str:
    return row.name


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_every_registry_row_module_defines_its_exports_and_hook(row):
    module = row.load()
    assert module.__name__ == row.module
    assert row.hook in row.exports
    for name in row.exports:
        assert name in module.__all__, f"{row.module}.__all__ lacks {name}"
        assert getattr(module, name) is not None
    cls = row.hook_class()
    assert cls.__module__.startswith(row.module + ".")
    assert issubclass(cls, AsyncBaseHook)
    assert cls.provider == row.name  # stats, errors and throttle scopes carry the row's name
    assert provider(row.name) is row
    assert export_of(row.hook) is row


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_the_root_resolves_every_export_lazily_and_alone(row):
    """In a fresh interpreter: the row's module is not imported until one of its names is used,
    the name is the module's own object, and no other provider's module loads with it."""
    others = [other.module for other in ROWS if other.module != row.module]
    code = (
        "import importlib, sys, async_hooks\n"
        f"assert {row.module!r} not in sys.modules\n"
        f"for name in {list(row.exports)!r}:\n"
        f"    module = importlib.import_module({row.module!r})\n"
        "    assert getattr(async_hooks, name) is getattr(module, name)\n"
        "    assert name in dir(async_hooks)\n"
        f"print(','.join(m for m in {others!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_the_root_all_holds_every_registry_export_once():
    exports = [name for row in ROWS for name in row.exports]
    assert len(set(exports)) == len(exports)  # no name in two rows
    assert set(exports) <= set(async_hooks.__all__)
    for name in set(async_hooks.__all__) - set(exports):
        assert export_of(name) is None


@pytest.mark.parametrize("row", [row for row in ROWS if row.extra], ids=_row_id)
def test_a_row_whose_extra_is_missing_names_the_pip_install(row):
    """The SDK blocked by a meta-path finder, as on a machine without the extra: the root's lazy
    name, ``from async_hooks import ...`` and the Airflow adapter's ``hook_class`` all raise an
    ImportError with the command that installs it."""
    assert row.extra in EXTRA_SDKS, f"add the SDKs of the {row.extra!r} extra to EXTRA_SDKS"
    code = (
        "import async_hooks\n"
        "from async_hooks._providers import provider\n"
        "def message(get):\n"
        "    try:\n"
        "        get()\n"
        "    except ImportError as error:\n"
        "        return str(error)\n"
        "    raise SystemExit('imported without its SDK')\n"
        f"print(message(lambda: getattr(async_hooks, {row.hook!r})))\n"
        f"print(message(lambda: exec('from async_hooks import {row.hook}')))\n"
        f"print(message(lambda: provider({row.name!r}).hook_class()))\n"
    )
    out = run_without(EXTRA_SDKS[row.extra], code)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        assert f"the {row.name} provider needs the '{row.extra}' extra" in line
        assert f"pip install 'async-hooks[{row.extra}]'" in line
        assert "is missing" in line


def test_a_missing_module_of_our_own_is_not_blamed_on_an_extra():
    row = Provider("x", "async_hooks.no_such_provider", "H", ("H",), extra="x")
    with pytest.raises(ModuleNotFoundError) as caught:
        row.load()
    assert "pip install" not in str(caught.value)


def test_an_unknown_provider_lists_the_known_ones():
    with pytest.raises(HookConfigError, match="unknown provider 'azure'; known: http, aws, gcp"):
        provider("azure")


# ---------------------------------------------------------------------- module boundaries


def _all_modules() -> list[str]:
    return [
        info.name
        for info in pkgutil.walk_packages(async_hooks.__path__, "async_hooks.")
        if not info.name.endswith("__main__")
    ]


@pytest.mark.parametrize("module_name", _all_modules())
def test_every_module_all_names_only_what_it_has(module_name):
    """Private modules too: an ``__all__`` entry that does not exist breaks ``import *`` and
    misleads a reader; public modules are also checked for completeness above."""
    if module_name.startswith("async_hooks.airflow"):
        pytest.importorskip("airflow", reason="checked by the airflow session (nox -s airflow)")
    module = importlib.import_module(module_name)
    missing = [name for name in getattr(module, "__all__", ()) if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names missing {missing}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_module_imports_another_providers_private_modules():
    """A provider package is reached through its public names; what two providers share lives
    in a shared module (``async_hooks._rest``, ``async_hooks._core``)."""
    root = Path(async_hooks.__file__).parent
    packages = [row.module for row in ROWS]
    crossing = []
    for path in sorted(root.rglob("*.py")):
        here = "async_hooks." + ".".join(path.relative_to(root).with_suffix("").parts)
        for imported in _imports(path):
            for package in packages:
                if not imported.startswith(package + "._") or here.startswith(package + "."):
                    continue
                crossing.append(f"{here} imports {imported}")
    assert not crossing, crossing


@pytest.mark.parametrize("shared", ["_core", "_rest", "_sync", "connections", "errors.py"])
def test_shared_modules_import_no_provider(shared):
    """The core knows no provider: providers build on it, never the other way round."""
    root = Path(async_hooks.__file__).parent
    paths = [root / shared] if shared.endswith(".py") else sorted((root / shared).rglob("*.py"))
    packages = [row.module for row in ROWS]
    bad = sorted(
        f"{path.name} imports {name}"
        for path in paths
        for name in _imports(path)
        for package in packages
        if name == package or name.startswith(package + ".")
    )
    assert not bad, bad
