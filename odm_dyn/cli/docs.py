"""The request body in an operation's help: its schema's name and fields, and a valid example.

Fields are listed with type, required, allowed values and description, nested one level (the
fields of an object field, or of an array's object items); deeper levels are named, not shown,
so the help of a 244-operation spec stays readable. The example comes from the embedded
server's generator and is checked with the body's compiled schema before it is printed.

Layer: cli; imports ``api`` and ``server.examples`` (cli sits above both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..api.operations import deref, schema_summary

if TYPE_CHECKING:
    from ..api.plans import CallPlan
    from ..spec.document import Document

NAME_WIDTH = 24


def body_help(plan: CallPlan) -> str:
    """The ``request body`` section of an operation's help ("" when it takes no body)."""
    op = plan.op
    if op.body is None:
        return ""
    media = plan.body_media or next(iter(op.body.content), "")
    schema = op.body.content.get(media) or {}
    need = "required" if op.body.required else "optional"
    head = f"request body: {schema_summary(schema) if schema else 'any'} ({media or 'any media type'}, {need})"
    lines = [head]
    if op.body.description:
        lines.append("  " + " ".join(op.body.description.split()))
    lines += field_lines(op.document, schema, indent=2, depth=0)
    lines.append("  --body-example prints a valid example body")
    return "\n".join(lines)


def field_lines(document: Document, schema: Any, indent: int, depth: int) -> list[str]:
    """One line per property: ``name  type, required, allowed: …  description``; nested once."""
    resolved = merged(document, schema)
    if resolved.get("type") == "array" or "items" in resolved:
        resolved = merged(document, resolved.get("items") or {})
    required = set(resolved.get("required") or [])
    lines = []
    for name, sub in (resolved.get("properties") or {}).items():
        lines.append(" " * indent + field_line(document, name, sub, name in required))
        if depth == 0 and has_fields(document, sub):
            lines += field_lines(document, sub, indent + 2, depth + 1)
    return lines


def field_line(document: Document, name: str, schema: Any, required: bool) -> str:
    target = merged(document, schema)
    parts = [type_text(document, schema, target)]
    if required:
        parts.append("required")
    if target.get("readOnly"):
        parts.append("read-only: not sent")
    enum = target.get("enum") or (merged(document, target.get("items") or {}).get("enum"))
    if enum:
        parts.append("allowed: " + ", ".join(map(str, enum)))
    description = " ".join(str(target.get("description") or "").split())
    text = ", ".join(parts) + (f"  {description}" if description else "")
    return f"{name:<{NAME_WIDTH}} {text}"


def type_text(document: Document, schema: Any, target: dict[str, Any]) -> str:
    """``StudyQuery``, ``array of string``, ``integer (int64)``: the schema's name where it has one."""
    if isinstance(schema, dict) and "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = target.get("type") or ("object" if "properties" in target else "any")
    if isinstance(kind, list):
        kind = " | ".join(map(str, kind))
    if kind == "array":
        items = target.get("items") or {}
        return "array of " + type_text(document, items, merged(document, items))
    return f"{kind} ({target['format']})" if "format" in target else str(kind)


def has_fields(document: Document, schema: Any) -> bool:
    target = merged(document, schema)
    if "items" in target:
        target = merged(document, target.get("items") or {})
    return bool(target.get("properties"))


def merged(document: Document, schema: Any) -> dict[str, Any]:
    """The schema with its ``$ref`` followed and an ``allOf`` folded into one (properties united)."""
    found = deref(document, schema) if isinstance(schema, dict) else {}
    if not isinstance(found, dict):
        return {}
    if "allOf" not in found:
        return found
    out: dict[str, Any] = {key: value for key, value in found.items() if key != "allOf"}
    for part in found["allOf"]:
        part = merged(document, part)
        out["properties"] = {**(part.get("properties") or {}), **(out.get("properties") or {})}
        out["required"] = sorted(set(out.get("required") or []) | set(part.get("required") or []))
        for key, value in part.items():
            out.setdefault(key, value)
    return out


def body_example(plan: CallPlan) -> Any:
    """A body the operation's request check accepts; ``None`` when no candidate passes."""
    from ..server.examples import Generator, fits_with

    media = plan.body_media or ""
    check = plan.body_checks.get(media)
    schema = check.schema if check is not None else (plan.op.body.content.get(media) if plan.op.body else {}) or {}
    for choice in range(4):  # oneOf/anyOf alternatives, as the server tries them
        value = Generator(plan.op.document, choice, fits_with(check)).value(schema)
        if check is None or not check.violations(value):
            return value
    return None
