"""Batched log output for ``odm-dyn serve``: one log line per request, without one write each.

Under load, writing each request's line to stderr as it is made costs the server about a
sixth of its time per answer: every write is a system call that hands the interpreter lock to
another request thread. While the server runs, the stderr handlers of its loggers write into
a :class:`BatchedStream` instead, which passes what it gathered on to stderr every
``FLUSH_SECONDS`` and once more when the server stops, so no line is lost and none is late by
more than that.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from typing import IO, Iterator

FLUSH_SECONDS = 0.1


class LineFormatter(logging.Formatter):
    """``HH:MM:SS message``, as ``Formatter("%(asctime)s %(message)s", "%H:%M:%S")`` makes it,
    for less: the clock text is made once a second, not on every request's line, and the
    common case (no traceback) skips the generic %-style formatting of the whole record."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s", "%H:%M:%S")
        self._clock: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        second, text = self._clock
        if int(record.created) != second:  # the format has no part finer than a second
            second, text = int(record.created), super().formatTime(record, datefmt)
            self._clock = (second, text)  # one assignment: threads see the old pair or the new
        return text

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        return f"{record.asctime} {record.message}"


class BatchedStream:
    """A text stream that gathers writes and hands them on to ``target`` in batches."""

    def __init__(self, target: IO[str], every: float = FLUSH_SECONDS):
        self.target = target
        self.every = every
        self._parts: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="odm-dyn-log", daemon=True)
        self._thread.start()

    def write(self, text: str) -> int:
        with self._lock:
            self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        """Called by the logging handler after each record: the batch is written on the timer."""

    def drain(self) -> None:
        with self._lock:
            text, self._parts = "".join(self._parts), []
        if text:
            self.target.write(text)
            self.target.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.drain()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.drain()


@contextlib.contextmanager
def batched_stderr(*loggers: logging.Logger) -> Iterator[None]:
    """While inside, the stderr handlers of these loggers (and their parents) write in batches."""
    handlers = {
        handler
        for logger in loggers
        for handler in _handlers_of(logger)
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stderr, sys.__stderr__)
    }
    if not handlers:
        yield
        return
    stream = BatchedStream(sys.stderr)
    previous = {handler: handler.setStream(stream) for handler in handlers}
    try:
        yield
    finally:
        for handler, old in previous.items():
            handler.setStream(old)
        stream.close()


def _handlers_of(logger: logging.Logger) -> Iterator[logging.Handler]:
    current: logging.Logger | None = logger
    while current is not None:
        yield from current.handlers
        current = current.parent if current.propagate else None
