"""``--output table`` and ``--output tsv``: a list's items as rows, their fields as columns.

A list of objects is one row per item (columns: the fields in the order first seen); one object
is a row per field (``field``, ``value``); anything else is one cell. The table fits the
terminal: wide cells are cut with ``…`` and columns past the width are dropped and named on the
last line. TSV is never cut, for pipes (tabs and newlines inside a cell become spaces).

Layer: cli; imports nothing of odm_dyn.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

MIN_CELL = 6  # a column narrower than this would show nothing useful
GAP = "  "


def rows_of(wire: Any) -> tuple[list[str], list[list[str]]]:
    """Header and rows of cell texts for any wire value."""
    if isinstance(wire, list) and wire and all(isinstance(item, dict) for item in wire):
        columns: dict[str, None] = {}
        for item in wire:
            columns.update(dict.fromkeys(item))
        return list(columns), [[cell(item.get(name)) for name in columns] for item in wire]
    if isinstance(wire, list):
        return ["value"], [[cell(item)] for item in wire]
    if isinstance(wire, dict):
        return ["field", "value"], [[name, cell(value)] for name, value in wire.items()]
    return ["value"], [[cell(wire)]]


def cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return " ".join(text.split("\t")).replace("\r", " ").replace("\n", " ")


def tsv_text(wire: Any) -> str:
    header, rows = rows_of(wire)
    return "\n".join("\t".join(row) for row in [header, *rows])


def table_text(wire: Any, width: int | None = None) -> str:
    """Aligned columns that fit ``width`` (default: the terminal's, 100 when it is not one)."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    header, rows = rows_of(wire)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    shown = fitting_columns(widths, width)
    dropped = header[len(shown) :]
    lines = [
        GAP.join(cut(row[i], shown[i]).ljust(shown[i]) for i in range(len(shown))).rstrip() for row in [header, *rows]
    ]
    if dropped:
        lines.append(f"({len(dropped)} more column(s): {', '.join(dropped)}; --output tsv shows all)")
    return "\n".join(lines)


def fitting_columns(widths: list[int], width: int) -> list[int]:
    """Column widths that fit: the widest shrinks first, down to MIN_CELL; then columns drop."""
    shown = list(widths)
    while shown:
        total = sum(shown) + len(GAP) * (len(shown) - 1)
        if total <= width:
            return shown
        widest = max(range(len(shown)), key=lambda i: shown[i])
        if shown[widest] > MIN_CELL:
            shown[widest] = max(MIN_CELL, shown[widest] - (total - width))
        else:
            shown.pop()
    return shown


def cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: max(size - 1, 0)] + "…"
