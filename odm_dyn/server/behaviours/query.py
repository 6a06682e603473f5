"""The filter language the embedded server understands: ``"Key"="value"`` terms joined by AND/OR.

AND binds tighter than OR, as in ODM's query language; keys and values are double-quoted
(a value may also be a bare number or word). Anything else is a :class:`QueryError` saying
where the text stopped making sense, which the behaviours answer as a 400.
"""

from __future__ import annotations

import re
from typing import Any

Terms = list[list[tuple[str, str]]]  # OR of ANDs of key = value

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(AND|OR)\b|(=)|([A-Za-z0-9_.:+-]+))', re.IGNORECASE)


class QueryError(ValueError):
    pass


def parse_terms(text: str, what: str = "filter") -> Terms:
    tokens = _tokens(text, what)
    alternatives: Terms = [[]]
    expect = "term"
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if expect == "term":
            if not _is_term(tokens, i):
                raise QueryError(f'{what} {text!r}: expected a "Key"="value" term at token {i + 1}')
            alternatives[-1].append((value, tokens[i + 2][1]))
            i += 3
            expect = "join"
            continue
        if kind != "join":
            raise QueryError(f"{what} {text!r}: expected AND or OR after a term, found {value!r}")
        if value.upper() == "OR":
            alternatives.append([])
        expect, i = "term", i + 1
    if expect == "term":
        raise QueryError(f'{what} {text!r}: a "Key"="value" term is missing at the end')
    return alternatives


def _is_term(tokens: list[tuple[str, str]], i: int) -> bool:
    return (
        i + 2 < len(tokens)
        and tokens[i][0] == "str"
        and tokens[i + 1][0] == "="
        and tokens[i + 2][0] in ("str", "word")
    )


def _tokens(text: str, what: str) -> list[tuple[str, str]]:
    out, at = [], 0
    text = text.strip()
    while at < len(text):
        found = _TOKEN.match(text, at)
        if found is None or found.end() == at:
            raise QueryError(
                f"{what} {text!r}: cannot read it from {text[at : at + 20]!r} on; only "
                '"Key"="value" terms joined by AND/OR are understood'
            )
        quoted, join, equals, word = found.groups()
        if quoted is not None:
            out.append(("str", quoted.replace('\\"', '"')))
        elif join:
            out.append(("join", join))
        elif equals:
            out.append(("=", "="))
        else:
            out.append(("word", word))
        at = found.end()
    if not out:
        raise QueryError(f"{what} is empty")
    return out


def matches(metadata: dict[str, Any], terms: Terms) -> bool:
    return any(all(_equal(metadata.get(key), value) for key, value in each) for each in terms)


def _equal(actual: Any, wanted: str) -> bool:
    if isinstance(actual, list):
        return any(_equal(a, wanted) for a in actual)
    return actual is not None and str(actual) == wanted
