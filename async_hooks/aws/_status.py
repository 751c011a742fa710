"""The status path: a batch describe's JSON answer read for what the verdicts need, nothing more.

botocore parses a describe answer in full (every member of every job, each timestamp a
``datetime``: about 50 us a job with full details), although a poll needs each job's id, status
and failure reason, and the whole job only when its wait wakes. A ``StatusReader`` is built per
kind from botocore's own shape model: a msgspec typed decoder whose ``TypedDict`` types hold only
the members on the kind's paths (id, status, reasons, what its verdict reads), typed ``Any`` at
the leaves, so msgspec skips every other member without building it (about 1.5 us a job with
full details; orjson builds them all, about 8 us; see docs/pipeline.md). Each job becomes a
``Deferred``: its brief, and its place in the answer; the whole job is built by botocore's own
parser from the job's bytes when a wait needs it (``build``), so it is the dict the client would
have returned. An answer the decoder refuses (a member of another JSON type than the model's, a
body that is not JSON) is parsed by botocore, page and all (``parse_page``): the same answer
either way (tests/test_status_path.py checks both on payloads generated from the models).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict

import msgspec
from botocore.parsers import create_parser

from async_hooks._core.plan import Briefs
from async_hooks.aws._jobkind import JobKind, match_ids

__all__ = ["REFUSED", "StatusReader", "reader_for"]

#: What the decoder raises on an answer it does not read: botocore parses that one.
REFUSED = (msgspec.DecodeError, msgspec.ValidationError)
#: Leaf shapes whose JSON value botocore hands on as it is (a timestamp or a blob it converts).
_PLAIN = frozenset({"string", "integer", "long", "boolean"})
_NO_HEADERS: Mapping[str, str] = {}


class _Unreadable(Exception):
    """The model does not let the kind's paths be read from the JSON as botocore would."""


class _Page:
    """One answer's bytes: the ``ItemSource`` of its ``Deferred`` items. The items' raw spans
    are found (a second, skimming decode) only when a wait asks for one."""

    __slots__ = ("body", "build", "reader", "spans")
    build: Callable[[bytes], Any]

    def __init__(self, reader: StatusReader, body: bytes) -> None:
        self.reader = reader
        self.body = body
        self.build = reader.build
        self.spans: list[Any] | None = None

    def raw(self, index: int) -> bytes:
        spans = self.spans
        if spans is None:
            spans = self.spans = self.reader.spans(self.body)
        return bytes(spans[index])


