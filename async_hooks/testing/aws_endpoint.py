"""A scripted AWS endpoint that speaks each service's real protocol, read from botocore's model.

For the job APIs moto does not implement, or cannot drive to a failure: AWS JSON 1.0/1.1
(``X-Amz-Target``) and REST-JSON (an operation is its method and ``requestUri``), on one port for
every service named, so one ``endpoint_url`` serves a hook's calls to all of them. Each
operation answers from its script (answers in order, then ``then`` forever); every call is
recorded with its parameters, so a test counts calls at the server::

    endpoint = AwsEndpoint("codebuild")
    endpoint.script("codebuild", "BatchGetBuilds", then=lambda params: {"builds": [...]})
    server = threaded_server(endpoint.app())  # or ThreadedServer(endpoint.app()).start()

An answer is a dict (a 200 answer), ``(status, dict)``, ``AwsEndpoint.error(code, message)``,
or a function of the call's parameters returning one of these.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

__all__ = ["AwsCall", "AwsEndpoint", "AwsError"]

Answer = Any  # dict | tuple[int, dict] | AwsError | Callable[[dict[str, Any]], Answer]


@dataclass(frozen=True)
class AwsError:
    """An error answer, rendered as the service's protocol renders errors."""

    code: str
    message: str = ""
    status: int = 400


@dataclass(frozen=True)
class AwsCall:
    """One call the endpoint answered: service, operation (PascalCase) and its parameters
    (REST-JSON: URI labels, query and body together)."""

    service: str
    operation: str
    params: dict[str, Any]


@dataclass
class _Rest:
    service: str
    operation: str
    method: str
    pattern: re.Pattern[str]
    names: dict[str, str]  # URI label or query key -> the input member's name


@dataclass
class _Service:
    name: str
    protocol: str
    target_prefix: str | None
    json_version: str
    signing_name: str
    rest: list[_Rest] = field(default_factory=list)


class AwsEndpoint:
    """Scripted answers per ``(service, operation)`` for the botocore services named."""

    def __init__(self, *services: str) -> None:
        from botocore.loaders import Loader

        loader = Loader()
        self._services: dict[str, _Service] = {}
        for name in services:
            model = loader.load_service_model(name, "service-2")
            meta = model["metadata"]
            protocol = meta["protocol"]
            if protocol not in ("json", "rest-json"):
                raise ValueError(f"{name} speaks {protocol}: only json and rest-json are served")
            service = _Service(
                name,
                protocol,
                meta.get("targetPrefix"),
                meta.get("jsonVersion", "1.0"),
                meta.get("signingName", meta["endpointPrefix"]),
            )
            if protocol == "rest-json":
                for op_name, op in model["operations"].items():
                    http = op["http"]
                    pattern = _uri_pattern(http["requestUri"])
                    names = _located_names(model, op)
                    service.rest.append(_Rest(name, op_name, http["method"], pattern, names))
            self._services[name] = service
        self._scripts: dict[tuple[str, str], list[Answer]] = {}
        self._then: dict[tuple[str, str], Answer] = {}
        self._lock = threading.Lock()
        self.calls: list[AwsCall] = []

    @staticmethod
    def error(code: str, message: str = "", status: int = 400) -> AwsError:
        return AwsError(code, message, status)

    def script(
        self, service: str, operation: str, *answers: Answer, then: Answer | None = None
    ) -> None:
        """Answer ``operation`` with ``answers`` in order, then ``then`` (default ``{}``)."""
        if service not in self._services:
            raise ValueError(f"{service} is not served here; serve it: AwsEndpoint({service!r})")
        with self._lock:
            self._scripts[service, operation] = list(answers)
            self._then[service, operation] = {} if then is None else then

    def count(self, service: str, operation: str) -> int:
        with self._lock:
            return sum(c.service == service and c.operation == operation for c in self.calls)

    def calls_of(self, service: str, operation: str) -> list[AwsCall]:
        with self._lock:
            return [c for c in self.calls if c.service == service and c.operation == operation]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    # ------------------------------------------------------------------ serving

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        target = request.headers.get("X-Amz-Target")
        if target:
            prefix, _, operation = target.rpartition(".")
            service = next((s for s in self._services.values() if s.target_prefix == prefix), None)
            if service is None:
                return _json_error(AwsError("UnknownService", f"no service {prefix!r}"), "1.1")
            params = json.loads(raw) if raw else {}
            answer = self._answer(service.name, operation, params)
            return _render(service, answer)
        signing = _signing_name(request.headers.get("Authorization", ""))
        for service in self._services.values():
            if service.protocol != "rest-json" or (signing and signing != service.signing_name):
                continue
            for route in service.rest:
                found = route.method == request.method and route.pattern.fullmatch(request.path)
                if found:
                    located = {_label(k): unquote(v) for k, v in found.groupdict().items()}
                    located.update(parse_qsl(request.query_string))
                    params = {route.names.get(k, k): v for k, v in located.items()}
                    if raw:
                        params.update(json.loads(raw))
                    answer = self._answer(service.name, route.operation, params)
                    return _render(service, answer)
        error = AwsError("UnknownOperationException", f"{request.method} {request.path}", 404)
        return web.json_response(
            {"message": error.message}, status=404, headers={"x-amzn-ErrorType": error.code}
        )

    def _answer(self, service: str, operation: str, params: dict[str, Any]) -> Answer:
        with self._lock:
            self.calls.append(AwsCall(service, operation, params))
            queue = self._scripts.get((service, operation))
            if queue:
                answer = queue.pop(0)
            elif (service, operation) in self._then:
                answer = self._then[service, operation]
            else:
                answer = AwsError("NotScripted", f"{service}.{operation} is not scripted")
        while callable(answer):
            answer = answer(params)
        return answer


