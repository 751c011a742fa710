"""``AwsEndpoint`` for the services that speak the AWS query protocol (Redshift, Neptune, RDS):
a form-encoded ``Action`` in, XML out, as the real service answers.

The answers are the same scripts as ``AwsEndpoint``'s (a dict, ``AwsError`` or a function of
the call's parameters), rendered with moto's own response serializer from botocore's model and
errors as the query protocol's ``ErrorResponse``. A call's parameters are the flat form fields
(``Filters.member.1.Name``), as sent.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from aiohttp import web

from async_hooks.testing.aws_endpoint import AwsEndpoint, AwsError, _Service, _signing_name

__all__ = ["QueryEndpoint", "endpoint_for"]


def endpoint_for(service: str) -> AwsEndpoint:
    """A scripted endpoint speaking ``service``'s protocol."""
    import botocore.session

    protocol = botocore.session.get_session().get_service_model(service).protocol
    return QueryEndpoint(service) if protocol == "query" else AwsEndpoint(service)


class QueryEndpoint(AwsEndpoint):
    """Scripted answers per ``(service, operation)`` for the query-protocol services named."""

    def __init__(self, *services: str) -> None:
        from moto.core.utils import get_service_model

        self._models = {name: get_service_model(name) for name in services}
        for name, model in self._models.items():
            if model.protocol != "query":
                raise ValueError(f"{name} speaks {model.protocol}: only query is served here")
        self._services = {  # what ``script`` checks a service against
            name: _Service(name, "query", None, "", model.signing_name)
            for name, model in self._models.items()
        }
        self._scripts = {}
        self._then = {}
        self._lock = threading.Lock()
        self.calls = []

    async def _handle(self, request: web.Request) -> web.Response:
        params = dict(parse_qsl((await request.read()).decode()))
        operation = params.pop("Action", "")
        params.pop("Version", None)
        signing = _signing_name(request.headers.get("Authorization", ""))
        service = next(
            (n for n, m in self._models.items() if m.signing_name == signing),
            next(iter(self._models)),
        )
        answer = self._answer(service, operation, params)
        return self._render(service, operation, answer)

    def _render(self, service: str, operation: str, answer: Any) -> web.Response:
        model = self._models[service]
        namespace = model.metadata.get("xmlNamespace", "")
        if isinstance(answer, AwsError):
            error = (
                f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type>'
                f"<Code>{escape(answer.code)}</Code><Message>{escape(answer.message)}</Message>"
                "</Error><RequestId>request-id</RequestId></ErrorResponse>"
            )
            return web.Response(text=error, status=answer.status, content_type="text/xml")
        from moto.core.serialize import get_serializer_class

        status, result = answer if isinstance(answer, tuple) else (200, answer)
        serializer = get_serializer_class(service, model.protocol)
        body: Any = serializer(model.operation_model(operation)).serialize(result)["body"]
        text = body.decode() if isinstance(body, bytes) else body
        return web.Response(text=text, status=status, content_type="text/xml")
