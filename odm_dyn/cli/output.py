"""What the user sees besides the answer's data: messages on stderr, one line per failure.

Messages go to stderr, prefixed ``odm-dyn:``; the answer goes to stdout (JSON by default), so a
pipe gets only data. An expected failure is one line and an exit code, never a traceback.

Layer: cli; imports the bottom layer and ``api.model`` only (PyYAML for ``--output yaml``).
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from ..api.model import to_wire
from ..errors import OdmError, RequestValidationError
from ..exit_codes import exit_code


class UsageError(Exception):
    """A command line the CLI cannot act on (exit code 2)."""


def say(message: str) -> None:
    print(f"odm-dyn: {message}", file=sys.stderr, flush=True)


class Explained(Exception):
    """An :class:`OdmError` with its message in command-line words (see ``advice.py``)."""

    def __init__(self, error: OdmError, message: str):
        super().__init__(message)
        self.error = error
        self.message = message


def report(error: OdmError | Explained) -> int:
    """One line on stderr for an expected failure, and its exit code; never a traceback."""
    if isinstance(error, Explained):
        code, kind = exit_code(error.error)
        say(f"{kind}: {error.message}")
        return code
    code, kind = exit_code(error)
    if isinstance(error, RequestValidationError) and error.operation is None:
        kind = "error"  # a setting of the client, not a call the spec refused
    say(f"{kind}: {error}")
    return code


OUTPUTS = ("json", "yaml", "table", "tsv", "ndjson")


def emit(data: Any, output: str | None = None, stream: IO[str] | None = None) -> None:
    """The answer on stdout in the ``--output`` format (JSON by default: indented on a terminal,
    compact when piped); text and bytes bodies as they are, whatever the format."""
    stream = stream or sys.stdout
    if data is None:
        return
    if isinstance(data, (bytes, bytearray)):
        stream.flush()
        stream.buffer.write(bytes(data))  # type: ignore[union-attr]
        stream.buffer.flush()  # type: ignore[union-attr]
        return
    if isinstance(data, str):
        print(data, file=stream, flush=True)
        return
    print(render(to_wire(data), output or "json", stream.isatty()), file=stream, flush=True)


def render(wire: Any, output: str, tty: bool = False) -> str:
    """Wire data as text in one of :data:`OUTPUTS`."""
    if output == "yaml":
        import yaml

        return yaml.safe_dump(wire, sort_keys=False, allow_unicode=True).rstrip("\n")
    if output == "ndjson":
        items = wire if isinstance(wire, list) else [wire]
        return "\n".join(compact(item) for item in items)
    if output in ("table", "tsv"):
        from .tables import table_text, tsv_text

        return tsv_text(wire) if output == "tsv" else table_text(wire)
    return json.dumps(wire, indent=2, ensure_ascii=False) if tty else compact(wire)


def compact(wire: Any) -> str:
    return json.dumps(wire, separators=(",", ":"), ensure_ascii=False)


def configure_logging() -> None:
    """The library's warnings (retries, deprecations) as ``odm-dyn:`` lines on stderr."""
    import logging

    logger = logging.getLogger("odm_dyn")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("odm-dyn: %(message)s"))
        logger.addHandler(handler)
