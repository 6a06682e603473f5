"""The exit codes of ``odm-dyn``, shared by every command (``serve`` and ``demo`` too).

A module of its own so that ``server/`` and ``demo.py`` use the same numbers as the command
line without importing it. The table users read is ``cli.EXIT_CODES``.
"""

from __future__ import annotations

from .errors import (
    ApiException,
    JobFailedError,
    JobTimeoutError,
    OdmError,
    RequestValidationError,
    ResponseValidationError,
    SpecError,
    TaskFailedError,
    TaskTimeoutError,
    TransportError,
)

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2  # also: `serve` cannot listen on its --host/--port
EXIT_TRANSPORT = 3
EXIT_TASK_FAILED = 4  # a waited-for task or job ended failed
EXIT_TASK_TIMEOUT = 5  # ... was not finished in time
EXIT_OFF_SPEC = 6
EXIT_INTERRUPTED = 130


def exit_code(error: OdmError) -> tuple[int, str]:
    """The exit code of an expected failure, and the word for its kind, by error class."""
    for cls, code, kind in (
        (ApiException, EXIT_API_ERROR, "API error"),
        (RequestValidationError, EXIT_USAGE, "refused by the spec"),
        (SpecError, EXIT_USAGE, "spec error"),
        (TransportError, EXIT_TRANSPORT, "transport error"),
        (TaskTimeoutError, EXIT_TASK_TIMEOUT, "task timeout"),
        (JobTimeoutError, EXIT_TASK_TIMEOUT, "job timeout"),
        (TaskFailedError, EXIT_TASK_FAILED, "task failed"),
        (JobFailedError, EXIT_TASK_FAILED, "job failed"),
        (ResponseValidationError, EXIT_OFF_SPEC, "off-spec response"),
    ):
        if isinstance(error, cls):
            return code, kind
    return EXIT_API_ERROR, "error"
