"""botocore's response timestamps, parsed to the same values at about half the parse's cost.

botocore turns every epoch timestamp of a response into a ``datetime`` in a ``tzlocal()`` that
it builds anew for each value (``botocore.utils.parse_timestamp``). A shared sweep of 5,000 Glue
runs parses three of them a run, every tick, on the loop all waits share: building the zone
object is most of that, and about half the cost of parsing a whole ``GetJobRuns`` page. Here
the zone is built once (again only when the process's time zone changes, as after
``time.tzset()``), through the parser default botocore offers for this
(``ResponseParserFactory.set_parser_defaults``). Anything else, or a value the platform's
``localtime`` cannot place, goes to botocore's own parser.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from botocore.utils import get_tzinfo_options, parse_timestamp

__all__ = ["parse_timestamp_fast", "use_fast_timestamps"]

#: The local zone as botocore builds it, and the process's zone settings it was built under.
_zone: tuple[tuple[Any, ...], dt.tzinfo] | None = None


def _local_zone() -> dt.tzinfo:
    global _zone
    settings = (time.timezone, time.altzone, time.daylight, time.tzname)
    if _zone is None or _zone[0] != settings:
        _zone = (settings, get_tzinfo_options()[0]())  # botocore's first choice: tzlocal
    return _zone[1]


def parse_timestamp_fast(value: Any) -> dt.datetime:
    """``botocore.utils.parse_timestamp(value)``, with the local zone built once."""
    if isinstance(value, (int, float)):  # botocore's own test: an epoch time
        try:
            return dt.datetime.fromtimestamp(value, _local_zone())
        except (OSError, OverflowError, ValueError):
            pass  # botocore has fallbacks for what localtime cannot place
    parsed: dt.datetime = parse_timestamp(value)
    return parsed


def use_fast_timestamps(session: Any) -> None:
    """Have every client ``session`` creates parse timestamps with ``parse_timestamp_fast``."""
    factory = session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=parse_timestamp_fast)
