"""One hook's status readers (``_status.py``), one per kind and service model, and how a batch
answer's items are read: on the status path where it serves, by botocore otherwise."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore import xform_name
from botocore.parsers import create_parser

from async_hooks.aws._jobkind import JobKind
from async_hooks.aws._status import REFUSED, StatusReader, reader_for

__all__ = ["Readers"]

#: ``_call_raw``'s answer: the raw JSON body (None: botocore parsed it), the parsed answer, and
#: the client's service model.
Answer = tuple["bytes | None", dict[str, Any], Any]


class Readers:
    """The readers of one hook's kinds, built on first use from the client's service model."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[JobKind, Any, StatusReader | None]] = {}

    @staticmethod
    def may_serve(spec: JobKind) -> bool:
        """Whether the status path may read ``spec``'s answers: it reads what the verdict
        reads, so a kind with a verdict of its own must say what that is (``brief_paths``)."""
        return spec.verdict is None or bool(spec.brief_paths)

    def items(
        self, spec: JobKind, operation: str, answer: Answer, job_ids: Iterable[str]
    ) -> tuple[Mapping[str, Any], Any]:
        """The asked ids' items in ``answer`` (``Deferred`` briefs on the status path, else
        botocore's dicts) and its ``NextToken``. A body the decoder refuses, or a kind the
        status path cannot read, is parsed by botocore, as the client would have."""
        body, parsed, model = answer
        if body is not None:
            reader = self._reader(spec, model, operation)
            if reader is not None:
                try:
                    return reader.read(body, job_ids)
                except REFUSED:
                    parsed = reader.parse_page(body)
            else:
                parsed = _parse(model, operation, body)
        return spec.batch_items(parsed, list(job_ids)), parsed.get("NextToken")

    def _reader(self, spec: JobKind, model: Any, operation: str) -> StatusReader | None:
        key = (spec.name, operation)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is spec and cached[1] is model:
            return cached[2]
        reader = reader_for(spec, model, _api_name(model, operation))
        self._cache[key] = (spec, model, reader)
        return reader


def _api_name(model: Any, operation: str) -> str:
    """botocore's operation name for a client method name (``describe_jobs``)."""
    for name in model.operation_names:
        if xform_name(name) == operation:
            return str(name)
    raise KeyError(operation)


def _parse(model: Any, operation: str, body: bytes) -> dict[str, Any]:
    shape = model.operation_model(_api_name(model, operation)).output_shape
    response = {"body": body, "headers": {}, "status_code": 200}
    parsed: dict[str, Any] = create_parser(model.resolved_protocol).parse(response, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed
