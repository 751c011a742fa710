"""The command's arguments: ``demo`` and ``wait aws|gcp|http``, every option with its help and
default, and the kinds (with the flags of their identifiers) listed in ``wait aws --help``.

The kinds are read only when the command line has ``wait`` (listing AWS kinds imports
aiobotocore); a provider whose extra is missing still gets its ``wait`` command, which then
names the extra to install.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeAlias

from async_hooks._cli.catalog import KindInfo, flag
from async_hooks._cli.commands import identifier_dest
from async_hooks._cli.extras import providers_epilog

__all__ = ["DEFAULT_POLL", "DEFAULT_TIMEOUT", "build_parser", "plugins_in"]

DEFAULT_POLL = 30.0
DEFAULT_TIMEOUT = 3600.0

DESCRIPTION = """\
Wait on cloud jobs from a shell: AWS (Batch, Glue, ECS, Step Functions, ...), Google Cloud
(BigQuery, ...) and any REST job API, with progress while they run and an exit code that
says how they ended. Try "async-hooks demo": it needs no cloud account.

exit codes: 0 every job succeeded, 1 some failed or timed out, 2 bad usage or configuration,
130 interrupted (Ctrl-C)."""

#: ``kinds_for(provider)``: the provider's kinds, or the text saying why they are unknown.
KindsFor = Callable[[str], "dict[str, KindInfo] | str"]


_Subparsers: TypeAlias = "argparse._SubParsersAction[_Parser]"


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=100)


class _Parser(argparse.ArgumentParser):
    """argparse, naming an unknown option rather than the positional it then misses:
    ``async-hooks --bogus`` says ``unrecognized arguments: --bogus``, not ``the following
    arguments are required: COMMAND`` (argparse checks the required ones first)."""

    _seen: Sequence[str] = ()

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._seen = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        stray = self._unknown_options()
        if stray and message.startswith("the following arguments are required"):
            message = f"unrecognized arguments: {' '.join(stray)}"
        if message.startswith("unrecognized arguments"):
            # argparse leaves a subcommand's unknown flags to the top-level parser, which
            # would print its own usage: the subcommand's (``wait aws``) says what it takes.
            chosen = self._subcommand()
            if chosen is not self:
                chosen.error(message)
        super().error(message)

    def _subcommand(self) -> argparse.ArgumentParser:
        """The innermost subcommand's parser that the arguments chose (``wait aws``)."""
        parser: argparse.ArgumentParser = self
        for token in self._seen:
            if token == "--":
                break
            commands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
            if commands and token in commands[0].choices:
                parser = commands[0].choices[token]
        return parser

    def _unknown_options(self) -> list[str]:
        """The arguments this parser would call unrecognized options (abbreviations of its
        own options, ``-vv`` and negative numbers are not)."""
        known = self._option_string_actions
        stray = []
        for token in self._seen:
            if token == "--":
                break
            if not token.startswith("-") or self._negative_number_matcher.match(token):
                continue
            name = token.split("=", 1)[0]
            if name.startswith("--"):
                if not any(option.startswith(name) for option in known):
                    stray.append(token)
            elif token[:2] not in known:
                stray.append(token)
        return stray


def plugins_in(argv: Sequence[str]) -> list[str]:
    """The modules named by ``--import`` (needed before the parser lists the kinds)."""
    found: list[str] = []
    for n, arg in enumerate(argv):
        if arg == "--import" and n + 1 < len(argv):
            found.append(argv[n + 1])
        elif arg.startswith("--import="):
            found.append(arg.split("=", 1)[1])
    return found


def _output_options() -> _Parser:
    common = _Parser(add_help=False)
    shown = common.add_argument_group("output")
    shown.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log status changes (off a terminal, instead of the status lines), retries and"
        " throttling to stderr (-vv: debug records too)",
    )
    shown.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress; print only the jobs that did not succeed",
    )
    return common


def _wait_options() -> _Parser:
    common = _Parser(add_help=False, parents=[_output_options()])
    common.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per job on stdout (progress goes to stderr)",
    )
    timing = common.add_argument_group("timing")
    timing.add_argument(
        "--poll-interval",
        type=float,
        default=DEFAULT_POLL,
        metavar="SECONDS",
        help=f"seconds between polls (default: {DEFAULT_POLL:.0f})",
    )
    timing.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up on a job after this many seconds (default: {DEFAULT_TIMEOUT:,.0f})",
    )
    return common


