"""Content negotiation: which declared media type an answer takes, and its body in that type.

An operation may offer one answer in several media types (the vendor's list operations offer
JSON and tab-separated values). The client's ``Accept`` header chooses among those the spec
declares; with no match (or no header) the answer is JSON, as a generated client expects.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..spec.media import base_media, is_json_media
from ..wire.media import choose_by_accept

# The declared media type the ``Accept`` header prefers: the wire layer's one media-range rule.
choose_media = choose_by_accept


TABLE_DELIMITERS = {"text/tab-separated-values": "\t", "text/csv": ","}


def is_table_media(media: str) -> bool:
    return base_media(media) in TABLE_DELIMITERS


def render(value: Any, media: str) -> Any:
    """An example value as a body of ``media``: JSON stays a value, tables become text."""
    base = base_media(media)
    if is_json_media(base) or isinstance(value, (str, bytes, Exception)):
        return value
    if base in TABLE_DELIMITERS:
        return as_table(value, TABLE_DELIMITERS[base])
    if base.startswith("text/"):
        return json.dumps(value)
    return json.dumps(value).encode("utf-8")  # a binary type: some bytes that stand for the value


def as_table(value: Any, delimiter: str) -> str:
    """Rows of a value as delimited text: a header of field names, then one line per row."""
    rows = [_row(item) for item in (value if isinstance(value, list) else [value])]
    fields: list[str] = []
    for row in rows:
        fields.extend(name for name in row if name not in fields)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in fields])
    return out.getvalue()


def _row(item: Any) -> dict[str, Any]:
    return item if isinstance(item, dict) else {"value": item}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
