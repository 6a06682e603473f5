"""The shared type aliases, the timeout value, and what counts as file content in a body.

A timeout is normalised once, where a setting or a call option enters (``options.py`` checks
it and makes a :class:`Timeout`); everything below receives the value and never re-checks it.

Layer: the bottom; imports nothing of odm_dyn.
"""

from __future__ import annotations

import os
from typing import IO, Any, Callable, Iterable, Mapping, NamedTuple, Tuple, Union

#: Seconds, or ``(connect, read)`` seconds (a ``None`` part: the default), or ``None``: the default.
TimeoutSpec = Union[float, Tuple[Union[float, None], Union[float, None]], None]
#: Header names to values, as sent.
Headers = Mapping[str, str]
#: A request or answer body as it crosses the wire (``None``: no body at all).
Body = Union[bytes, None]
#: Where a download's body goes, chunk by chunk.
Sink = IO[bytes]
#: A spec file, folder or URL, or several of them.
#: What a wait calls after each poll: ``on_poll(answer, seconds since the wait began)``.
OnPoll = Callable[[Any, float], None]
SpecSource = Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]]]


class Timeout(NamedTuple):
    """Connect and read seconds, both finite: a timeout that always ends.

    A tuple, so ``connect, read = timeout`` and comparisons with plain pairs keep working.
    """

    connect: float
    read: float

    @classmethod
    def of(cls, value: TimeoutSpec | Timeout, default: Timeout) -> Timeout:
        """``value`` with every missing part taken from ``default`` (``None`` never means "forever")."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return default
        if isinstance(value, (tuple, list)):
            connect, read = value
            return cls(default.connect if connect is None else connect, default.read if read is None else read)
        return cls(value, value)


DEFAULT_TIMEOUT = Timeout(10.0, 60.0)


def is_file(value: Any) -> bool:
    """Whether a body value is file content: bytes, a path, an open file or a file tuple."""
    if isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[0], str):
        return is_file(value[1])
    return isinstance(value, (bytes, bytearray, memoryview, os.PathLike)) or hasattr(value, "read")
