"""``async-hooks --help`` lists each provider as installed or not, from the installed
packages' metadata (nothing imported): the install command only for an extra that is missing."""

from __future__ import annotations

import importlib.metadata

import pytest

from async_hooks._cli import parser
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


def test_a_missing_extra_names_its_install_command(capsys, monkeypatch):
    """aiobotocore's metadata hidden, as on a machine without the 'aws' extra."""
    real = importlib.metadata.distribution

    def distribution(name: str) -> importlib.metadata.Distribution:
        if name == "aiobotocore":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(parser.importlib.metadata, "distribution", distribution)
    shown = _providers(capsys)
    assert shown["aws"] == "not installed: pip install 'async-hooks[aws]'"
    assert shown["http"] == "installed with async-hooks"


def test_without_installed_metadata_nothing_is_claimed(capsys, monkeypatch):
    def requires(name: str) -> list[str]:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(parser.importlib.metadata, "requires", requires)
    shown = _providers(capsys)
    assert shown["aws"].startswith("not installed: pip install")
