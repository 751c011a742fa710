"""The provider registry: the one table of which hooks exist, where they live, which extra they
need and how their waits are named. ``async_hooks.__getattr__`` (lazy loading), the Airflow
adapter, the CLI and the tests all read it; a new provider is one row here.

Importing this module imports no provider: a row names its module, loaded on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from async_hooks.errors import HookConfigError

__all__ = ["PROVIDERS", "Provider", "WaitMethod", "export_of", "provider"]


@dataclass(frozen=True, slots=True)
class WaitMethod:
    """A hook's wait besides ``wait_for_job``: the kind its events are named by, its positional
    parameters in order, and how they name its target (``"s3://{bucket}/{key}"``).
    ``cancel`` names the hook method that stops what it waits on (``None``: nothing to stop)."""

    kind: str
    params: tuple[str, ...]
    target: str
    cancel: str | None = None

    def names(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, str | None]:
        values = dict(zip(self.params, args, strict=False))  # fewer args: the rest by keyword
        values.update({key: kwargs[key] for key in self.params if key in kwargs})
        if any(values.get(key) is None for key in self.params):
            return self.kind, None
        return self.kind, self.target.format(**values)


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider's row.

    ``exports`` are the names the package root re-exports (loaded with ``module``). ``extra`` is
    the pip extra its SDK comes with (``None``: always installed). A wait's kind and job id are
    the first two arguments of ``wait_for_job`` (``kind``, ``job_id``), unless ``fixed_kind`` is
    set: then the kind is that name and the job id is the first argument, ``id_param``.
    """

    name: str
    module: str
    hook: str
    exports: tuple[str, ...]
    extra: str | None = None
    fixed_kind: str | None = None
    id_param: str = "job_id"
    #: ``wait_for_job``'s cancel method (``None``: the provider cannot stop a job).
    cancel: str | None = None
    #: The provider's other waits, by method name.
    waits: tuple[tuple[str, WaitMethod], ...] = ()

    def wait_method(self, method: str) -> WaitMethod | None:
        """The row of wait ``method`` (``None`` for ``wait_for_job``); ``HookConfigError`` names
        the waits this provider has."""
        if method == "wait_for_job":
            return None
        for name, row in self.waits:
            if name == method:
                return row
        known = ", ".join(["wait_for_job", *(name for name, _ in self.waits)])
        raise HookConfigError(f"the {self.name} hook has no wait {method!r}; it has {known}")

    @property
    def install(self) -> str | None:
        """The command that installs this provider's SDK (``None``: it is always installed)."""
        return None if self.extra is None else f"pip install 'async-hooks[{self.extra}]'"

    def load(self) -> Any:
        """The provider's module, imported now; ``ImportError`` names the extra to install."""
        try:
            return importlib.import_module(self.module)
        except ModuleNotFoundError as error:
            if self.extra is None or (error.name or "").startswith("async_hooks"):
                raise  # not a missing SDK: a bug of ours, shown as it is
            raise ImportError(
                f"the {self.name} provider needs the '{self.extra}' extra:"
                f" {self.install} ({error.name} is missing)",
                name=error.name,
            ) from error

    def hook_class(self) -> type[Any]:
        cls: type[Any] = getattr(self.load(), self.hook)
        return cls

    def job_names(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], method: str = "wait_for_job"
    ) -> tuple[str | None, str | None]:
        """A wait's kind and job id from its arguments, for events and logs."""
        other = self.wait_method(method)
        if other is not None:
            return other.names(args, kwargs)
        if self.fixed_kind is not None:
            target = args[0] if args else kwargs.get(self.id_param)
            return self.fixed_kind, None if target is None else str(target)
        kind = args[0] if args else kwargs.get("kind")
        job_id = args[1] if len(args) > 1 else kwargs.get(self.id_param)
        return (None if kind is None else str(kind)), (None if job_id is None else str(job_id))


PROVIDERS: Mapping[str, Provider] = {
    row.name: row
    for row in (
        Provider(
            name="http",
            module="async_hooks.http",
            hook="AsyncHttpHook",
            exports=("AsyncHttpHook", "HttpError", "HttpResponse"),
            fixed_kind="http",
            id_param="path",
        ),
        Provider(
            name="aws", module="async_hooks.aws", hook="AsyncAwsHook",
            exports=("AsyncAwsHook",), extra="aws", cancel="cancel_job",
            waits=(("wait_for_s3_key", WaitMethod("s3-key", ("bucket", "key"), "s3://{bucket}/{key}")),),
        ),
        Provider(
            name="gcp", module="async_hooks.gcp", hook="AsyncGcpHook",
            exports=("AsyncGcpHook",), extra="gcp", cancel="cancel_job",
            waits=(
                ("wait_for_operation", WaitMethod(
                    "operation", ("name_or_url",), "{name_or_url}", cancel="cancel_operation",
                )),
                ("wait_for_object", WaitMethod("gcs-object", ("bucket", "name"), "gs://{bucket}/{name}")),
            ),
        ),
    )
}  # fmt: skip


def provider(name: str) -> Provider:
    """The row of provider ``name``; ``HookConfigError`` lists the known ones."""
    row = PROVIDERS.get(name) if isinstance(name, str) else None
    if row is None:
        raise HookConfigError(f"unknown provider {name!r}; known: {', '.join(PROVIDERS)}")
    return row


def export_of(name: str) -> Provider | None:
    """The provider whose module defines the package-root name ``name``."""
    return next((row for row in PROVIDERS.values() if name in row.exports), None)
