"""The embedded server's WSGI application: spec-driven routing, validation, auth and answers.

Everything that depends on the spec (routes, compiled checks, security requirements,
example bodies) is prepared once in :class:`ServerApp`'s constructor; a request only looks
things up and runs precompiled checks. Each request goes::

    route (404/405) → parameters and body (400) → security (401) → curator work (403) → Prefer: code=
    → handler or example → the answer checked against the spec → one log line
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable, Iterable

from ..api.plans import Api, CallPlan
from ..spec.media import is_json_media
from ..wire.routing import Router, raw_path_of
from .auth import Credential, authenticate, credentials_of, guidance
from .examples import NoValidExample, response_example
from .negotiation import choose_media, is_table_media, render
from .params import MAX_BODY_BYTES, BadBody, BodyTooLarge, Problem, Reading, read_body_bytes, read_request
from .permissions import ACCESS_ALL_DATA, curator_work
from .specfiles import SPEC_PREFIX, SpecFiles
from .store import Store, User

log = logging.getLogger("odm_dyn.server")

JSON = "application/json"
_VALID_ANSWERS_KEPT = 4096
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
_PREFER_CODE = re.compile(r"(?:^|[\s,;])code\s*=\s*\"?(\d{3})\b", re.IGNORECASE)


@dataclass
class Answer:
    status: int
    data: Any = None  # a JSON value, str or bytes; None for no body
    media: str = JSON
    headers: tuple[tuple[str, str], ...] = ()
    encoded: bytes | None = None  # the body's bytes, once made


@dataclass
class Call:
    """What a handler gets: the checked request and who made it."""

    plan: CallPlan
    params: dict[str, Any]  # wire name → converted value
    body: Any
    user: User
    store: Store
    task_seconds: float
    prefer: str = ""  # the request's Prefer header (task-status=FAILED ends a task so)


Handler = Callable[[Call], Answer]


# --------------------------------------------------------------------------- answers


def error(status: int, message: str, **extra: Any) -> Answer:
    """The JSON error body every refusal carries: status, reason phrase, what to do."""
    return Answer(status, {"status": status, "error": HTTPStatus(status).phrase, "message": message, **extra})


# --------------------------------------------------------------------------- per operation


@dataclass
class Prepared:
    """One operation made ready for serving."""

    plan: CallPlan
    handler: Handler | None
    security: list[list[Credential]]
    guidance: str
    examples: dict[str, dict[str, Any]]  # declared status → media type → body value (or why there is none)
    success: str | None  # the first declared 2xx status, the one an example answer takes
    curator_work: str | None = None  # what needs ACCESS_ALL_DATA here (None: any user may call)

    def example(self, status: str, accept: str | None = None) -> Answer:
        """The declared answer for a status, in the media type ``Accept`` prefers."""
        found = self.examples.get(status)
        code = _status_number(status, self.plan)
        if not found:
            return Answer(code)
        media = choose_media(list(found), accept)
        value = found[media]
        if isinstance(value, Exception):
            return error(500, f"the server cannot make a schema-valid example: {value}")
        return Answer(code, value, media)


def _status_number(status: str, plan: CallPlan) -> int:
    if status.isdigit():
        return int(status)
    if status.endswith("XX"):
        return int(status[0]) * 100
    return 500 if any(s.startswith("2") for s in plan.responses) else 200  # "default"


def _examples(plan: CallPlan) -> dict[str, dict[str, Any]]:
    """Per declared status and media type, a body that fits the spec (or why none could be made).

    A table type (TSV, CSV) offered beside JSON carries the JSON answer's data, as rows.
    """
    out: dict[str, dict[str, Any]] = {}
    for status, response in plan.responses.items():
        if not response.checks:
            continue
        values = {media: _example(plan, response, media) for media in response.checks}
        data = next((v for m, v in values.items() if is_json_media(m) and not isinstance(v, Exception)), None)
        out[status] = {
            media: render(data, media) if data is not None and is_table_media(media) else render(value, media)
            for media, value in values.items()
        }
    return out


def _example(plan: CallPlan, response: Any, media: str) -> Any:
    try:
        return response_example(plan.op, response.status, media, response.checks[media])
    except NoValidExample as exc:
        log.warning("%s", exc)
        return exc


# --------------------------------------------------------------------------- the app


class ServerApp:
    """The WSGI application for one compiled spec and one store."""

    token: str | None = None  # the curator token make_app made, when it made one

    def __init__(
        self,
        api: Api,
        store: Store,
        *,
        task_seconds: float = 5.0,
        handlers: dict[str, Handler] | None = None,
        overlay: Any = None,
        import_root: str | os.PathLike[str] | None = None,
    ):
        self.api = api
        self.store = store
        self.task_seconds = task_seconds
        if handlers is None:  # the behaviours (server/behaviours/): one per operation that has one
            from .behaviours import Context, bind

            root = Path(import_root).expanduser() if import_root is not None else None
            handlers = bind(api, Context(store, task_seconds, root), overlay)
        self.router = Router(api.plans.values())
        self.prepared = {op_id: self._prepare(plan, handlers.get(op_id)) for op_id, plan in api.plans.items()}
        self._valid_answers: dict[tuple[str, int, str, bytes], bool] = {}
        self.spec_files = SpecFiles(api.documents)  # served under /swagger/yaml/, as ODM does

    def _prepare(self, plan: CallPlan, handler: Handler | None) -> Prepared:
        texts = [r.description for s, r in plan.responses.items() if s == "401"]
        return Prepared(
            plan=plan,
            handler=handler,
            security=credentials_of(self.api.security_schemes, plan.op.security),
            guidance=guidance(texts + _scheme_guidance(self.api, plan)),
            examples=_examples(plan),
            success=min((s for s in plan.responses if s.startswith("2")), default=None),
            curator_work=curator_work(plan),
        )

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        op_id = "-"
        path = raw_path_of(environ)  # once: the answer and the log line both name it
        try:
            answer, op_id = self._answer(environ, path)
        except BodyTooLarge:
            answer = error(413, f"the request body is too large (at most {MAX_BODY_BYTES} bytes)")
            answer.headers = (("Connection", "close"),)
        except BadBody as exc:  # the connection cannot carry another request: close it
            answer = error(400, str(exc))
            answer.headers = (("Connection", "close"),)
        except Exception:  # a bug must still answer, and leave a trace in the log
            log.exception("unexpected error in %s", op_id)
            answer = error(500, "the server failed unexpectedly; see its log")
        body, headers = _encode(answer)
        start_response(
            _STATUS_LINES.get(answer.status) or f"{answer.status} {HTTPStatus(answer.status).phrase}", headers
        )
        _log_request(environ, path, answer.status, op_id, started)
        return [body]

    def _answer(self, environ: dict, path: str) -> tuple[Answer, str]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path.startswith(SPEC_PREFIX):
            status, data, media, headers = self.spec_files.answer(method, path, environ.get("HTTP_IF_NONE_MATCH"))
            return Answer(status, data, media, headers), "spec file"
        found = self.router.match(path)
        if found is None:
            _drain(environ)
            return error(404, f"no operation of the spec serves the path {path}"), "-"
        route, _ = found
        plan = route.plans.get(method)
        if plan is None:
            _drain(environ)
            answer = error(405, f"{method} is not declared for {route.template}; allowed: {route.allow}")
            answer.headers = (("Allow", route.allow),)
            return answer, "-"
        prepared = self.prepared[plan.op.operation_id]
        parsed = read_request(plan, environ, path)
        return self._serve(prepared, environ, parsed), plan.op.operation_id

    def _serve(self, prepared: Prepared, environ: dict, parsed: Reading) -> Answer:
        op_id = prepared.plan.op.operation_id
        if parsed.problems:
            return _bad_request(op_id, parsed.problems)
        # Authentication comes before Prefer: a request with no or a bad token is a 401 whatever
        # it prefers, so a contract test whose credentials fail cannot pass on a Prefer'd answer.
        user = authenticate(prepared.security, environ, self.store)
        if user is None:
            return self._checked(prepared, error(401, prepared.guidance))
        if prepared.curator_work and ACCESS_ALL_DATA not in user.permissions:
            return self._checked(prepared, _forbidden(prepared, user))
        prefer = _preferred_status(environ.get("HTTP_PREFER", ""))
        if prefer is not None:
            return self._preferred(prepared, prefer, environ.get("HTTP_ACCEPT"))
        if prepared.handler is None:
            if prepared.success is None:
                return _no_success(prepared)
            return prepared.example(prepared.success, environ.get("HTTP_ACCEPT"))
        call = Call(
            prepared.plan,
            parsed.params,
            parsed.body,
            user,
            self.store,
            self.task_seconds,
            environ.get("HTTP_PREFER", ""),
        )
        return self._checked(prepared, prepared.handler(call))

    def _preferred(self, prepared: Prepared, code: int, accept: str | None = None) -> Answer:
        """``Prefer: code=NNN``: the declared answer for that status, so clients can try error paths."""
        plan = prepared.plan
        declared = plan.response_for(code)
        if declared is None:
            message = (
                f"Prefer: code={code} is not declared for {plan.op.operation_id}; declared: {', '.join(plan.responses)}"
            )
            return error(400, message)
        answer = prepared.example(declared.status, accept)
        answer.status = code
        if answer.data is None and code >= 400:
            return self._checked(prepared, error(code, f"answered {code} as the Prefer header asked"))
        return answer

    def _checked(self, prepared: Prepared, answer: Answer) -> Answer:
        """The answer, if the spec allows it; a server bug becomes a logged 500, never an off-spec answer."""
        plan = prepared.plan
        declared = plan.response_for(answer.status)
        if declared is None or not declared.checks or answer.data is None:
            return answer  # nothing declared to hold it to (a body on an error is still welcome)
        if answer.media not in declared.checks:
            return _declared_error_body(prepared, answer)
        check = declared.checks[answer.media]
        if check is None or not is_json_media(answer.media):
            return answer  # a table or a file: its schema describes the data, not these bytes
        # A check costs far more than the rest of a request; an answer already found valid
        # (a task polled again, unchanged) is remembered by its bytes instead of checked again.
        answer.encoded = encode_data(answer)
        key = (plan.op.operation_id, answer.status, answer.media, answer.encoded)
        if key in self._valid_answers:
            return answer
        violations = check.violations(answer.data)
        if not violations:
            if len(self._valid_answers) >= _VALID_ANSWERS_KEPT:
                self._valid_answers.clear()
            self._valid_answers[key] = True
            return answer
        if answer.status >= 400:
            return _declared_error_body(prepared, answer)
        log.error("%s: answer breaks the spec: %s", plan.op.operation_id, "; ".join(map(str, violations)))
        return error(500, "the server made an answer that breaks its own spec; see its log")


def _declared_error_body(prepared: Prepared, answer: Answer) -> Answer:
    """An error whose status declares a body of its own shape: send the spec's example of it."""
    declared = prepared.plan.response_for(answer.status)
    status = declared.status if declared else str(answer.status)
    replacement = prepared.example(status)
    replacement.status = answer.status
    replacement.headers = answer.headers
    return replacement


