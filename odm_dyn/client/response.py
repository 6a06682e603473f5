"""From a raw answer to data: decode by media type, validate, map errors, build models."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Mapping

from ..api.plans import Api, CallPlan, ResponsePlan
from ..api.schemas import Violation
from ..errors import ApiException, ResponseValidationError, exception_for_status
from ..wire.answer import _decode_loosely, _match_media, check_answer, decode, media_of
from ..wire.messages import RawResponse

log = logging.getLogger("odm_dyn")
Hide = Callable[[str], str] | None  # takes credentials out of a text that is shown
UNKNOWN_ENUMS = ("warn", "strict")
_warned_enums: set[tuple[str, str, str]] = set()  # (operation, JSON path, value): warned once a process


# Not a dataclass: a client's start must not import them (tests/test_perf_guards.py). Repr, equality as before.
class ApiResponse:
    """What a ``*_with_http_info`` call returns."""

    __match_args__ = ("status_code", "headers", "data", "raw_data")
    __slots__ = (*__match_args__, "__weakref__")

    def __init__(self, status_code: int, headers: Mapping[str, str], data: Any, raw_data: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.data = data
        self.raw_data = raw_data

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, headers={self.headers!r}, "
            f"data={self.data!r}, raw_data={self.raw_data!r})"
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        mine = (self.status_code, self.headers, self.data, self.raw_data)
        return mine == (other.status_code, other.headers, other.data, other.raw_data)

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as the dataclass was


def read_response(
    api: Api, plan: CallPlan, raw: RawResponse, mode: str, hide: Hide = None, unknown_enums: str = "warn"
) -> Any:
    """The data of a success answer, or the exception of an error answer.

    ``hide`` takes the credentials out of the texts an error shows (its message, its reason).
    ``unknown_enums="warn"`` accepts a value an enum does not list (a server newer than its
    spec), with one warning per value; ``"strict"`` holds it to the spec like any other rule.
    """
    if raw.status >= 400:
        raise _api_exception(api, plan, raw, plan.response_for(raw.status), hide, check=mode != "off")
    if mode == "off":  # decode only: no check runs
        declared = plan.response_for(raw.status) if raw.status >= 200 else None
        data = decode(declared, raw, check=False)[0] if declared is not None else _decode_loosely(raw)
    else:
        declared, data, violations = check_answer(plan, raw)
        if violations and unknown_enums != "strict":
            violations = accept_unknown_enums(plan, violations, hide)
        if violations:
            _report(mode, plan, raw, violations, "; ".join(map(str, violations)), hide)
    # Off-spec data of a declared model schema is still a model ("warn" and "off" return what
    # came): its fields read as attributes, so callers (wait_for_task) see e.g. ``.status``.
    return data if declared is None else _as_model(api, declared, raw, data)


@contextlib.contextmanager
def open_sink(destination: str | os.PathLike[str] | IO[bytes]) -> Iterator[tuple[IO[bytes], Any]]:
    """Where a streamed download goes, and what the call returns for it.

    A path is written as ``<path>.part`` and renamed over the path only when the call succeeds,
    so an error answer or a broken connection never leaves a half file under the real name.
    """
    if hasattr(destination, "write"):
        yield destination, destination  # type: ignore[misc]
        return
    path = Path(destination)
    partial = path.with_name(path.name + ".part")
    try:
        with open(partial, "wb") as handle:
            yield handle, path
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def check_unknown_enums(mode: str) -> str:
    if mode not in UNKNOWN_ENUMS:
        raise ValueError(f"unknown_enums must be one of {', '.join(UNKNOWN_ENUMS)}, not {mode!r}")
    return mode


def accept_unknown_enums(plan: CallPlan, violations: list[Violation], hide: Hide = None) -> list[Violation]:
    """The violations left once values outside an enum are accepted, each value warned about once.

    A value of the wrong type breaks ``type`` too, so only a new value of the declared type passes.
    """
    kept = []
    for violation in violations:
        if violation.rule != "enum":
            kept.append(violation)
            continue
        key = (plan.op.operation_id, violation.path, repr(violation.value))
        if key in _warned_enums:
            continue
        _warned_enums.add(key)
        message = (
            f"{plan.op.operation_id}: the answer's {violation.path} is {violation.value!r}, a value its enum does "
            f"not list ({violation.message}); accepted as it is. Client(unknown_enums='strict') refuses it"
        )
        log.warning("%s", hide(message) if hide else message)
    return kept


def read_streamed(api: Api, plan: CallPlan, raw: RawResponse, mode: str, result: Any, hide: Hide = None) -> Any:
    """A streamed answer: the file (path or handle) on success, the usual exception on error.

    The body went to the file, not through the schema checks; the status and media type are
    still held to the spec.
    """
    if "streamed" not in raw.extra:  # only success answers are streamed: an error raises here
        return read_response(api, plan, raw, mode, hide)
    if mode == "off":
        return result
    declared = plan.response_for(raw.status)
    if declared is None or (declared.checks and _match_media(raw.media_type, declared.checks) is None):
        offered = ", ".join(declared.checks) if declared else "nothing"
        problem = (
            f"answered HTTP {raw.status} {raw.media_type or 'without a Content-Type'}; the spec declares {offered}"
        )
        _report(mode, plan, raw, [Violation("$", "content-type", problem)], problem, hide)
    return result


def _as_model(api: Api, declared: ResponsePlan, raw: RawResponse, data: Any) -> Any:
    # models and checks have the same keys (the response's media types): one look-up serves both
    model = declared.models.get(media_of(declared, raw)[1] or "", None)
    if model is None:
        return data
    kind, name = model
    if kind == "many" and isinstance(data, list):
        return [api.model_for(name, item).from_dict(item) if isinstance(item, dict) else item for item in data]
    return api.model_for(name, data).from_dict(data) if isinstance(data, dict) else data


# The advice of an off-spec answer, in Python's words; the command line swaps in its own.
OFF_SPEC_ADVICE = "Set validate_responses='warn' to accept it with a logged warning."


def _report(
    mode: str, plan: CallPlan, raw: RawResponse, violations: list[Violation], summary: str, hide: Hide = None
) -> None:
    op_id = plan.op.operation_id
    if mode == "off":
        return
    message = f"{op_id}: the server's answer (HTTP {raw.status}) breaks the spec: {summary}"
    if mode == "warn":
        log.warning("%s", hide(message) if hide else message)
        return
    raise ResponseValidationError(
        f"{message}. {OFF_SPEC_ADVICE}",
        operation=op_id,
        status=raw.status,
        headers=raw.headers,
        body=raw.content,
        errors=[str(v) for v in violations],
        hide=hide,
    )


def _api_exception(
    api: Api, plan: CallPlan, raw: RawResponse, declared: ResponsePlan | None, hide: Hide = None, check: bool = True
) -> ApiException:
    data: Any = None
    description = declared.description if declared else None
    if declared is not None and declared.checks and raw.content:
        decoded, violations = decode(declared, raw, check)
        if not violations:
            data = _as_model(api, declared, raw, decoded)
        else:
            data = decoded if not isinstance(decoded, bytes) else None
            summary = "; ".join(map(str, violations))
            log.warning(
                "%s: the error body (HTTP %d) breaks the spec: %s",
                plan.op.operation_id,
                raw.status,
                hide(summary) if hide else summary,
            )
    elif raw.content:
        loose = _decode_loosely(raw)
        data = None if isinstance(loose, bytes) else loose
    cls = exception_for_status(raw.status)
    return cls(
        raw.status,
        raw.reason,
        operation=plan.op.operation_id,
        headers=raw.headers,
        body=raw.content,
        data=data,
        description=description,
        hide=hide,
    )
