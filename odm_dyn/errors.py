"""Every error odm_dyn raises, in one tree.

::

    OdmError
    ├── SpecError                       the spec file is unreadable or invalid
    ├── RequestValidationError          the call breaks the spec; nothing was sent
    │   └── RequestTypeError            ... by a wrong type, a missing or unknown argument
    ├── ResponseValidationError         the server answered off-spec
    │   └── PaginationError             ... with pages that do not advance (a repeated cursor)
    ├── TransportError                  the transport failed
    │   ├── ApiConnectionError          refused, reset, DNS, TLS
    │   └── ApiTimeoutError             no answer in time
    ├── TaskTimeoutError                a waited-for task did not finish in time
    ├── TaskFailedError                 a waited-for task ended other than DONE (raise_on_failure)
    ├── JobTimeoutError                 a waited-for job did not finish in time
    ├── JobFailedError                  a waited-for job ended other than COMPLETED
    └── ApiException                    the server answered with an error status
        ├── BadRequestException            400
        ├── UnauthorizedException          401
        ├── ForbiddenException             403
        ├── NotFoundException              404
        ├── ConflictException              409
        ├── UnprocessableEntityException   422
        ├── TooManyRequestsException       429
        └── ServiceException               5xx

Status codes map to classes in one table, filled by ``ApiException.__init_subclass__``;
:func:`exception_for_status` falls back to the status family. No message or ``repr`` of
these errors holds a credential: request headers are never stored, and the
texts shown (messages, ``reason``, ``errors``, ``ApiException.body``) are scrubbed of the
client's credentials, which a server may echo in its body; ``ApiException.raw_body`` and
``ResponseValidationError.body`` stay the raw bytes received.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Mapping


class OdmError(Exception):
    """Base of every error odm_dyn raises.

    Every one pickles as what it holds (its message and attributes), not by calling its
    ``__init__`` again: a round trip through a process pool gives an equal error, with a
    message said once (a hint is not appended twice) and nothing it did not already hold.
    """

    def __reduce__(self) -> Any:
        return _restore, (type(self), self.args, dict(vars(self)))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, OdmError)
        return self.args == other.args and vars(self) == vars(other)

    __hash__ = Exception.__hash__  # errors stay usable in sets and as dict keys, by identity


class SpecError(OdmError):
    """A spec file is unreadable, unresolvable or invalid.

    ``file`` is the file at fault and ``pointer`` the JSON pointer of the fault inside it.
    """

    def __init__(self, message: str, *, file: str | None = None, pointer: str | None = None):
        self.file = file
        self.pointer = pointer
        where = ""
        if file:
            where = f" [{file}" + (f" at #{pointer}" if pointer is not None else "") + "]"
        super().__init__(message + where)


class RequestValidationError(OdmError, ValueError):
    """The call breaks the spec; nothing was sent.

    ``operation`` is the operationId, ``parameter`` the argument at fault (or ``None``),
    ``rule`` the broken rule (``required``, ``type``, ``enum``, …).
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        parameter: str | None = None,
        rule: str | None = None,
    ):
        self.operation = operation
        self.parameter = parameter
        self.rule = rule
        super().__init__(message)


class RequestTypeError(RequestValidationError, TypeError):
    """A wrong Python type, a missing argument or an unknown keyword; nothing was sent."""


class ResponseValidationError(OdmError):
    """The server answered off-spec: the data broke its schema or the status is undeclared."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        errors: list[str],
        hide: Callable[[str], str] | None = None,
    ):
        self.operation = operation
        self.status = status
        self.headers = dict(headers)
        self.body = body  # raw, as received
        self.errors = [hide(error) for error in errors] if hide else errors
        super().__init__(hide(message) if hide else message)


class PaginationError(ResponseValidationError):
    """A paged operation's answers do not advance: the cursor or offset came back unchanged,
    so following it would loop forever. Carries the last page's exchange like its parent."""


class TransportError(OdmError):
    """The request could not be carried out (connection, TLS, timeout, broken answer)."""


class ApiConnectionError(TransportError):
    """The server could not be reached: refused, reset, DNS or TLS failure."""


class ApiTimeoutError(TransportError):
    """The server did not answer in time; ``connect`` is true when the connection itself
    timed out (nothing was sent, so any method may be tried again)."""

    def __init__(self, message: str, *, connect: bool = False):
        self.connect = connect
        super().__init__(message)


class TaskTimeoutError(OdmError):
    """A waited-for task did not reach a terminal status in time; ``task`` is the last seen.

    ``pending`` holds the last state seen of every task still unfinished (a wait on several).
    """

    def __init__(self, message: str, *, task: Any = None, pending: tuple[Any, ...] = ()):
        self.task = task
        self.pending = tuple(pending) or ((task,) if task is not None else ())
        super().__init__(message)