def _flags_text(kind: KindInfo) -> str:
    """``--job-name``; an identifier a short id can do without in brackets: ``[--location]``."""
    shown = [flag(k) if k in kind.required else f"[{flag(k)}]" for k in kind.identifiers]
    return " ".join(shown) or "-"


def _kinds_epilog(name: str, kinds: dict[str, KindInfo] | str, example: str) -> str:
    if isinstance(kinds, str):
        return f"kinds: unavailable: {kinds}\n\nexample:\n  {example}"
    width = max(len(k) for k in kinds) + 2
    flags_width = max(len(_flags_text(k)) for k in kinds.values())
    rows = [
        f"  {k.name:<{width}}{_flags_text(k):<{flags_width}}  {k.summary}".rstrip()
        for k in kinds.values()
    ]
    head = f"{name} kinds, with the identifier flags each takes:\n"
    return head + "\n".join(rows) + f"\n\nexample:\n  {example}"


def _identifier_flags(
    parser: argparse.ArgumentParser, kinds: dict[str, KindInfo] | str, skip: set[str]
) -> None:
    if isinstance(kinds, str):
        return
    users: dict[str, list[str]] = {}
    meanings: dict[str, Counter[str]] = {}
    for kind in kinds.values():
        for keyword in kind.identifiers:
            users.setdefault(keyword, []).append(kind.name)
            meanings.setdefault(keyword, Counter())[kind.help.get(keyword, "")] += 1
    meaning = {k: c.most_common(1)[0][0] for k, c in meanings.items()}
    group = parser.add_argument_group("job identifiers (each kind takes its own; see below)")
    for keyword, names in sorted(users.items()):
        if keyword in skip:
            continue
        about = f"{meaning[keyword]}; " if meaning[keyword] else ""
        group.add_argument(
            flag(keyword),
            dest=identifier_dest(keyword),
            metavar=keyword.upper(),
            help=f"{about}for {', '.join(names)}",
        )


AWS_EXAMPLE = "async-hooks wait aws glue jr_0123abcd --job-name nightly-etl --region eu-west-1"
GCP_EXAMPLE = "async-hooks wait gcp bigquery job_0123 --project my-project --location EU"
HTTP_EXAMPLE = (
    "async-hooks wait http /jobs/42 --base-url https://jobs.example.com"
    " --status-key state --success DONE --failure ERROR"
)


def _aws(providers: _Subparsers, common: _Parser, kinds: KindsFor) -> None:
    found = kinds("aws")
    aws = providers.add_parser(
        "aws",
        parents=[common],
        formatter_class=_Formatter,
        help="AWS jobs: batch, glue, ecs, stepfunctions, ...",
        description="Wait on AWS jobs of one kind until each ends.",
        epilog=_kinds_epilog("AWS", found, AWS_EXAMPLE)
        + (
            "\n\nendpoint: --endpoint-url, or the AWS_ENDPOINT_URL environment variable (read by"
            "\nbotocore), sends every call elsewhere (LocalStack, moto). Credentials and region"
            "\ncome from --conn-id, --profile or botocore's usual chain (AWS_* variables)."
        ),
    )
    aws.add_argument("kind", metavar="KIND", help="the job kind (listed below)")
    aws.add_argument("job_ids", nargs="+", metavar="JOB_ID", help="the jobs to wait on")
    where = aws.add_argument_group("connection")
    where.add_argument("--region", help="the AWS region (default: botocore's: AWS_DEFAULT_REGION)")
    where.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="send every call to this endpoint (default: AWS_ENDPOINT_URL, else AWS's)",
    )
    where.add_argument("--profile", help="a profile of ~/.aws/config")
    where.add_argument("--conn-id", help="a connection (ASYNC_HOOKS_CONN_* or Airflow's)")
    where.add_argument(
        "--import",
        dest="plugins",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (it registers more kinds with register_job_kind)",
    )
    _identifier_flags(aws, found, skip=set())


