"""Binding a call's arguments to the operation's parameters, and checking them."""

from __future__ import annotations

import logging
from typing import Any

from ..api.operations import OPTION_NAMES
from ..api.plans import CallPlan
from ..errors import RequestTypeError, RequestValidationError
from ..names import did_you_mean
from ..spec.media import is_json_media
from ..wire.bodies import validation_view
from .options import check_options

log = logging.getLogger("odm_dyn")

# --------------------------------------------------------------------------- binding


def bind_arguments(plan: CallPlan, args: tuple, kwargs: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """Arguments by Python name, and per-call options; refuses what the signature does not."""
    op_id = plan.op.operation_id
    if len(args) > len(plan.positional):
        raise RequestTypeError(
            f"{plan.op.python_name}() takes {len(plan.positional)} positional argument(s) "
            f"({', '.join(plan.positional) or 'none'}) but {len(args)} were given",
            operation=op_id,
            rule="signature",
        )
    values = {name: value for name, value in zip(plan.positional, args) if value is not None}
    options: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name in plan.allowed:
            if name in values:
                raise RequestTypeError(
                    f"{plan.op.python_name}() got two values for {name!r}",
                    operation=op_id,
                    parameter=name,
                    rule="signature",
                )
            if value is not None:
                values[name] = value
        elif name in OPTION_NAMES:
            options[name] = value
        else:
            raise _unknown_argument(plan, name)
    if options:
        check_options(plan, options)
    missing = plan.required - values.keys()
    if missing or (plan.op.body is not None and plan.op.body.required and "body" not in values):
        name = sorted(missing)[0] if missing else "body"
        raise RequestTypeError(
            f"{op_id}: the required argument {name!r} is missing; nothing was sent",
            operation=op_id,
            parameter=name,
            rule="required",
        )
    return values, options


def _unknown_argument(plan: CallPlan, name: str) -> RequestTypeError:
    known = sorted(plan.allowed)
    hint = did_you_mean(name, known, n=1, quote=True) or f"; it takes {', '.join(known) or 'no arguments'}"
    return RequestTypeError(
        f"{plan.op.operation_id}: unknown argument {name!r}{hint}",
        operation=plan.op.operation_id,
        parameter=name,
        rule="unknown",
    )


def check_request(plan: CallPlan, values: dict[str, Any], mode: str, media: str | None = None) -> None:
    """Run the compiled checks; in strict mode the first fault raises, nothing is sent.

    ``values["body"]``, if any, is wire data (:func:`~odm_dyn.model.to_wire`) sent as ``media``.
    """
    op = plan.op
    for name, value in values.items():
        if name == "body":
            media = media or ""
            check = plan.body_checks.get(media)
            value = value if is_json_media(media) else validation_view(value)
            param_label = "body"
        else:
            check = plan.checks[name]
            param_label = name
        violations = check.violations(value, param_label) if check is not None else []
        if violations:
            first = violations[0]
            message = f"{op.operation_id}: argument {param_label!r} {first.message} (at {first.path}); nothing was sent"
            if mode == "warn":
                log.warning("%s", message)
                continue
            error = RequestTypeError if first.rule == "type" else RequestValidationError
            raise error(message, operation=op.operation_id, parameter=param_label, rule=first.rule)


def body_media(plan: CallPlan, requested: str | None) -> str:
    """The media type a body is sent as: ``_content_type=`` if the operation takes it, else JSON first."""
    if requested is None:
        return plan.body_media or ""
    offered = list(plan.op.body.content) if plan.op.body is not None else []
    if requested not in offered:
        raise RequestValidationError(
            f"{plan.op.operation_id}: _content_type={requested!r} is not accepted; choose one of "
            f"{', '.join(offered) or 'none (the operation takes no body)'}",
            operation=plan.op.operation_id,
            parameter="_content_type",
            rule="enum",
        )
    return requested


_warned: set[tuple[str, str]] = set()


def warn_deprecated(plan: CallPlan, values: dict[str, Any]) -> None:
    """Log a warning, once per process for each deprecated operation or parameter used."""
    op_id = plan.op.operation_id
    used = [name for name in plan.deprecations if name in values or name == ""]
    for name in used:
        if (op_id, name) in _warned:
            continue
        _warned.add((op_id, name))
        what = f"{op_id} is deprecated" if not name else f"{op_id}: parameter {name!r} is deprecated"
        log.warning("%s by the spec; it may be removed from the API", what)