class TaskFailedError(OdmError):
    """A waited-for task ended FAILED, KILLED or BLOCKED_BY_DEPENDENCY_FAILURE, and the wait
    was asked to raise (``raise_on_failure=True``); ``task`` is its final TaskInfo."""

    def __init__(self, message: str, *, task: Any = None):
        self.task = task
        self.status = getattr(task, "status", None)
        super().__init__(message)


class JobTimeoutError(OdmError):
    """A waited-for job did not reach a terminal status in time; ``job`` is the last Info seen."""

    def __init__(self, message: str, *, job: Any = None, pending: tuple[Any, ...] = ()):
        self.job = job
        self.pending = tuple(pending) or ((job,) if job is not None else ())
        super().__init__(message)


class JobFailedError(OdmError):
    """A waited-for job ended FAILED, STOPPED or ABANDONED.

    ``job`` is its final Info, ``output`` its output (when it could be read), ``status`` the
    final status and ``errors`` the output's ``errors`` (a list, empty when none were given).
    """

    def __init__(self, message: str, *, job: Any = None, output: Any = None):
        self.job = job
        self.output = output
        self.status = getattr(job, "status", None)
        self.errors = list(getattr(output, "errors", None) or [])
        super().__init__(message)


def _restore(cls: type[OdmError], args: tuple[Any, ...], state: dict[str, Any]) -> OdmError:
    """Unpickle an error as it was: its ``args`` and attributes, without running ``__init__``."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ApiException(OdmError):
    """The server answered with an error status.

    Carries ``operation``, ``status``, ``reason``, ``headers``, ``body`` (the body as text, as
    the generated client gives it), ``raw_body`` (the bytes received) and ``data`` (the decoded
    body: a model or JSON value where it could be decoded, else ``None``).
    """

    status_codes: ClassVar[tuple[int, ...]] = ()
    hint: ClassVar[str] = ""
    _by_status: ClassVar[dict[int, type[ApiException]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for code in cls.status_codes:
            ApiException._by_status[code] = cls

    def __init__(
        self,
        status: int | None = None,
        reason: str | None = None,
        *,
        operation: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        data: Any = None,
        description: str | None = None,
        hide: Callable[[str], str] | None = None,
    ):
        self.status = status
        self.reason = hide(reason) if hide and reason else reason
        self.operation = operation
        self.headers = dict(headers or {})
        self.raw_body = body  # as received
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        self.body = hide(text) if hide and text else text
        self.data = data
        message = self._message(description)
        super().__init__(hide(message) if hide else message)

    def _message(self, description: str | None) -> str:
        head = f"{self.operation}: " if self.operation else ""
        text = f"{head}HTTP {self.status} {self.reason or ''}".rstrip()
        detail = _body_excerpt(self.body)  # the text already scrubbed: a cut leaves no fragment of a token
        if description and description.strip().rstrip(".") not in detail:  # said once, not twice
            text += f": {description.strip()}"
        if detail:
            text += f" (server said: {detail})"
        if self.hint:
            text += f". {self.hint}"
        return text


def _body_excerpt(body: str | None, limit: int = 300) -> str:
    """The first ``limit`` characters of a body's text (scrubbed of credentials before the cut)."""
    if not body:
        return ""
    text = body.strip()
    return text[:limit] + ("…" if len(text) > limit else "")


class BadRequestException(ApiException):
    status_codes = (400,)
    hint = "Check the arguments against the operation's documentation (help() on the method)"


class UnauthorizedException(ApiException):
    status_codes = (401,)
    hint = (
        "Pass a valid token: Client(token=...) sends it in Genestack-API-Token, "
        "Client(access_token=...) in Authorization (or ODM_API_TOKEN / ODM_ACCESS_TOKEN with Client.from_env())"
    )


class ForbiddenException(ApiException):
    status_codes = (403,)
    hint = "The token is valid but its user lacks the permission this operation needs"


class NotFoundException(ApiException):
    status_codes = (404,)
    hint = "Check the id or path: the server has no object there, or does not serve this operation"


class ConflictException(ApiException):
    status_codes = (409,)


class UnprocessableEntityException(ApiException):
    status_codes = (422,)


class TooManyRequestsException(ApiException):
    status_codes = (429,)
    hint = "The server is rate limiting; wait before retrying (see the Retry-After header)"


class ServiceException(ApiException):
    status_codes = tuple(range(500, 600))
    hint = "The server failed; retry later or report it to the server's operators"


def exception_for_status(status: int) -> type[ApiException]:
    """The exception class for an HTTP error status, by the table, else the family."""
    return ApiException._by_status.get(status, ApiException)
