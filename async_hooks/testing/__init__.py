"""Real servers for tests: a threaded aiohttp server, a fault-injecting proxy, a job service,
moto, a GCS emulator and a scripted Google API.

The pytest plugin (``async_hooks.testing.plugin``, registered as a ``pytest11`` entry point)
turns them into fixtures: ``threaded_server``, ``fault_proxy``, ``job_server``, ``moto_server``,
``gcs_emulator``, ``fake_google_api``. ``pip install 'async-hooks[testing]'`` installs what they
need. The names below are the fixtures' types, for annotations and for use without pytest; each
loads its module (aiohttp, moto, ...) when first used, so importing this package costs little.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from async_hooks.testing._server import ThreadedServer
    from async_hooks.testing.aws_endpoint import AwsEndpoint
    from async_hooks.testing.deployment import AirflowDeployment
    from async_hooks.testing.fault_proxy import FaultPlan, FaultProxy, fault_proxy_app
    from async_hooks.testing.gcp import (
        FakeGoogleApi,
        GcsEmulator,
        fake_google_api_app,
        make_service_account,
    )
    from async_hooks.testing.jobserver import JobBoard, job_server_app, until
    from async_hooks.testing.moto import MotoServer
    from async_hooks.testing.plugin import JobServer

#: Each public name and the module it lives in, imported on first use.
_EXPORTS = {
    "AirflowDeployment": "async_hooks.testing.deployment",
    "AwsEndpoint": "async_hooks.testing.aws_endpoint",
    "FakeGoogleApi": "async_hooks.testing.gcp",
    "FaultPlan": "async_hooks.testing.fault_proxy",
    "FaultProxy": "async_hooks.testing.fault_proxy",
    "GcsEmulator": "async_hooks.testing.gcp",
    "JobBoard": "async_hooks.testing.jobserver",
    "JobServer": "async_hooks.testing.plugin",
    "MotoServer": "async_hooks.testing.moto",
    "ThreadedServer": "async_hooks.testing._server",
    "fake_google_api_app": "async_hooks.testing.gcp",
    "fault_proxy_app": "async_hooks.testing.fault_proxy",
    "job_server_app": "async_hooks.testing.jobserver",
    "make_service_account": "async_hooks.testing.gcp",
    "until": "async_hooks.testing.jobserver",
}

__all__ = [
    "AirflowDeployment",
    "AwsEndpoint",
    "FakeGoogleApi",
    "FaultPlan",
    "FaultProxy",
    "GcsEmulator",
    "JobBoard",
    "JobServer",
    "MotoServer",
    "ThreadedServer",
    "fake_google_api_app",
    "fault_proxy_app",
    "job_server_app",
    "make_service_account",
    "until",
]


def __getattr__(name: str) -> Any:
    """Import a name's module when the name is first used."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'async_hooks.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
