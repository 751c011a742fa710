"""``async-hooks --help`` lists each provider as installed or not, from the installed
packages' metadata (nothing imported): the install command only for an extra that is missing."""

from __future__ import annotations

import importlib.metadata

import pytest

from async_hooks._cli import extras
from async_hooks.cli import main


def _providers(capsys) -> dict[str, str]:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    rows = out.split("providers:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return {row.split()[0]: row.split(None, 2)[2] for row in rows}


def test_installed_extras_say_so(capsys):
    pytest.importorskip("aiobotocore")
    pytest.importorskip("gcloud.aio.storage")
    shown = _providers(capsys)
    assert shown == {
        "http": "installed with async-hooks",
        "aws": "installed (extra 'aws')",
        "gcp": "installed (extra 'gcp')",
    }


class _Installed:
    """async-hooks' installed metadata, as far as ``_install_command`` reads it."""

    def __init__(self, direct_url: str | None, requires: list[str] | None) -> None:
        self.direct_url = direct_url
        self.requires = requires

    def read_text(self, name: str) -> str | None:
        return self.direct_url if name == "direct_url.json" else None


@pytest.mark.parametrize(
    ("direct_url", "command"),
    [
        (None, "pip install 'async-hooks[aws]'"),  # from the package index
        (
            '{"url": "file:///src/async-hooks", "dir_info": {}}',
            "pip install '/src/async-hooks[aws]'",
        ),
        (
            '{"url": "file:///src/async-hooks", "dir_info": {"editable": true}}',
            "pip install -e '/src/async-hooks[aws]'",
        ),
        (
            '{"url": "file:///w/dist/async_hooks-0.1.0-py3-none-any.whl", "archive_info": {}}',
            "pip install '/w/dist/async_hooks-0.1.0-py3-none-any.whl[aws]'",
        ),
        (
            '{"url": "https://example.com/async_hooks.whl", "archive_info": {}}',
            "pip install 'async-hooks[aws]'",
        ),
    ],
    ids=["index", "clone", "editable", "wheel", "remote"],
)
def test_a_missing_extra_names_the_command_that_installs_it_here(
    capsys, monkeypatch, direct_url, command
):
    """aiobotocore's metadata hidden, as on a machine without the 'aws' extra; the command
    installs the extra from where async-hooks itself came from (PEP 610's direct_url.json)."""
    real = importlib.metadata.distribution
    installed = _Installed(direct_url, real("async-hooks").requires)

    def distribution(name: str) -> object:
        if name == "aiobotocore":
            raise importlib.metadata.PackageNotFoundError(name)
        return installed if name == "async-hooks" else real(name)

    monkeypatch.setattr(extras.importlib.metadata, "distribution", distribution)
    shown = _providers(capsys)
    assert shown["aws"] == f"not installed: {command}"
    assert shown["http"] == "installed with async-hooks"


def test_without_installed_metadata_nothing_is_claimed(capsys, monkeypatch):
    def requires(name: str) -> list[str]:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(extras.importlib.metadata, "requires", requires)
    shown = _providers(capsys)
    assert shown["aws"].startswith("not installed: pip install")
