"""The installed Airflow's version, and the releases whose triggerer dies when a trigger awaits a
thread (apache/airflow #67380, #64620; fixed in 3.2.2 by #66412)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from async_hooks.airflow._versions import _parsed, airflow_version, thread_wakeups_unsafe


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.2.1", (3, 2, 1)),
        ("3.2.2rc1", (3, 2, 2)),
        ("3.3.0.dev0", (3, 3, 0)),
        ("3.1", (3, 1, 0)),
        ("3.3.2+astro.1", (3, 3, 2)),
        ("", (0, 0, 0)),
    ],
)
def test_a_version_reads_as_its_release(text, expected):
    assert _parsed(text) == expected


@pytest.mark.parametrize(
    ("version", "unsafe"),
    [
        ((3, 0, 6), False),  # no greenback portal around triggers yet
        ((3, 1, 0), True),
        ((3, 1, 8), True),
        ((3, 2, 0), True),
        ((3, 2, 1), True),
        ((3, 2, 2), False),  # #66412: one reader, a future per request
        ((3, 3, 2), False),
        ((4, 0, 0), False),
    ],
)
def test_thread_wakeups_are_unsafe_from_3_1_0_until_3_2_2(version, unsafe):
    assert thread_wakeups_unsafe(version) is unsafe


def test_the_installed_version_is_airflows_own_without_importing_it():
    import airflow

    from async_hooks.airflow import _versions

    assert airflow_version() == _parsed(airflow.__version__)
    # The module alone (its package imports Airflow): package metadata, no ``import airflow``.
    script = (
        "import importlib.util as u, sys; "
        f"s = u.spec_from_file_location('versions', {_versions.__file__!r}); "
        "m = u.module_from_spec(s); s.loader.exec_module(m); "
        "assert m.airflow_version() > (3, 0, 0), m.airflow_version(); "
        "assert 'airflow' not in sys.modules, 'imported Airflow'"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
