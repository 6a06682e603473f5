"""A task's or job's progress as people read it: the status line of ``--wait`` and of the demo.

On a terminal one line is rewritten in place, and between polls (which back off to seconds
apart) its elapsed time keeps ticking, so a long task never looks frozen. Anywhere else (a
log, a pipe) a line is written only when the status changes.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, TextIO

TICK_SECONDS = 0.2


class StatusLine:
    """An ``on_poll`` callback for :meth:`Client.wait_for_task` (or ``wait_for_job``: ``noun="job"``,
    ``id_attribute="job_exec_id"``); call :meth:`close` at the end (or use it as a context manager)."""

    def __init__(
        self,
        stream: TextIO,
        is_tty: Callable[[], bool] | None = None,
        tick: float = TICK_SECONDS,
        *,
        noun: str = "task",
        id_attribute: str = "id",
    ):
        self.stream = stream
        self.noun, self.id_attribute = noun, id_attribute
        stream_is_tty: Callable[[], bool] = getattr(stream, "isatty", lambda: False)
        self.tty = (is_tty or stream_is_tty)()
        self.tick = tick
        self._last: tuple[str, str] | None = None  # (task id, status) of the last poll
        self._polled_at = 0.0
        self._elapsed = 0.0
        self._width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, task: Any, elapsed: float) -> None:
        task_id = str(getattr(task, self.id_attribute, None) or "?")
        status = str(getattr(task, "status", None) or "?")
        with self._lock:
            changed = self._last is None or self._last[1] != status
            self._last, self._polled_at, self._elapsed = (task_id, status), time.monotonic(), elapsed
            if self.tty:
                self._redraw(elapsed)
            elif changed:
                self.stream.write(_text(self.noun, task_id, status, elapsed) + "\n")
                self.stream.flush()
        if self.tty and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="odm-dyn-status", daemon=True)
            self._ticker.start()

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()  # however the wait ended, the line is ended: what follows starts on its own line

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.tty and self._last is not None:
            self.stream.write("\n")
            self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(self.tick):
            with self._lock:
                self._redraw(self._elapsed + time.monotonic() - self._polled_at)

    def _redraw(self, elapsed: float) -> None:
        if self._last is None:
            return
        text = _text(self.noun, *self._last, elapsed)
        # Pad over the previous text: a shorter line must not leave its tail behind.
        self.stream.write("\r" + text.ljust(self._width))
        self._width = max(self._width, len(text))
        self.stream.flush()


def _text(noun: str, ident: str, status: str, elapsed: float) -> str:
    return f"{noun} {ident}: {status:<8} {elapsed:5.1f}s"
