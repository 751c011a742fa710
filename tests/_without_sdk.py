"""Run Python code in a fresh interpreter where some packages cannot be imported, as on a
machine without an extra: a meta-path finder refuses them. Nothing is uninstalled, so the test
session's own environment stays whole."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable

#: The SDKs each provider's extra installs (top-level package names). A registry row with an
#: extra and no entry here fails ``test_public_api``: a new provider adds its SDK here.
EXTRA_SDKS: dict[str, tuple[str, ...]] = {
    "aws": ("aiobotocore", "botocore", "boto3"),
    "gcp": ("gcloud",),
}

_BLOCKER = """
import sys

class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Refuse())
"""


def run_without(packages: Iterable[str], code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``python -c`` where ``packages`` (top-level names) cannot be imported;
    its output, never raising for the exit code."""
    blocker = _BLOCKER.format(blocked=set(packages))
    return subprocess.run(
        [sys.executable, "-c", blocker + code], capture_output=True, text=True, timeout=120
    )