def _located_names(model: dict[str, Any], op: dict[str, Any]) -> dict[str, str]:
    """The input members sent in the URI or the query, by the name they are sent under."""
    if "input" not in op:
        return {}
    members = model["shapes"][op["input"]["shape"]].get("members", {})
    return {
        spec["locationName"]: member
        for member, spec in members.items()
        if spec.get("location") in ("uri", "querystring") and "locationName" in spec
    }


def _label(group: str) -> str:
    return _LABELS.get(group, group)


#: Regex group names back to URI labels (labels with characters a group name cannot have).
_LABELS: dict[str, str] = {}


def _uri_pattern(uri: str) -> re.Pattern[str]:
    """``/jobs/{name}/jobRun/{runId}`` -> a regex with one group per label (``{Key+}``: greedy)."""
    path = uri.split("?", 1)[0]
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{"):
            label = part[1:-1]
            greedy = label.endswith("+")
            name = re.sub(r"\W", "_", label.rstrip("+"))
            _LABELS[name] = label.rstrip("+")
            pattern += f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)"
        else:
            pattern += re.escape(part)
    return re.compile(pattern)


def _signing_name(authorization: str) -> str | None:
    """The service in a SigV4 credential scope (``Credential=AK/date/region/SERVICE/...``)."""
    found = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request", authorization)
    return found.group(1) if found else None


def _render(service: _Service, answer: Answer) -> web.Response:
    if isinstance(answer, AwsError):
        if service.protocol == "json":
            return _json_error(answer, service.json_version)
        return web.json_response(
            {"message": answer.message, "Message": answer.message},
            status=answer.status,
            headers={"x-amzn-ErrorType": answer.code},
        )
    status, body = answer if isinstance(answer, tuple) else (200, answer)
    if service.protocol == "json":
        content_type = f"application/x-amz-json-{service.json_version}"
        return web.Response(text=json.dumps(body), status=status, content_type=content_type)
    return web.json_response(body, status=status)


def _json_error(error: AwsError, version: str) -> web.Response:
    body = {"__type": error.code, "message": error.message}
    content_type = f"application/x-amz-json-{version}"
    return web.Response(text=json.dumps(body), status=error.status, content_type=content_type)
