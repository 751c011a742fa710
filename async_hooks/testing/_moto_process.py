"""moto's server in its own process, counting the requests it answers per AWS operation, so a
deployment's test can count what every triggerer and worker asked (``X-Amz-Target`` services:
Glue, ECS, Athena, ...; the query protocol's ``Action``: STS's ``AssumeRole``, ...). It also
answers Glue's ``BatchStopJobRun``, which moto lacks.

``python -m async_hooks.testing._moto_process --port P``; ``GET /__counts`` returns the counts
as JSON, ``POST /__counts`` returns them and starts again from zero. ``POST /__mark`` marks a
moment; ``GET /__mark`` returns, per operation, the wall time of its first request since then
(when a poller first asked after a job changed: a benchmark's detection latency).

``--fast-glue-runs`` answers Glue's ``GetJobRuns`` from moto's own runs (advanced as moto
advances them) without moto's shape-driven serializer, which spends about 42 ms of CPU on a
page of 200 runs: a benchmark's cloud stand-in shares the cores of the deployment it measures,
and a real cloud's answers cost that deployment nothing. The runs are those moto would answer,
in its order, pinned by a test; only ``NextToken`` differs (an offset).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import io
import json
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["MotoControl", "counting", "main"]


#: moto's page size for ``GetJobRuns`` when the request names none (its paginator's default).
GLUE_RUNS_DEFAULT_PAGE = 100


def counting(
    app: Any, *, fast_glue_runs: bool = False
) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """``app`` (WSGI) with a per-operation request count served at ``/__counts``; with
    ``fast_glue_runs``, ``GetJobRuns`` answered without moto's serializer (the module's
    docstring)."""
    counts: Counter[str] = Counter()
    first_since_mark: dict[str, float] = {}
    lock = threading.Lock()

    def count(operation: str) -> None:
        with lock:
            counts[operation] += 1
            first_since_mark.setdefault(operation, time.time())

    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path in ("/__counts", "/__mark"):
            table: dict[str, Any] = counts if path == "/__counts" else first_since_mark
            with lock:
                body = json.dumps(dict(table)).encode()
                if environ.get("REQUEST_METHOD") == "POST":
                    table.clear()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            count(target.rsplit(".", 1)[-1])
        elif (action := _query_action(environ)) is not None:  # query protocol: STS, ...
            count(action)
        if target == "AWSGlue.BatchStopJobRun":
            start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
            return [json.dumps(_stop_glue_runs(_json_body(environ))).encode()]
        if fast_glue_runs and target == "AWSGlue.GetJobRuns":
            page = _glue_job_runs(_json_body(environ, keep=True))
            if page is not None:
                start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
                return [json.dumps(page).encode()]
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return wsgi


def _query_action(environ: dict[str, Any]) -> str | None:
    """A query-protocol request's ``Action`` (STS's ``AssumeRole``, ...), its body kept for
    moto; ``None`` for any other request."""
    kind = environ.get("CONTENT_TYPE") or ""
    if environ.get("REQUEST_METHOD") != "POST" or "x-www-form-urlencoded" not in kind:
        return None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    found = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
    return found[0] if found else None


def _json_body(environ: dict[str, Any], *, keep: bool = False) -> dict[str, Any]:
    """The request's JSON body; ``keep`` leaves it readable for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length)
    if keep:
        environ["wsgi.input"] = io.BytesIO(raw)
    body: dict[str, Any] = json.loads(raw or b"{}")
    return body


def _glue_jobs(name: str) -> list[Any]:
    """moto's Glue jobs called ``name``, in every account and region."""
    from moto.glue.models import glue_backends

    jobs = (
        backend.jobs.get(name) for regions in glue_backends.values() for backend in regions.values()
    )
    return [job for job in jobs if job is not None]