def _gcp(providers: _Subparsers, common: _Parser, kinds: KindsFor) -> None:
    found = kinds("gcp")
    gcp = providers.add_parser(
        "gcp",
        parents=[common],
        formatter_class=_Formatter,
        help="Google Cloud jobs: bigquery, ...",
        description="Wait on Google Cloud jobs of one kind until each ends.",
        epilog=_kinds_epilog("GCP", found, GCP_EXAMPLE)
        + (
            "\n\ncredentials: --service-file, --conn-id, or Application Default Credentials"
            "\n(GOOGLE_APPLICATION_CREDENTIALS)."
        ),
    )
    gcp.add_argument("kind", metavar="KIND", help="the job kind (listed below)")
    gcp.add_argument(
        "job_ids", nargs="+", metavar="JOB_ID", help="short ids, or full resource names"
    )
    where = gcp.add_argument_group("connection")
    where.add_argument("--project", help="the project (default: the credentials' project)")
    where.add_argument("--service-file", metavar="PATH", help="a service-account key file")
    where.add_argument(
        "--api-root", metavar="URL", help="send every call to this scheme and host instead"
    )
    where.add_argument("--conn-id", help="a connection (ASYNC_HOOKS_CONN_* or Airflow's)")
    _identifier_flags(gcp, found, skip={"project"})


def _http(providers: _Subparsers, common: _Parser) -> None:
    http = providers.add_parser(
        "http",
        parents=[common],
        formatter_class=_Formatter,
        help="jobs of any REST API that answers GET with a status in JSON",
        description="Poll GET URL_PATH until the status in its JSON answer is a success or "
        "failure state.",
        epilog=f"example:\n  {HTTP_EXAMPLE}",
    )
    http.add_argument("job_ids", nargs="+", metavar="URL_PATH", help="paths under --base-url")
    where = http.add_argument_group("connection")
    where.add_argument("--base-url", metavar="URL", help="the API's base URL")
    where.add_argument("--conn-id", help="a connection (ASYNC_HOOKS_CONN_* or Airflow's)")
    where.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="a header for every request (repeatable)",
    )
    states = http.add_argument_group("states")
    states.add_argument(
        "--status-key",
        default="status",
        metavar="PATH",
        help="dotted path of the status in the answer (default: status)",
    )
    states.add_argument(
        "--success",
        action="append",
        metavar="STATE",
        help="a success state (repeatable; default: SUCCEEDED)",
    )
    states.add_argument(
        "--failure",
        action="append",
        metavar="STATE",
        help="a failure state (repeatable; default: FAILED)",
    )
    states.add_argument(
        "--reason-key",
        default="reason",
        metavar="PATH",
        help="dotted path of the failure reason (default: reason; '' for none)",
    )


def _demo(commands: _Subparsers) -> None:
    demo = commands.add_parser(
        "demo",
        parents=[_output_options()],
        formatter_class=_Formatter,
        help="wait on many jobs on an embedded moto server, beside boto3 (no account needed)",
        description="Start a local moto server, launch jobs, wait on them with async_hooks, "
        "then with boto3 as people write it (a thread per job) and as a careful poller does "
        "(one describe per 100 ids), and compare.",
        epilog="example:\n  async-hooks demo --kind glue --jobs 500",
    )
    # Not batch: moto's Batch (without Docker) marks a job SUCCEEDED when it is submitted, so
    # a demo of Batch jobs would show no waiting at all.
    demo.add_argument(
        "--kind",
        choices=["ecs", "glue", "http"],
        default="ecs",
        help="the kind of job (http: a local REST job service) (default: ecs)",
    )
    demo.add_argument("--jobs", type=int, default=200, help="how many jobs (default: 200)")
    demo.add_argument(
        "--poll-interval",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="seconds between polls (default: 0.5)",
    )
    demo.add_argument(
        "--polls", type=int, default=3, help="http only: polls a job stays RUNNING (default: 3)"
    )
    demo.add_argument("--no-baseline", action="store_true", help="skip the boto3 baselines")


def build_parser(kinds: KindsFor, version: str) -> argparse.ArgumentParser:
    """The whole command line; ``kinds`` lists a provider's kinds (only called for ``wait``)."""
    parser = _Parser(
        prog="async-hooks",
        description=DESCRIPTION,
        epilog=providers_epilog(),
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"async-hooks {version}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _demo(commands)
    wait = commands.add_parser(
        "wait",
        formatter_class=_Formatter,
        help="wait on real jobs until they end",
        description="Wait on jobs until each ends; exit 0 when all succeeded.",
    )
    providers = wait.add_subparsers(dest="provider", required=True, metavar="PROVIDER")
    common = _wait_options()
    _aws(providers, common, kinds)
    _gcp(providers, common, kinds)
    _http(providers, common)
    return parser
