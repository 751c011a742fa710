"""The command's messages that must help: a configuration error alone (no live frame drawn above
it: exit 2 means nothing was waited on), a subcommand's own usage for its bad flag, and a
"did you mean" for a misspelt kind."""

from __future__ import annotations

import io
import sys

import pytest
from test_cli_terminal import _run_in_pty as run_in_pty

from async_hooks._cli.exitcodes import USAGE, UsageError
from async_hooks._cli.waits import Output, run_waits
from async_hooks._result import JobResult
from async_hooks.cli import main
from async_hooks.errors import HookConfigError, HookError

CLI = [sys.executable, "-m", "async_hooks.cli"]


class Terminal(io.StringIO):
    """A stream that says it is a terminal: the command draws its live display into it."""

    def isatty(self) -> bool:
        return True


class FakeHook:
    """What ``run_waits`` needs of a hook: ``async with`` and its call count."""

    async def __aenter__(self) -> FakeHook:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def stats(self) -> dict[str, int]:
        return {"calls": 0, "retries": 0, "throttled": 0}


def result(job_id: str, status: str) -> JobResult:
    return JobResult("glue", job_id, status, status == "SUCCEEDED", {}, polls=1, elapsed=0.0)


async def test_a_configuration_error_is_the_only_output_on_a_terminal():
    async def wait(job_id, on_status):
        raise HookConfigError("glue.get_job_runs: no region: pass region_name=")

    screen = Terminal()
    with pytest.raises(UsageError, match="no region"):
        await run_waits(FakeHook(), "glue", ["jr_1", "jr_2"], wait, 30.0, Output(out=screen))
    assert screen.getvalue() == ""  # no frame, not even an erased one


async def test_the_display_opens_once_a_job_has_a_status():
    async def wait(job_id, on_status):
        on_status(result(job_id, "RUNNING"))
        return result(job_id, "SUCCEEDED")

    screen = Terminal()
    code = await run_waits(FakeHook(), "glue", ["jr_1"], wait, 30.0, Output(out=screen))
    assert code == 0
    assert "1 jobs" in screen.getvalue()  # the live frame
    assert "jr_1: SUCCEEDED" in screen.getvalue()  # then the result line


async def test_a_status_seen_before_the_display_opened_is_shown_in_plain_lines():
    """Off a terminal a status change is a line: the first ones (which open the display)
    are not lost."""

    async def wait(job_id, on_status):
        on_status(result(job_id, "RUNNING"))
        raise HookError("access denied")

    lines = io.StringIO()
    code = await run_waits(FakeHook(), "glue", ["jr_1"], wait, 30.0, Output(out=lines))
    assert code == 1
    assert "glue jr_1: new -> RUNNING" in lines.getvalue()


def test_no_region_on_a_real_terminal_is_one_line_and_exit_2(tmp_path, monkeypatch):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-key")
    argv = [*CLI, "wait", "aws", "glue", "jr_1", "--job-name", "etl",
            "--endpoint-url", "http://127.0.0.1:1"]  # fmt: skip
    code, out = run_in_pty(argv)
    assert code == USAGE, out
    assert out.strip() == (
        "async-hooks wait aws: error: glue.get_job_runs: no region: pass --region or set"
        " AWS_DEFAULT_REGION (see: async-hooks wait aws --help)"
    ), out


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["wait", "aws", "glue", "jr_1", "--bogus"], "usage: async-hooks wait aws "),
        (["wait", "gcp", "bigquery", "j", "--bogus"], "usage: async-hooks wait gcp "),
        (["wait", "http", "/j", "--bogus"], "usage: async-hooks wait http "),
        (["demo", "--bogus"], "usage: async-hooks demo "),
        (["wait", "--bogus"], "usage: async-hooks wait "),
        (["--bogus"], "usage: async-hooks "),
    ],
)
def test_a_bad_flag_prints_its_subcommands_usage(argv, usage, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == USAGE
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    prog = usage.removeprefix("usage: ").strip()
    assert f"{prog}: error: unrecognized arguments: --bogus" in err


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["wait", "aws", "gleu", "jr_1"], "kind 'gleu' (did you mean 'glue'?)"),
        (["wait", "aws", "stepfunction", "arn"], "(did you mean 'stepfunctions'?)"),
        (["wait", "gcp", "bigqeury", "j", "--project", "p"], "(did you mean 'bigquery'?)"),
    ],
)
def test_a_misspelt_kind_gets_a_did_you_mean(argv, hint, capsys):
    assert main(argv) == USAGE
    err = capsys.readouterr().err
    assert hint in err
    assert "; known: " in err


def test_a_kind_like_no_other_gets_the_list_alone(capsys):
    assert main(["wait", "aws", "zzzz", "x"]) == USAGE
    err = capsys.readouterr().err
    assert "unknown AWS job kind 'zzzz'; known: athena," in err
