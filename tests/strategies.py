"""hypothesis strategies shared by the fuzz tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


# -- the edges' bounds (models/bounds.py): values every edge must refuse or take cleanly ------

OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
EXTREME_DATES = [
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59+14:00",
    "1999-12-31T23:59:59+08:00",
    "2100-01-01T00:00:01+00:00",
    "2026-11-29T10:00:00+23:59",
    "2026-11-29T10:00:00",
    "0001-01-01",
    "9999-12-31",
]
# Any date-time of the calendar, with an offset within +/-14 h, with none, or an extreme one.
dates = st.one_of(
    st.sampled_from(EXTREME_DATES),
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS
    ).map(datetime.isoformat),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        datetime.isoformat
    ),
)
# Dates every edge accepts: 2000-01-01 (Beijing) up to now, any offset within +/-14 h.
valid_dates = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2026, 1, 1), timezones=OFFSETS
).map(datetime.isoformat)
CONTROLS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"]
hostile_text = st.one_of(
    st.builds(
        lambda before, bad, after: before + bad + after,
        st.text(max_size=8),
        st.sampled_from(CONTROLS) | st.integers(0xD800, 0xDFFF).map(chr),
        st.text(max_size=8),
    ),
    st.integers(min_value=5_001, max_value=40_000).map(lambda n: "长" * n),
)


def deep(levels: int, open_: str = "[", close: str = "]") -> str:
    """JSON nested `levels` deep, as text: json.dumps itself would recurse that deep."""
    return open_ * levels + close * levels


# JSON text (not values): far dates, control characters and lone surrogates (escaped, as a
# client would send them), huge strings, and nesting up to 10,000 levels.
hostile_json = st.one_of(
    dates.map(json.dumps),
    hostile_text.map(json.dumps),
    st.integers(min_value=500, max_value=10_000).map(deep),
    st.integers(min_value=500, max_value=10_000).map(lambda n: deep(n, '{"a":', "}")),
)


def with_field(event: dict[str, Any], field: str, fragment: str) -> bytes:
    """`event` as JSON with `field` set to the JSON text `fragment`."""
    marker = "__replaced__"
    text = json.dumps({**event, field: marker}, ensure_ascii=False)
    return text.replace(json.dumps(marker), fragment, 1).encode("utf-8", "surrogatepass")
