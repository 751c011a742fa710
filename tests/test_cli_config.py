"""The command's configuration errors and what it says when a wait cannot see its job: missing
or broken Google credentials, a connection's settings named as the connection's, ``--import``
from the current directory, the last poll's error of a timed-out wait, the help's shared calls,
and the small usage cases (an unknown option, ``nan``, ``-v`` in a pipe).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.parse

import pytest

from async_hooks._cli.exitcodes import FAILED, OK, USAGE
from async_hooks._cli.report import classify, json_line, text_line
from async_hooks.cli import main
from async_hooks.errors import JobTimeoutError

FAST = ["--poll-interval", "0.05"]
#: PEM armour around bytes that are no key.
DAMAGED_KEY = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"


def _closed_port() -> int:
    """A local port nothing listens on (bound, then closed: connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------- Google credentials


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "no Google credentials: pass --service-file or set GOOGLE_APPLICATION_CREDENTIALS"),
        (
            {"GOOGLE_APPLICATION_CREDENTIALS": "missing.json"},
            "GOOGLE_APPLICATION_CREDENTIALS names a file that cannot be read: No such file",
        ),
    ],
    ids=["none", "missing-file"],
)
def test_gcp_without_usable_credentials_says_so_and_exits_2(tmp_path, variables, message):
    """No --service-file, no GOOGLE_APPLICATION_CREDENTIALS, no gcloud ADC file (``HOME`` is
    empty): gcloud-aio falls back to the metadata server, whose name (``.invalid``: never
    resolves) does not resolve. A subprocess: gcloud-aio reads ``GCE_METADATA_HOST`` when it
    is imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "GCE_", "CLOUDSDK"))}
    env.update(HOME=str(tmp_path), GCE_METADATA_HOST="metadata.invalid", **variables)
    argv = [sys.executable, "-m", "async_hooks", "wait", "gcp", "dataflow", "j1",
            "--project", "p", "--location", "us-central1", "--timeout", "60"]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert out.returncode == USAGE, out.stderr
    assert message in out.stderr
    assert "oauth2/token" not in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


def _account(tmp_path, **changes):
    from async_hooks.testing.gcp import make_service_account

    account = {**make_service_account(f"http://127.0.0.1:{_closed_port()}/token"), **changes}
    account = {k: v for k, v in account.items() if v is not None}
    key = tmp_path / "key.json"
    key.write_text(json.dumps(account))
    return str(key)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"private_key": DAMAGED_KEY},
            "--service-file: its private_key cannot sign a token (InvalidKeyError)",
        ),
        ({"client_email": None}, "--service-file lacks the field 'client_email'"),
    ],
    ids=["damaged-key", "no-client-email"],
)
def test_a_service_file_that_cannot_sign_is_exit_2_naming_the_flag(tmp_path, capsys, changes,
                                                                   message):  # fmt: skip
    argv = ["wait", "gcp", "dataflow", "j1", "--project", "p", "--location", "us-central1",
            "--service-file", _account(tmp_path, **changes), *FAST]  # fmt: skip
    assert main(argv) == USAGE
    captured = capsys.readouterr()
    assert message in captured.err
    assert "BEGIN PRIVATE KEY" not in captured.err
    assert captured.out == ""  # no "1 errors ... with 1 API calls" for a call never sent


def test_the_token_error_names_the_real_token_endpoint():
    """An unreachable token endpoint is transient, and named by its own URL."""
    import asyncio

    import aiohttp

    from async_hooks._core.redact import Redactor
    from async_hooks.errors import TransientError
    from async_hooks.gcp._errors import map_token_error

    url = f"http://127.0.0.1:{_closed_port()}/token"

    async def refused() -> BaseException:
        async with aiohttp.ClientSession() as session:
            try:
                await session.post(url)
            except aiohttp.ClientError as error:
                return error
        raise AssertionError("the closed port answered")

    mapped = map_token_error(asyncio.run(refused()), redact=Redactor([]))
    assert isinstance(mapped, TransientError)
    assert str(mapped).startswith(f"POST {url.removesuffix('/token')}")
    assert "oauth2/token" not in str(mapped)


# ---------------------------------------------------------------------------- connections


@pytest.mark.parametrize(
    ("uri", "flags", "expected", "absent"),
    [
        (
            "aws://@/?endpoint_url=notaurl",
            [],
            "connection 'x': endpoint_url has no scheme",
            "--endpoint",
        ),
        ("aws://@/?region_name=bad%20region", [], "connection 'x': region_name must be", "--reg"),
        (
            "aws://@/?endpoint_url=http%3A%2F%2Fu%3Ap%40h",
            [],
            "connection 'x': endpoint_url: put credentials in the connection's login and password",
            "hook's settings",
        ),
        (
            "aws://@/?region_name=eu-west-1",
            ["--endpoint-url", "http://u:p@h"],
            "--endpoint-url: put credentials in --profile, --conn-id or the AWS_* variables",
            "connection 'x'",
        ),
    ],
    ids=["endpoint", "region", "credentials-in-connection", "credentials-in-flag"],
)
def test_a_connections_setting_is_named_as_the_connections(
    moto_server, monkeypatch, capsys, uri, flags, expected, absent
):
    monkeypatch.setenv("ASYNC_HOOKS_CONN_X", uri)
    assert main(["wait", "aws", "batch", "j1", "--conn-id", "x", *flags, *FAST]) == USAGE
    err = capsys.readouterr().err
    assert expected in err
    assert absent not in err
    assert ":p@" not in err  # the password is not echoed


def test_a_setting_the_connection_lacks_is_still_named_by_its_flag(moto_server, monkeypatch,
                                                                   capsys):  # fmt: skip
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    endpoint = urllib.parse.quote(moto_server.url, safe="")
    monkeypatch.setenv("ASYNC_HOOKS_CONN_X", f"aws://@/?endpoint_url={endpoint}")
    assert main(["wait", "aws", "batch", "j1", "--conn-id", "x", *FAST]) == USAGE
    err = capsys.readouterr().err
    assert "pass --region or set AWS_DEFAULT_REGION" in err and "connection 'x'" not in err


# ---------------------------------------------------------------------------- --import


def test_import_finds_a_module_in_the_current_directory_like_python_m(tmp_path):
    """``python -I``: the current directory is not on ``sys.path``, as under the installed
    ``async-hooks`` script (whose ``sys.path`` starts with its ``bin`` directory)."""
    (tmp_path / "cwd_kinds.py").write_text(
        "from async_hooks.aws.kinds import JobKind, register_job_kind\n"
        "register_job_kind(JobKind(name='cwd-sfn', service='stepfunctions',\n"
        "    describe='describe_execution', id_param='executionArn', item_path='',\n"
        "    status_path='status', success=frozenset({'SUCCEEDED'}),\n"
        "    failure=frozenset({'FAILED'}), identifiers={'tenant': 'tenant'}))\n"
    )
    code = (
        "import sys\nfrom async_hooks.cli import main\n"
        "assert not any(p in ('', '.') for p in sys.path)\n"
        "raise SystemExit(main(['wait', 'aws', 'cwd-sfn', 'x', '--import', 'cwd_kinds']))\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)  # fmt: skip
    assert out.returncode == USAGE, out.stderr
    assert "cwd-sfn needs --tenant" in out.stderr  # imported: the kind is known


# ---------------------------------------------------------------------------- timed out, errors


def test_a_timed_out_wait_gives_the_last_poll_error_and_its_polls(moto_server, capsys):
    """Nothing listens at the endpoint: every poll fails, the wait times out. The default retry
    policy's back-offs add up to at most 3 s before a poll fails, well inside the 5 s timeout."""
    argv = ["wait", "aws", "batch", "j1", "--endpoint-url", f"http://127.0.0.1:{_closed_port()}",
            "--timeout", "5", "--poll-interval", "0.2"]  # fmt: skip
    assert main(argv) == FAILED
    out = capsys.readouterr().out
    line = out.splitlines()[0]
    assert line.startswith("j1: TIMED OUT, last status never described; the last poll failed: ")
    assert "AwsEndpointConnectionError" in line
    assert main([*argv, "--json"]) == FAILED
    (found,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert found["outcome"] == "timed_out"
    assert isinstance(found["polls"], int) and found["polls"] >= 1
    assert f"({found['polls']} polls)" in found["reason"]
    assert isinstance(found["elapsed"], float) and found["elapsed"] >= 5.0


def test_the_outcome_of_a_timed_out_wait_without_a_result():
    error = JobTimeoutError(
        "batch job j1 still unknown after 5s (3 polls); the last poll failed: E: down",
        result=None,
        last_status=None,
        last_error="E: down",
    )
    outcome = classify("batch", "j1", error, 5.1)
    assert text_line(outcome) == (
        "j1: TIMED OUT, last status never described; the last poll failed: E: down"
    )
    data = json.loads(json_line(outcome))
    assert (data["polls"], data["elapsed"]) == (3, 5.1)


def test_an_error_outcome_has_its_elapsed_time(job_server, capsys):
    server = job_server()
    argv = ["wait", "http", "/jobs/nope", "--base-url", server.url, "--json", *FAST]
    assert main(argv) == FAILED
    (found,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert found["outcome"] == "error" and "404" in found["reason"]
    assert isinstance(found["elapsed"], float) and found["elapsed"] >= 0


# ---------------------------------------------------------------------------- help


def test_wait_aws_help_names_the_shared_call_of_each_kind(capsys):
    from async_hooks.aws.kinds import job_kinds

    with pytest.raises(SystemExit):
        main(["wait", "aws", "--help"])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    for name, kind in job_kinds().items():
        row = rows[name]
        if not kind.coalescable:
            assert "shared" not in row, row
            continue
        assert kind.batch_describe is not None and kind.batch_describe in row, row
        assert ("ids/call" in row) == (kind.batch_fetch is None), row
    assert "(shared: get_job_runs pages, up to 1000 recent jobs)" in rows["glue"]
    assert "(shared: list_steps, 10 ids/call)" in rows["emr-step"]
    assert "(shared: batch_get_query_execution, 50 ids/call)" in rows["athena"]
    assert "(shared, 100 ids/call)" in rows["batch"]


# ---------------------------------------------------------------------------- small usage cases


@pytest.mark.parametrize(
    "argv",
    [["--bogus"], ["wait", "--bogus"], ["wait", "aws", "--bogus"], ["wait", "gcp", "-x"]],
)
def test_an_unknown_option_is_named(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == USAGE
    err = capsys.readouterr().err
    assert f"unrecognized arguments: {argv[-1]}" in err
    assert "arguments are required" not in err


def test_abbreviations_and_repeated_short_flags_are_not_unknown(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--vers"])  # --version, abbreviated as argparse allows
    assert caught.value.code == OK
    with pytest.raises(SystemExit) as caught:
        main(["wait", "aws", "-vv"])
    assert "arguments are required: KIND, JOB_ID" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--timeout", "--poll-interval"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_inf_timings_name_the_flag(flag, value, capsys):
    assert main(["wait", "aws", "batch", "j", f"{flag}={value}"]) == USAGE
    err = capsys.readouterr().err
    assert f"{flag} must be > 0 seconds (a finite number)" in err


def test_verbose_in_a_pipe_shows_each_status_change_once(job_server, capsys):
    server = job_server()
    job = server.create(polls=1)
    argv = ["wait", "http", f"/jobs/{job}", "--base-url", server.url, "-v", *FAST]
    assert main(argv) == OK
    captured = capsys.readouterr()
    both = captured.out + captured.err
    assert both.count("-> RUNNING") == 1  # the log's line ...
    assert f"INFO async_hooks: http job /jobs/{job}: PENDING -> RUNNING" in captured.err
    assert "-> RUNNING" not in captured.out  # ... and no plain line beside it
    assert f"/jobs/{job}: SUCCEEDED after" in captured.out
    again = server.create(polls=1)
    argv = ["wait", "http", f"/jobs/{again}", "--base-url", server.url, *FAST]
    assert main(argv) == OK  # without -v: the plain lines
    assert f"http /jobs/{again}: PENDING -> RUNNING" in capsys.readouterr().out
