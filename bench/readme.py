"""The README's figures, from the same run as ``bench/results/latest.md``.

``make bench`` rewrites the part of README.md between the two markers below with the tables it
has just written, so the README never shows figures from different runs side by side. What is
outside the markers (what the figures mean, why they moved) stays written by hand.
"""

from __future__ import annotations

from pathlib import Path

BEGIN = "<!-- bench results: begin (make bench writes this part; edit bench/report.py instead) -->"
END = "<!-- bench results: end -->"


class MarkersMissing(ValueError):
    """README.md has not got exactly one pair of markers, in order."""


def section(markdown: str) -> str:
    """``latest.md`` as a README subsection: its first paragraph and tables, headings one level down."""
    lines = markdown.splitlines()
    body = lines[1:] if lines and lines[0].startswith("# ") else lines
    return "\n".join("#" + line if line.startswith("## ") else line for line in body).strip() + "\n"


def update(readme: Path, markdown: str) -> bool:
    """Put ``markdown`` (a ``latest.md``) between the markers of ``readme``; whether it changed."""
    text = readme.read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise MarkersMissing(f"{readme.name} needs one line {BEGIN!r} and, after it, one line {END!r}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{BEGIN}\n\n{section(markdown)}\n{END}{tail}"
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text
