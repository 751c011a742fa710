"""The ``async-hooks`` command in-process: help, usage errors in flags, exit codes, ``--json``,
every provider against a real local server (moto, the job service, the scripted Google API).

The terminal (a pseudo-terminal), pipes, Ctrl-C and the AWS demo run it as a subprocess:
``test_cli_terminal.py``.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

import pytest

from async_hooks._cli.exitcodes import FAILED, OK, USAGE
from async_hooks.cli import main
from async_hooks.testing.aws_jobs import create_glue_job, start_executions, start_glue_runs

FAST = ["--poll-interval", "0.05"]


def _aws(moto_server) -> list[str]:
    return ["--endpoint-url", moto_server.url, "--region", "us-east-1", *FAST]


def _executions(moto_server, outcomes):
    from async_hooks import AsyncAwsHook

    moto_server.set_config({"stepfunctions": {"execute_state_machine": True}})

    async def start() -> dict[str, str]:
        async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
            return await start_executions(hook, outcomes)

    return asyncio.run(start())


# ---------------------------------------------------------------------------- help


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as caught:
        main([*argv, "--help"])
    assert caught.value.code == OK
    return capsys.readouterr().out


def test_top_level_help_is_plain_text_with_the_exit_codes_and_providers(capsys):
    from async_hooks._providers import PROVIDERS

    out = _help(capsys)
    assert "``" not in out and ":class:" not in out
    assert "0 every job succeeded, 1 some failed or timed out, 2 bad usage" in out
    assert "130 interrupted" in out
    for row in PROVIDERS.values():
        line = next(line for line in out.splitlines() if line.split()[:2] == [row.name, row.hook])
        assert "installed" in line  # tests/test_cli_help.py: which words, when


def test_version(capsys):
    from async_hooks import __version__

    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == OK
    assert capsys.readouterr().out.strip() == f"async-hooks {__version__}"


def test_wait_aws_help_lists_every_kind_with_its_identifier_flags(capsys):
    from async_hooks.aws.kinds import job_kinds

    out = _help(capsys, "wait", "aws")
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    for name, kind in job_kinds().items():
        assert name in rows, f"{name} is not listed"
        for keyword in kind.identifiers:
            flag = "--" + keyword.replace("_", "-")
            assert flag in rows[name].split(), f"{name}'s row lacks {flag}"
            assert flag in out.split("job identifiers", 1)[1]  # an option of its own
    assert "(default: 30)" in out and "(default: 3,600)" in out
    assert "AWS_ENDPOINT_URL" in out and "--endpoint-url" in out


def test_wait_gcp_help_lists_every_kind_with_its_identifier_flags(capsys):
    from async_hooks.gcp.kinds import job_kinds

    out = _help(capsys, "wait", "gcp")
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    for name, kind in job_kinds().items():
        assert name in rows, f"{name} is not listed"
        for keyword in kind.identifiers:
            flag = "--" + keyword.replace("_", "-")
            shown = flag if keyword in kind.required else f"[{flag}]"
            assert shown in rows[name].split()


def test_every_option_has_help_text():
    import argparse

    from async_hooks._cli.catalog import kinds_of
    from async_hooks._cli.parser import build_parser

    parser = build_parser(kinds_of, "0")
    pending = [parser]
    seen = 0
    while pending:
        current = pending.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
            elif not isinstance(action, argparse._HelpAction):
                assert action.help, f"{current.prog} {action.option_strings or action.dest}"
                seen += 1
    assert seen > 40  # demo, wait aws, gcp and http, with their identifier flags


# ---------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["wait", "aws", "glue", "jr_1"], "glue needs --job-name"),
        (["wait", "aws", "ecs", "t1", "--cluster", "c", "--job-name", "j"], "--job-name does not"),
        (["wait", "aws", "no-such-kind", "x"], "unknown AWS job kind 'no-such-kind'; known:"),
        (["wait", "aws", "batch", "j", "--timeout", "0"], "--timeout must be > 0"),
        (["wait", "aws", "batch", "j", "--poll-interval", "-1"], "--poll-interval must be > 0"),
        (["wait", "gcp", "dataproc", "j-1", "--project", "p"], "dataproc needs --location"),
        (["wait", "http", "/jobs/1"], "wait http needs --base-url"),
        (["wait", "http", "/j", "--base-url", "http://x", "--header", "no-colon"], "NAME:VALUE"),
        (["demo", "--jobs", "0"], "--jobs must be >= 1"),
        (["demo", "--poll-interval", "-1"], "--poll-interval must be > 0"),
    ],
)
def test_usage_errors_name_the_flag_and_exit_2(argv, message, capsys):
    assert main(argv) == USAGE
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not re.search(r"\b[a-z_]+=(\s|$)", err)  # flags, never keyword arguments


def test_a_missing_region_names_the_flag_not_the_keyword(moto_server, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    argv = ["wait", "aws", "batch", "job-1", "--endpoint-url", moto_server.url, *FAST]
    assert main(argv) == USAGE
    err = capsys.readouterr().err
    assert "pass --region or set AWS_DEFAULT_REGION" in err
    assert "region_name" not in err


@pytest.mark.parametrize("argv", [[], ["wait"], ["wait", "aws"], ["demo", "--kind", "nope"]])
def test_bad_syntax_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == USAGE


def test_wait_without_the_aws_extra_names_the_pip_install():
    """botocore refused by a meta-path finder, as on a machine without the extra: the
    registry's message, as a usage error (exit 2), not a traceback."""
    from _without_sdk import EXTRA_SDKS, run_without

    code = (
        "from async_hooks.cli import main\nraise SystemExit(main(['wait', 'aws', 'glue', 'j']))\n"
    )
    out = run_without(EXTRA_SDKS["aws"], code)
    assert out.returncode == USAGE, out.stderr
    assert "the aws provider needs the 'aws' extra: pip install 'async-hooks[aws]'" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_package_import_does_not_load_rich_and_the_cli_does():
    code = (
        "import sys, async_hooks\n"
        "assert 'rich' not in sys.modules, 'import async_hooks loaded rich'\n"
        "from async_hooks._cli import display\n"
        "display.LiveDisplay\n"
        "import io, async_hooks._cli.display as d\n"
        "t = d.Tracker('x', ['a'], lambda: 0, 1.0)\n"
        "class Tty(io.StringIO):\n"
        "    def isatty(self): return True\n"
        "d.make_display(t, Tty())\n"
        "assert 'rich' in sys.modules\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


# ---------------------------------------------------------------------------- AWS


def test_wait_aws_exit_codes_and_reasons(moto_server, capsys):
    runs = _executions(moto_server, {"ok": None, "bad": ("E", "why")})
    assert main(["wait", "aws", "stepfunctions", runs["ok"], *_aws(moto_server)]) == OK
    out = capsys.readouterr().out
    assert f"{runs['ok']}: SUCCEEDED after" in out
    assert "1 succeeded, 0 failed, 0 timed out, 0 errors" in out
    assert main(["wait", "aws", "stepfunctions", runs["ok"], runs["bad"], *_aws(moto_server)]) == 1
    out = capsys.readouterr().out
    assert f"{runs['bad']}: FAILED (FAILED): E: why" in out


def test_wait_aws_json_is_one_object_per_job(moto_server, capsys):
    runs = _executions(moto_server, {"ok": None, "bad": ("E", "why")})
    argv = ["wait", "aws", "stepfunctions", runs["ok"], runs["bad"], "--json", *_aws(moto_server)]
    assert main(argv) == FAILED
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["job_id"] for line in lines] == [runs["ok"], runs["bad"]]
    ok, bad = lines
    assert ok["outcome"] == "succeeded" and ok["succeeded"] is True and ok["status"] == "SUCCEEDED"
    assert ok["polls"] >= 1 and isinstance(ok["response"]["startDate"], str)  # ISO 8601
    assert bad["outcome"] == "failed" and bad["reason"] == "E: why" and bad["succeeded"] is False
    assert "-> SUCCEEDED" in captured.err  # the progress went to stderr (a pipe here)


