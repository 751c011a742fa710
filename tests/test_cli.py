"""The main job: ``async-hooks demo`` end to end, small."""

from __future__ import annotations

import pytest

from async_hooks.cli import main


def test_demo_waits_on_jobs_and_reports(capsys):
    args = ["demo", "--kind", "http", "--jobs", "40", "--polls", "1", "--poll-interval", "0.01"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "38 succeeded, 2 failed" in out
    assert "clients created 1" in out
    assert "sync facade from a plain thread" in out


@pytest.mark.parametrize("args", [["demo", "--jobs", "0"], ["demo", "--poll-interval", "-1"], []])
def test_bad_arguments_exit_with_usage(args, capsys):
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2


def test_aws_demo_runs_against_embedded_moto_with_its_baseline():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "async_hooks", "demo", "--jobs", "30", "--poll-interval", "0.05"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "async_hooks: one loop, shared polls" in out.stdout
    assert "boto3: a thread per job" in out.stdout
    assert "30/0" in out.stdout


def test_wait_aws_exit_codes(moto_server, capsys):
    import asyncio

    from async_hooks import AsyncAwsHook
    from async_hooks.testing.aws_jobs import start_executions

    moto_server.set_config({"stepfunctions": {"execute_state_machine": True}})

    async def start() -> tuple[str, str]:
        async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
            runs = await start_executions(hook, {"ok": None, "bad": ("E", "why")})
        return runs["ok"], runs["bad"]

    good, bad = asyncio.run(start())
    common = ["--endpoint-url", moto_server.url, "--region", "us-east-1", "--poll-interval", "0.05"]
    assert main(["wait", "aws", "stepfunctions", good, *common]) == 0
    assert "SUCCEEDED" in capsys.readouterr().out
    assert main(["wait", "aws", "stepfunctions", good, bad, *common]) == 1
    assert "FAILED (FAILED): E: why" in capsys.readouterr().out
    with pytest.raises(SystemExit) as caught:
        main(["wait", "aws", "no-such-kind", "x", *common])
    assert caught.value.code == 2
    assert "unknown AWS job kind" in capsys.readouterr().err


def test_help_lists_every_provider_of_the_registry_with_its_install(capsys):
    from async_hooks._providers import PROVIDERS

    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for row in PROVIDERS.values():
        line = next(line for line in out.splitlines() if line.split()[:2] == [row.name, row.hook])
        assert (row.install or "installed with async-hooks") in line


def test_wait_without_the_aws_extra_names_the_pip_install():
    """botocore refused by a meta-path finder, as on a machine without the extra: the
    registry's message, as a usage error (exit 2), not a traceback."""
    from _without_sdk import EXTRA_SDKS, run_without

    code = "from async_hooks.cli import main\nmain(['wait', 'aws', 'glue', 'jr_1'])\n"
    out = run_without(EXTRA_SDKS["aws"], code)
    assert out.returncode == 2, out.stderr
    assert "the aws provider needs the 'aws' extra: pip install 'async-hooks[aws]'" in out.stderr
    assert "Traceback" not in out.stderr