def _glue_job_runs(body: dict[str, Any]) -> dict[str, Any] | None:
    """``GetJobRuns`` as moto answers it, without its serializer; ``None`` (moto answers,
    errors included) unless exactly one job has the name and the request is a plain page."""
    jobs = _glue_jobs(str(body.get("JobName")))
    size, token = body.get("MaxResults", GLUE_RUNS_DEFAULT_PAGE), body.get("NextToken", "0")
    if len(jobs) != 1 or not isinstance(size, int) or size < 1 or not str(token).isdigit():
        return None
    runs = jobs[0].get_job_runs()  # moto's own: advances each run, as moto's answer does
    start = int(token)
    page: dict[str, Any] = {
        "JobRuns": [_plain(run.as_dict()) for run in runs[start : start + size]]
    }
    if start + size < len(runs):
        page["NextToken"] = str(start + size)
    return page


def _plain(run: dict[str, Any]) -> dict[str, Any]:
    """A run's ``as_dict()`` as moto's serializer writes it: no ``None``, times in epoch
    seconds truncated to the millisecond."""
    return {key: _epoch(value) for key, value in run.items() if value is not None}


def _epoch(value: Any) -> Any:
    if not isinstance(value, dt.datetime):
        return value
    seconds = calendar.timegm(value.utctimetuple())
    return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds


def _stop_glue_runs(body: dict[str, Any]) -> dict[str, Any]:
    """Glue's ``BatchStopJobRun``, which moto 5.2 lacks: the runs asked for become STOPPED."""
    name, wanted = str(body.get("JobName")), set(body.get("JobRunIds", []))
    stopped = []
    for job in _glue_jobs(name):
        for run in job.job_runs:
            if run.job_run_id in wanted and run.status in ("STARTING", "RUNNING"):
                run.status = "STOPPED"
                stopped.append({"JobName": name, "JobRunId": run.job_run_id})
    found = {entry["JobRunId"] for entry in stopped}
    errors = [
        {
            "JobName": name,
            "JobRunId": run_id,
            "ErrorDetail": {"ErrorCode": "InvalidInputException", "ErrorMessage": "not running"},
        }
        for run_id in sorted(wanted - found)
    ]
    return {"SuccessfulSubmissions": stopped, "Errors": errors}


class MotoControl:
    """moto's control API at ``url``: reset, transitions, and the request counts."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _send(self, path: str, body: Any = None, method: str = "POST") -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as answer:
            payload = answer.read()
        return json.loads(payload) if payload.startswith(b"{") else None

    def reset(self) -> None:
        """Forget every resource and transition (the counts stay)."""
        self._send("/moto-api/reset")

    def set_config(self, config: dict[str, Any]) -> None:
        """E.g. ``{"stepfunctions": {"execute_state_machine": True}}``."""
        self._send("/moto-api/config", config)

    def set_transition(self, model_name: str, transition: dict[str, Any]) -> None:
        """E.g. ``("glue::job_run", {"progression": "manual", "times": 3})``."""
        self._send(
            "/moto-api/state-manager/set-transition",
            {"model_name": model_name, "transition": transition},
        )

    def counts(self) -> dict[str, int]:
        """Requests answered per operation (``{"StartJobRun": 50, "GetJobRuns": 31, ...}``)."""
        counts: dict[str, int] = self._send("/__counts", method="GET")
        return counts

    def reset_counts(self) -> dict[str, int]:
        """The counts so far; counting starts again from zero."""
        counts: dict[str, int] = self._send("/__counts")
        return counts

    def mark(self) -> None:
        """Mark this moment: ``first_since_mark`` answers from here."""
        self._send("/__mark")

    def first_since_mark(self) -> dict[str, float]:
        """Per operation, the wall time of its first request since the last ``mark()``."""
        first: dict[str, float] = self._send("/__mark", method="GET")
        return first


def main() -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fast-glue-runs", action="store_true")
    args = parser.parse_args()

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """Not one line per request: thousands of polls would bury the errors."""

    app = DomainDispatcherApplication(create_backend_app)
    wsgi = counting(app, fast_glue_runs=args.fast_glue_runs)
    run_simple("127.0.0.1", args.port, wsgi, threaded=True, request_handler=QuietHandler)


if __name__ == "__main__":
    main()