def _forbidden(prepared: Prepared, user: User) -> Answer:
    message = f"user {user.name!r} lacks the {ACCESS_ALL_DATA} permission needed to {prepared.curator_work}"
    if "/scim/" in prepared.plan.op.path:
        return Answer(403, {"schemas": [SCIM_ERROR], "status": "403", "detail": message}, "application/scim+json")
    return error(403, message)


def _no_success(prepared: Prepared) -> Answer:
    """An operation the spec gives no success answer (a retired one: only 410): its declared answer."""
    declared = sorted(prepared.plan.responses)
    if not declared:
        return Answer(204)
    answer = prepared.example(declared[0])
    if answer.data is None and answer.status >= 400:
        return error(answer.status, prepared.plan.responses[declared[0]].description or "no success is declared")
    return answer


def _bad_request(op_id: str, problems: list[Problem]) -> Answer:
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return error(
        400,
        f"{op_id}: {first.location} {first.name!r}: {first.message}{more}",
        operation=op_id,
        errors=[p.to_dict() for p in problems],
    )


def _preferred_status(header: str) -> int | None:
    found = _PREFER_CODE.search(header) if header else None
    return int(found.group(1)) if found else None


def _scheme_guidance(api: Api, plan: CallPlan) -> list[str]:
    """Without a 401 description, name the headers that would be accepted."""
    names = sorted({name for requirement in plan.op.security for name in requirement})
    where = [f"{(api.security_schemes.get(n) or {}).get('name', 'Authorization')}" for n in names]
    return [f"The user is not authenticated: send a valid token in {' or '.join(where)}."] if where else []


