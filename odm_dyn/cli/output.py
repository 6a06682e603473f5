"""What the user sees besides the answer's data: messages on stderr, one line per failure.

Messages go to stderr, prefixed ``odm-dyn:``; the answer goes to stdout (JSON by default), so a
pipe gets only data. An expected failure is one line and an exit code, never a traceback.

Layer: cli; imports the bottom layer and ``api.model`` only.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from ..api.model import to_wire
from ..errors import OdmError, UnauthorizedException
from ..exit_codes import exit_code


class UsageError(Exception):
    """A command line the CLI cannot act on (exit code 2)."""


def say(message: str) -> None:
    print(f"odm-dyn: {message}", file=sys.stderr, flush=True)


def report(error: OdmError) -> int:
    """One line on stderr for an expected failure, and its exit code; never a traceback."""
    code, kind = exit_code(error)
    message = str(error)
    if isinstance(error, UnauthorizedException):
        message += " On the command line: --token, --access-token, or ODM_API_TOKEN / ODM_ACCESS_TOKEN."
    say(f"{kind}: {message}")
    return code


def emit(data: Any, stream: IO[str] | None = None) -> None:
    """The answer on stdout: JSON (indented on a terminal), text and bytes as they are."""
    stream = stream or sys.stdout
    if data is None:
        return
    if isinstance(data, (bytes, bytearray)):
        stream.flush()
        stream.buffer.write(bytes(data))  # type: ignore[attr-defined]
        stream.buffer.flush()  # type: ignore[attr-defined]
        return
    if isinstance(data, str):
        print(data, file=stream, flush=True)
        return
    if stream.isatty():
        text = json.dumps(to_wire(data), indent=2, ensure_ascii=False)
    else:
        text = json.dumps(to_wire(data), separators=(",", ":"), ensure_ascii=False)
    print(text, file=stream, flush=True)


def configure_logging() -> None:
    """The library's warnings (retries, deprecations) as ``odm-dyn:`` lines on stderr."""
    import logging

    logger = logging.getLogger("odm_dyn")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("odm-dyn: %(message)s"))
        logger.addHandler(handler)
