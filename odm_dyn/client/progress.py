"""``progress=True``: how waits and ``paginate`` show how far they are.

In a terminal and in Jupyter, a bar from tqdm's ``auto`` front end (a text bar on a terminal,
a widget in a notebook) with the elapsed time, the status or the pages read. Anywhere else (a
log file, a pipe, a CI job) a bar's carriage returns are noise: a plain line is written when
something changes. ``progress`` may also be a text stream to write to instead of stderr.
tqdm is imported only when a bar is drawn.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator, TextIO

from ..types import OnPoll


def _stream(progress: Any) -> TextIO:
    return progress if hasattr(progress, "write") else sys.stderr


def _in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def wants_bar(stream: TextIO) -> bool:
    """A bar in a terminal or a notebook; plain lines anywhere else."""
    return _in_notebook() or bool(getattr(stream, "isatty", lambda: False)())


def _bar(stream: TextIO, **options: Any) -> Any:
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    return tqdm(file=stream, dynamic_ncols=True, **options)


class _Quiet:
    """No progress shown: the user's ``on_poll`` only."""

    def __init__(self, on_poll: OnPoll | None):
        self.on_poll = on_poll

    def polled(self, answer: Any, elapsed: float) -> None:
        if self.on_poll is not None:
            self.on_poll(answer, elapsed)

    def finished(self, answer: Any) -> None:
        pass


class _WaitShown(_Quiet):
    """A wait's progress: the status of one, or how many of several have finished."""

    def __init__(self, on_poll: OnPoll | None, stream: TextIO, noun: str, total: int, id_attribute: str):
        super().__init__(on_poll)
        self.stream, self.noun, self.total, self.id_attribute = stream, noun, total, id_attribute
        self.done = 0
        self.last: dict[Any, Any] = {}
        self.bar = _bar(stream, total=total if total > 1 else None, unit=noun, desc=noun) if wants_bar(stream) else None

    def polled(self, answer: Any, elapsed: float) -> None:
        super().polled(answer, elapsed)
        ident, status = getattr(answer, self.id_attribute, "?"), getattr(answer, "status", None) or "?"
        changed = self.last.get(ident) != status
        self.last[ident] = status
        text = self._text(ident, status)
        if self.bar is not None:
            self.bar.set_description_str(text)
        elif changed and self.total == 1:  # several: a line as each finishes, not per status
            self.stream.write(f"{text} ({elapsed:.1f}s)\n")
            self.stream.flush()

    def finished(self, answer: Any) -> None:
        self.done += 1
        if self.bar is not None and self.total > 1:
            self.bar.update(1)
        elif self.bar is None and self.total > 1:
            ident, status = getattr(answer, self.id_attribute, "?"), getattr(answer, "status", None) or "?"
            self.stream.write(self._text(ident, status) + "\n")
            self.stream.flush()

    def _text(self, ident: Any, status: str) -> str:
        head = f"{self.noun} {ident}: {status}"
        return head if self.total == 1 else f"{head} ({self.done}/{self.total} finished)"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@contextlib.contextmanager
def wait_progress(progress: Any, subject: Any, total: int, on_poll: OnPoll | None) -> Iterator[_Quiet]:
    """What a wait calls after each poll (``polled``) and each finished id (``finished``)."""
    if not progress:
        yield _Quiet(on_poll)
        return
    shown = _WaitShown(on_poll, _stream(progress), subject.noun, total, subject.id_attribute)
    try:
        yield shown
    finally:
        shown.close()


class PageProgress:
    """``paginate(..., progress=True)``: items and pages read, of the total when the server says it."""

    def __init__(self, progress: Any, label: str):
        self.stream = _stream(progress)
        self.label = label
        self.items = self.pages = 0
        self.bar = _bar(self.stream, unit="item", desc=label) if wants_bar(self.stream) else None

    def page(self, count: int, total: int | None) -> None:
        self.items += count
        self.pages += 1
        if self.bar is not None:
            if total is not None and self.bar.total != total:
                self.bar.total = total
            self.bar.set_postfix_str(f"{self.pages} pages", refresh=False)
            self.bar.update(count)
            return
        of = f" of {total}" if total is not None else ""
        self.stream.write(f"{self.label}: page {self.pages}, {self.items}{of} items\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
