"""Equal values made while an Api is compiled are kept once, and shared.

A large generated spec says the same things thousands of times: the same ``id`` path parameter,
the same ``401`` response, the same set of argument names. Each would otherwise cost its own
objects in every operation's plan. Invariant: a shared value is never changed after it is made
(parameters, bodies and responses are named tuples; shared dicts, sets and tuples are only read;
a shared response plan fills only its cache of media keys), and a table of shared values lives
as long as one compile, not as long as the Api.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Hashable, TypeVar

T = TypeVar("T")

# A schema's content as one canonical text (keys sorted): equal schemas, equal texts. One
# encoder for every call: building one per ``json.dumps`` cost more than the encoding.
canonical_text: Callable[[Any], str] = json.JSONEncoder(sort_keys=True, default=repr).encode


class Shared:
    """One compile's table of shared values, by a key that says what makes two of them equal."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value made for ``key`` (by ``make``, the first time it is asked for)."""
        found = self._values.get(key)
        if found is None:
            found = self._values[key] = make()
        return found

    def same(self, value: T) -> T:
        """An equal hashable value made earlier (a frozenset, a tuple of names), else ``value``."""
        return self._values.setdefault((type(value), value), value)

    def mapping(self, items: dict[str, T]) -> dict[str, T]:
        """An earlier dict with the very same values under the same keys, in the same order, else ``items``."""
        return self._values.setdefault(("dict", tuple((k, id(v)) for k, v in items.items())), items)