def test_wait_aws_glue_with_progress_lines_and_the_endpoint_from_the_environment(
    moto_server, monkeypatch, capsys
):
    """``AWS_ENDPOINT_URL`` instead of ``--endpoint-url``; piped, each status change a line."""
    from async_hooks import AsyncAwsHook

    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 1})

    async def start() -> list[str]:
        async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
            name = await create_glue_job(hook, "etl", 2)
            return await start_glue_runs(hook, name, 2)

    runs = asyncio.run(start())
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    assert main(["wait", "aws", "glue", *runs, "--job-name", "etl", *FAST]) == OK
    out = capsys.readouterr().out
    for run in runs:
        assert f"glue {run}: new -> " in out
        assert "-> SUCCEEDED" in out.split(f"glue {run}: new -> ", 1)[1]
        assert f"{run}: SUCCEEDED after" in out


def test_wait_aws_timeout_is_exit_1(moto_server, capsys):
    from async_hooks import AsyncAwsHook

    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 10_000})

    async def start() -> list[str]:
        async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
            return await start_glue_runs(hook, await create_glue_job(hook, "slow", 1), 1)

    (run,) = asyncio.run(start())
    argv = ["wait", "aws", "glue", run, "--job-name", "slow", "--timeout", "0.3", "-q"]
    assert main([*argv, *_aws(moto_server)]) == FAILED
    out = capsys.readouterr().out
    assert out.startswith(f"{run}: TIMED OUT, last status ")


