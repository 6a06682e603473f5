"""Credentials kept out of every text that leaves the process: logs, messages, reports.

Layer: the bottom; imports nothing of odm_dyn.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable
from urllib.parse import quote, quote_plus

# --------------------------------------------------------------------------- credentials in logs


class _CredentialFilter(logging.Filter):
    """Replaces known credential values in the records of urllib3's loggers.

    urllib3 logs each request line at DEBUG, query included, so a credential sent in the query
    (an ``apiKey`` scheme ``in: query``) would reach every handler that shows DEBUG records.
    """

    LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager", "urllib3.util.retry")

    def __init__(self) -> None:
        super().__init__()
        self.values: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            if not self.values:
                for name in self.LOGGERS:
                    logging.getLogger(name).addFilter(self)
            known = set(self.values) | {value for value in values if value}
            self.values = tuple(sorted(known, key=len, reverse=True))  # longest first: no half-hidden value

    def hide(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.values:
            message = record.getMessage()
            hidden = self.hide(message)
            if hidden != message:
                record.msg, record.args = hidden, None
        return True


_credential_filter = _CredentialFilter()


def hide_in_logs(values: Iterable[str]) -> None:
    """Never let these values (credentials, as sent and percent-encoded) reach urllib3's log lines."""
    from urllib.parse import quote

    values = [value for value in values if value]
    _credential_filter.add(values + [quote(value, safe="") for value in values])


def hide_credentials(text: str) -> str:
    """The text with every value given to :func:`hide_in_logs` replaced."""
    return _credential_filter.hide(text)


def scrubber(credentials: Any) -> Callable[[str], str]:
    """A function that takes these credential values out of a text: as sent, without their
    ``Bearer``-style prefix, and percent-encoded; then every value :func:`hide_in_logs` knows."""
    values: set[str] = set()
    for value in credentials:
        words = str(value).split()
        for text in {str(value), words[-1] if words else ""} - {""}:
            values |= {text, quote(text, safe=""), quote_plus(text, safe="")}
    ordered = sorted(values, key=len, reverse=True)  # longest first: no half-hidden value

    def hide(text: str) -> str:
        for value in ordered:
            text = text.replace(value, "[redacted]")
        return hide_credentials(text)

    return hide
