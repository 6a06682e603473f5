"""Command-line text → values of a parameter's schema, and the request body from ``--body``.

The converters give argparse the JSON type only (an integer, a list, an object); the spec's
validators, run by the client, check the value itself, so one rule stays in one place.

Layer: cli; imports ``api`` and ``spec`` lazily.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, Callable

from .output import UsageError

if TYPE_CHECKING:
    from ..api.plans import CallPlan


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def retry_count(text: str) -> int:
    """``--retries``: a whole number, 0 or more (a usage error here, before any client exists)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def resolved(schema: Any, op: Any) -> dict[str, Any]:
    """A nested schema (array items) with its ``$ref`` followed; parameters' own are followed at load."""
    from ..api.operations import deref

    found = deref(op.document, schema)
    return found if isinstance(found, dict) else {}


def schema_kind(schema: dict[str, Any]) -> str:
    """The JSON type a command-line value converts to (``""``: keep the text)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    if not kind and ("properties" in schema or "additionalProperties" in schema):
        kind = "object"
    return kind if isinstance(kind, str) else ""


def value_parser(schema: Any, op: Any) -> Callable[[str], Any]:
    """Text → value of the schema's type; the validator then checks the value itself."""
    schema = resolved(schema, op)
    kind = schema_kind(schema)
    if kind == "array":
        return list_parser(schema.get("items") or {}, op)
    parse = {"integer": parse_int, "number": parse_number, "boolean": parse_bool, "object": parse_json}.get(kind)
    return parse or str


def list_parser(items: Any, op: Any) -> Callable[[str], list[Any]]:
    """A JSON list, else comma-separated values, each parsed by the item schema."""
    parse_item = value_parser(items, op)

    def parse(text: str) -> list[Any]:
        if text.lstrip().startswith("["):
            return parse_json(text)
        return [parse_item(part) for part in text.split(",")]

    parse.__name__ = "list"  # argparse names the type in its error message
    return parse


def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def parse_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean (true or false): {text!r}")


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}): {text[:60]!r}") from None


def call_arguments(plan: CallPlan, ns: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``client.call`` from the parsed command line."""
    kwargs = {name[2:]: value for name, value in vars(ns).items() if name.startswith("p:") and value is not None}
    if getattr(ns, "body", None) is not None:
        kwargs["body"] = read_body(ns.body, plan.body_media or "")
    return kwargs


def read_body(value: str, media: str) -> Any:
    """``--body``: the text, ``@FILE`` or ``@-``; decoded as JSON where the body is JSON."""
    from ..spec.media import base_media, is_json_media

    data: str | bytes = value
    if value.startswith("@"):
        data = read_file(value[1:])
    base = base_media(media)
    if is_json_media(base) or base in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            return json.loads(data)
        except ValueError as error:
            raise UsageError(f"--body is not valid JSON: {error}") from None
    if base.startswith("text/") and isinstance(data, bytes):
        return data.decode("utf-8")
    return data


def read_file(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