def test_wait_aws_kinds_registered_by_an_imported_module(moto_server, tmp_path):
    plugin = tmp_path / "my_kinds.py"
    plugin.write_text(
        "from async_hooks.aws.kinds import JobKind, register_job_kind\n"
        "register_job_kind(JobKind(name='my-sfn', service='stepfunctions',\n"
        "    describe='describe_execution', id_param='executionArn', item_path='',\n"
        "    status_path='status', success=frozenset({'SUCCEEDED'}),\n"
        "    failure=frozenset({'FAILED'}), identifiers={'tenant': 'tenant'}))\n"
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    run = [sys.executable, "-m", "async_hooks", "wait", "aws"]
    listed = subprocess.run([*run, "--import", "my_kinds", "--help"], capture_output=True,
                            text=True, env=env, timeout=120)  # fmt: skip
    assert listed.returncode == OK, listed.stderr
    assert any(line.split()[:2] == ["my-sfn", "--tenant"] for line in listed.stdout.splitlines())
    missing = subprocess.run([*run, "my-sfn", "x", "--import", "my_kinds"], capture_output=True,
                             text=True, env=env, timeout=120)  # fmt: skip
    assert missing.returncode == USAGE and "my-sfn needs --tenant" in missing.stderr
    broken = subprocess.run([*run, "x", "y", "--import", "no_such_mod"], capture_output=True,
                            text=True, env=env, timeout=120)  # fmt: skip
    assert broken.returncode == USAGE and "--import no_such_mod: cannot import it" in broken.stderr


# ---------------------------------------------------------------------------- HTTP and GCP


def test_wait_http_exit_codes_json_and_timeout(job_server, capsys):
    server = job_server()
    good = server.create(polls=1)
    bad = server.create(polls=1, outcome="FAILED", reason="disk full")
    never = server.create(polls=1_000_000)
    base = ["wait", "http", "--base-url", server.url, *FAST]
    assert main([*base, f"/jobs/{good}"]) == OK
    assert f"/jobs/{good}: SUCCEEDED after 3 polls" in capsys.readouterr().out
    assert main([*base, f"/jobs/{good}", f"/jobs/{bad}", "--json"]) == FAILED
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(o["outcome"], o["reason"]) for o in lines] == [
        ("succeeded", None),
        ("failed", "disk full"),
    ]
    assert main([*base, f"/jobs/{never}", "--timeout", "0.3", "-q"]) == FAILED
    assert "TIMED OUT, last status RUNNING" in capsys.readouterr().out


def test_verbose_logs_the_library_to_stderr_and_quiet_prints_only_failures(job_server, capsys):
    server = job_server()
    good, bad = server.create(polls=1), server.create(polls=1, outcome="FAILED", reason="no")
    base = ["wait", "http", "--base-url", server.url, *FAST]
    assert main([*base, f"/jobs/{good}", "-v"]) == OK
    assert f"INFO async_hooks: http job /jobs/{good}:" in capsys.readouterr().err
    assert main([*base, f"/jobs/{good}", f"/jobs/{bad}", "-q"]) == FAILED
    assert capsys.readouterr() == (f"/jobs/{bad}: FAILED (FAILED): no\n", "")


def test_wait_http_job_not_found_is_an_error_line_exit_1(job_server, capsys):
    server = job_server()
    assert main(["wait", "http", "/jobs/nope", "--base-url", server.url, *FAST]) == FAILED
    out = capsys.readouterr().out
    assert (
        out.startswith("/jobs/nope: ERROR: ")
        and "0 succeeded, 0 failed, 0 timed out, 1 errors" in out
    )


def test_wait_gcp_dataproc_through_api_root(fake_google_api, tmp_path, capsys):
    from async_hooks.testing.gcp import make_service_account

    url, api = fake_google_api
    key = tmp_path / "key.json"
    key.write_text(json.dumps(make_service_account(f"{url}/token")))
    path = "/v1/projects/test-project/regions/us-central1/jobs/j-1"
    api.resources[path] = [{"status": {"state": "RUNNING"}}, {"status": {"state": "DONE"}}]
    failing = "/v1/projects/test-project/regions/us-central1/jobs/j-2"
    api.resources[failing] = [{"status": {"state": "ERROR", "details": "bad jar"}}]
    argv = ["wait", "gcp", "dataproc", "--location", "us-central1", "--service-file", str(key),
            "--api-root", url, *FAST]  # fmt: skip
    assert main([*argv, "j-1"]) == OK
    assert "j-1: DONE after 2 polls" in capsys.readouterr().out
    assert main([*argv, "j-1", "j-2"]) == FAILED
    assert "j-2: FAILED (ERROR): bad jar" in capsys.readouterr().out


# ---------------------------------------------------------------------------- the HTTP demo


def test_http_demo_waits_on_jobs_and_reports(capsys):
    args = ["demo", "--kind", "http", "--jobs", "40", "--polls", "1", "--poll-interval", "0.01"]
    assert main(args) == OK
    out = capsys.readouterr().out
    assert "starting a local job service ..." in out
    assert "http: FAILED 2 · SUCCEEDED 38 | elapsed" in out  # the last progress line
    assert "38 succeeded, 2 failed" in out
    assert "clients created 1" in out
    assert "sync facade from a plain thread" in out
