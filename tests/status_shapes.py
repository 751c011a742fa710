"""Hypothesis strategies for describe answers, generated from botocore's own shape models
(``botocore.model``), as the JSON protocols put them on the wire: every member optional, any of
them null, timestamps as epoch seconds, blobs in base64. The kind's own members (its status,
reasons and what its verdict reads) get odd values on top: unknown status strings, empty, huge
and non-ASCII reasons. Used by tests/test_status_path.py."""

from __future__ import annotations

import base64
from typing import Any

from botocore.session import get_session
from hypothesis import strategies as st

__all__ = ["ODD_STATUSES", "REASONS", "answer_model", "item_strategy"]

#: Statuses no model lists, beside each kind's own.
ODD_STATUSES = ("", "running", "SUCCEEDED ", "ÜNKNØWN", "STOPPED\u200b", "💥", "null")


class _Huge(str):
    """A huge reason that prints short (hypothesis prints what a failing example drew)."""

    def __repr__(self) -> str:
        return f"<{len(self):,} chars: {str.__repr__(self[:12])}...>"


#: Reasons: short ones of any text, and huge ones (a 200 KB ASCII line, 70,000 non-ASCII chars).
REASONS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [_Huge("x" * 200_000), _Huge("é💥" * 35_000), 'line\nbreak\t"quoted" \\ / \u2028']
    ),
)
_MAX_DEPTH = 4
_SESSION = get_session()


def answer_model(service: str) -> Any:
    return _SESSION.get_service_model(service)


def item_strategy(
    shape: Any, overrides: dict[str, st.SearchStrategy[Any]], path: str = "", depth: int = 0
) -> st.SearchStrategy[Any]:
    """A wire value of ``shape``; ``overrides`` by dotted member path (lists are transparent:
    ``containers.exitCode``)."""
    if path in overrides:
        return overrides[path]
    kind = shape.type_name
    if kind == "structure":
        if depth >= _MAX_DEPTH:
            return st.just({})
        optional = {}
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue  # headers, status codes: not in the body
            key = member.serialization.get("name", name)
            inner = f"{path}.{name}" if path else name
            value = item_strategy(member, overrides, inner, depth + 1)
            optional[key] = value if inner in overrides else st.one_of(st.none(), value)
        return st.fixed_dictionaries({}, optional=optional)
    if kind == "list":
        inner = item_strategy(shape.member, overrides, path, depth + 1)
        return st.lists(st.one_of(inner, st.none()), max_size=2 if depth < 2 else 1)
    if kind == "map":
        value = item_strategy(shape.value, overrides, path, depth + 1)
        return st.dictionaries(st.text(max_size=6), value, max_size=2)
    if kind == "string":
        enum = list(shape.enum or ())
        return st.sampled_from(enum) | st.text(max_size=12) if enum else st.text(max_size=12)
    if kind in ("integer", "long"):
        return st.integers(-(2**53), 2**53)
    if kind == "boolean":
        return st.booleans()
    if kind in ("float", "double"):
        return st.floats(-1e12, 1e12)
    if kind == "timestamp":
        return st.integers(0, 4_000_000_000) | st.floats(0, 4_000_000_000)
    if kind == "blob":
        return st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode())
    return st.none()  # documents and anything newer: absent