class StatusReader:
    """One kind's status path on one service model (see the module's docstring)."""

    __slots__ = (
        "_decode",
        "_item_shape",
        "_output_shape",
        "_parser",
        "_spans",
        "id_path",
        "list_key",
        "protocol",
        "token_key",
    )

    def __init__(self, spec: JobKind, service_model: Any, operation: str) -> None:
        self.protocol = service_model.resolved_protocol
        output = service_model.operation_model(operation).output_shape
        self.list_key = spec.batch_item_path or spec.item_path
        lists = _member(output, self.list_key)
        if lists.type_name != "list" or lists.member.type_name != "structure":
            raise _Unreadable(f"{self.list_key} is not a list of structures")
        self._item_shape = lists.member
        self._output_shape = output
        self.id_path = spec.batch_item_id_path or spec.item_id_path or ""
        paths = (self.id_path, spec.status_path, *spec.reason_paths, *spec.brief_paths)
        brief = _typed(self._item_shape, _tree(paths), "Brief")
        page: dict[str, Any] = {self.list_key: _nullable_list(brief)}
        spans: dict[str, Any] = {self.list_key: list[msgspec.Raw] | None}
        token = output.members.get("NextToken")
        self.token_key = "NextToken" if token is not None and _plain(token) else None
        if self.token_key is not None:
            page[self.token_key] = Any
        self._decode = msgspec.json.Decoder(TypedDict("Page", page, total=False)).decode  # type: ignore[operator]
        self._spans = msgspec.json.Decoder(TypedDict("Spans", spans, total=False)).decode  # type: ignore[operator]
        self._parser = create_parser(self.protocol)

    def read(self, body: bytes, job_ids: Iterable[str]) -> tuple[Briefs, Any]:
        """The asked ids' briefs (``Deferred`` payloads made when asked for), and the page's
        ``NextToken``; raises one of ``REFUSED`` when the answer is not what the model says."""
        decoded = self._decode(body)
        items = decoded.get(self.list_key) or []
        found = Briefs(_Page(self, body), items, match_ids(items, self.id_path, job_ids))
        return found, decoded.get(self.token_key) if self.token_key else None

    def spans(self, body: bytes) -> list[Any]:
        return self._spans(body).get(self.list_key) or []

    def build(self, data: bytes) -> Any:
        """One item as botocore parses it: the protocol's parser on the item's shape, as its
        ``parse`` does for each item of a page (``_parse_shape`` on the JSON value; pinned in
        tests/test_upstream_pins.py), without the page's metadata and header steps."""
        return self._parser._parse_shape(self._item_shape, json.loads(data.decode("utf-8")))

    def parse_page(self, body: bytes) -> dict[str, Any]:
        """The whole answer as botocore parses it: what a refused answer is read from."""
        return self._parse(body, self._output_shape)

    def _parse(self, body: bytes, shape: Any) -> dict[str, Any]:
        response = {"body": body, "headers": _NO_HEADERS, "status_code": 200}
        parsed: dict[str, Any] = self._parser.parse(response, shape)
        parsed.pop("ResponseMetadata", None)
        return parsed


def reader_for(spec: JobKind, service_model: Any, operation: str) -> StatusReader | None:
    """The kind's reader, or None where the status path cannot serve it: a protocol that is not
    JSON, a verdict of its own that does not say what it reads (``brief_paths``), or paths the
    model does not let msgspec read as botocore would (a renamed member, a timestamp)."""
    if spec.verdict is not None and not spec.brief_paths:
        return None
    if getattr(service_model, "resolved_protocol", None) not in ("json", "rest-json"):
        return None
    try:
        return StatusReader(spec, service_model, operation)
    except (_Unreadable, KeyError):
        return None


def _nullable_list(item: Any) -> Any:
    """``list[item | None] | None``: botocore keeps a null item, and a null list is no list."""
    return list[item | None] | None


def _tree(paths: Iterable[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
    return tree


def _member(shape: Any, name: str) -> Any:
    member = shape.members[name]
    if member.serialization.get("name", name) != name or member.serialization.get("location"):
        raise _Unreadable(f"{name} is renamed or not in the body")
    return member


def _plain(shape: Any) -> bool:
    return shape.type_name in _PLAIN and not shape.serialization.get("jsonvalue")


def _typed(shape: Any, tree: dict[str, Any], name: str) -> Any:
    """The msgspec type that reads ``tree``'s members of a structure ``shape``: a ``TypedDict``
    (unknown members skipped), ``Any`` at the leaves, nullable where botocore allows null.
    Members the model does not have (``_failing``: what a ``finish`` step adds) are left out."""
    if getattr(shape, "is_tagged_union", False) or getattr(shape, "is_document_type", False):
        raise _Unreadable(f"{name} is a union or a document")
    fields: dict[str, Any] = {}
    for key, children in tree.items():
        if key not in shape.members:
            continue
        member = _member(shape, key)
        if not children:
            if not _plain(member):
                raise _Unreadable(f"{key} is a {member.type_name}")
            fields[key] = Any
        elif member.type_name == "structure":
            fields[key] = _typed(member, children, f"{name}_{key}") | None
        elif member.type_name == "list" and member.member.type_name == "structure":
            fields[key] = _nullable_list(_typed(member.member, children, f"{name}_{key}"))
        else:
            raise _Unreadable(f"{key} is a {member.type_name}")
    return TypedDict(name, fields, total=False)  # type: ignore[operator]
