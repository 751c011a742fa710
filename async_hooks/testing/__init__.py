"""Real servers for tests: a threaded aiohttp server, a fault-injecting proxy, a job service.

The pytest plugin (``async_hooks.testing.plugin``, registered as a ``pytest11`` entry point)
turns them into fixtures: ``threaded_server``, ``fault_proxy``, ``job_server``.
"""

from async_hooks.testing._server import ThreadedServer
from async_hooks.testing.fault_proxy import FaultPlan, FaultProxy, fault_proxy_app
from async_hooks.testing.jobserver import JobBoard, job_server_app

__all__ = [
    "FaultPlan",
    "FaultProxy",
    "JobBoard",
    "ThreadedServer",
    "fault_proxy_app",
    "job_server_app",
]