def _drain(environ: dict) -> None:
    read_body_bytes(environ)  # an unread body would be taken for the next request on this connection


def _encode(answer: Answer) -> tuple[bytes, list[tuple[str, str]]]:
    headers = list(answer.headers)
    body = b"" if answer.status in (204, 304) else encode_data(answer)
    if body:
        headers.append(("Content-Type", answer.media))
    headers.append(("Content-Length", str(len(body))))
    return body, headers


def encode_data(answer: Answer) -> bytes:
    if answer.encoded is not None:
        return answer.encoded
    if answer.data is None:
        return b""
    if isinstance(answer.data, bytes):
        return answer.data
    if isinstance(answer.data, str) and not is_json_media(answer.media):
        return answer.data.encode("utf-8")
    return _JSON.encode(answer.data).encode("utf-8")


# Made once: json.dumps with options builds an encoder per call, and HTTPStatus(code) is an
# enum look-up through Python code; both ran on every answer.
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


def _log_request(environ: dict, path: str, status: int, op_id: str, started: float) -> None:
    # Only the method and the path: never a header (tokens live there) nor the query string.
    if log.isEnabledFor(logging.INFO):
        elapsed = (time.perf_counter() - started) * 1000
        args = (environ.get("REMOTE_ADDR", "-"), environ.get("REQUEST_METHOD", "-"), path, status, elapsed, op_id)
        # The record made as log.info makes it, less the walk up the stack for the caller's
        # place (a third of the line's cost on every request): the place is always this one.
        record = log.makeRecord(log.name, logging.INFO, __file__, _LOG_LINE, '%s "%s %s" %d %.1fms %s', args, None)
        record.funcName = "_log_request"
        log.handle(record)


_LOG_LINE = _log_request.__code__.co_firstlineno
