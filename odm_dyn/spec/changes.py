"""What changed between two specs, and whether it breaks callers.

``diff(old, new)`` compares two spec sources (files, folders, URLs, or loaded documents)
operation by operation (by operationId): operations added or removed, parameters added,
removed or made required, request bodies and answers, and inside their schemas the properties,
types and enum values added or removed. Each change is marked breaking when code written
against ``old`` can fail against ``new``:

- anything removed (an operation, a parameter, a property, an enum value, a success answer),
- a type changed, a parameter or request property newly required,
- an enum value added to an answer (a client that validates answers with ``old`` refuses it).

``operation_fingerprints`` is the cheap form: one hash per operation of everything a caller
sees of it (its own text and every component it reaches), prose left out. The drift log line
and the stub check count with it.

Layer: ``spec``; imports ``errors`` and the modules of ``spec``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Iterator

from .document import Document, SpecSource
from .pointers import resolve_pointer

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PROSE = frozenset({"description", "summary", "example", "examples", "externalDocs", "title"})
_MAX_DEPTH = 16


@dataclass(frozen=True)
class Change:
    """One difference: where in which operation, what, and whether it breaks callers."""

    operation: str
    where: str  # "" for the operation itself, else e.g. "query parameter versionMessage"
    what: str
    breaking: bool

    def __str__(self) -> str:
        mark = "breaking" if self.breaking else "ok      "
        place = f" {self.where}:" if self.where else ""
        return f"{mark}  {self.operation}:{place} {self.what}"


@dataclass
class SpecDiff:
    """The changes from one spec to another; ``breaking`` when any of them breaks callers."""

    changes: list[Change]

    @property
    def breaking(self) -> bool:
        return any(change.breaking for change in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {"breaking": self.breaking, "changes": [asdict(change) for change in self.changes]}

    def __str__(self) -> str:
        if not self.changes:
            return "no changes to operations"
        count = sum(change.breaking for change in self.changes)
        lines = [str(change) for change in self.changes]
        return "\n".join(lines + [f"{len(self.changes)} changes, {count} breaking"])


# --------------------------------------------------------------------------- operations


@dataclass
class _Op:
    method: str
    path: str
    node: dict[str, Any]  # the operation, with the path item's parameters merged in
    document: Document


def operations_of(documents: Iterable[Document]) -> dict[str, _Op]:
    """Every operation by operationId (``METHOD path`` when it has none), in spec order."""
    found: dict[str, _Op] = {}
    for document in documents:
        for path, item in (document.data.get("paths") or {}).items():
            if not isinstance(item, dict):
                continue
            item = _deref(document, item)
            shared = item.get("parameters") or []
            for method in METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    key = op.get("operationId") or f"{method.upper()} {path}"
                    node = {**op, "parameters": _merged_parameters(document, shared, op.get("parameters") or [])}
                    found[key] = _Op(method, path, node, document)
    return found


def _merged_parameters(document: Document, shared: list, own: list) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in list(shared) + list(own):
        param = _deref(document, raw)
        if isinstance(param, dict):
            merged[(str(param.get("in")), str(param.get("name")))] = param
    return list(merged.values())


def _deref(document: Document, node: Any) -> Any:
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        ref = node["$ref"]
        if ref in seen:
            return {}
        seen.add(ref)
        try:
            node = resolve_pointer(document.data, ref[1:])
        except KeyError:
            return {}
    return node


# --------------------------------------------------------------------------- fingerprints


def operation_fingerprints(documents: Iterable[Document]) -> dict[str, str]:
    """A short hash per operation of everything a caller sees of it (prose left out)."""
    return {key: _fingerprint(op) for key, op in operations_of(documents).items()}


def _fingerprint(op: _Op) -> str:
    reached: dict[str, Any] = {}
    pending = [op.node]
    while pending:
        node = pending.pop()
        for ref in _refs(node):
            if ref not in reached and ref.startswith("#"):
                try:
                    reached[ref] = resolve_pointer(op.document.data, ref[1:])
                except KeyError:
                    reached[ref] = None
                pending.append(reached[ref])
    content = {"method": op.method, "path": op.path, "op": _without_prose(op.node), "refs": _without_prose(reached)}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _without_prose(node: Any, parent: str = "") -> Any:
    if isinstance(node, dict):
        # Inside "properties" a key is a property's name, never prose.
        return {k: _without_prose(v, k) for k, v in node.items() if parent == "properties" or k not in _PROSE}
    if isinstance(node, list):
        return [_without_prose(v) for v in node]
    return node


def fingerprint_changes(old: dict[str, str], new: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """Operations added, removed and changed between two sets of fingerprints."""
    added = [key for key in new if key not in old]
    removed = [key for key in old if key not in new]
    changed = [key for key in new if key in old and old[key] != new[key]]
    return added, removed, changed


# --------------------------------------------------------------------------- diff


def diff(old: SpecSource | list[Document], new: SpecSource | list[Document]) -> SpecDiff:
    """The changes from spec ``old`` to spec ``new`` (files, folders, URLs or loaded documents)."""
    before, after = operations_of(_documents(old)), operations_of(_documents(new))
    changes: list[Change] = []
    for key, op in before.items():
        if key not in after:
            changes.append(Change(key, "", f"operation removed ({op.method.upper()} {op.path})", True))
    for key, op in after.items():
        if key not in before:
            changes.append(Change(key, "", f"operation added ({op.method.upper()} {op.path})", False))
        else:
            changes.extend(Change(key, where, what, breaking) for where, what, breaking in _op_changes(before[key], op))
    return SpecDiff(changes)


def _documents(source: SpecSource | list[Document]) -> list[Document]:
    if isinstance(source, Document):
        return [source]
    if isinstance(source, list) and source and all(isinstance(item, Document) for item in source):
        return source
    from .load import load_documents

    return load_documents(source)  # type: ignore[arg-type]


_Found = Iterator[tuple[str, str, bool]]


def _op_changes(old: _Op, new: _Op) -> _Found:
    if (old.method, old.path) != (new.method, new.path):
        moved = f"moved from {old.method.upper()} {old.path} to {new.method.upper()} {new.path}"
        yield "", moved, True
    yield from _parameter_changes(old, new)
    yield from _body_changes(old, new)
    yield from _response_changes(old, new)


def _parameter_changes(old: _Op, new: _Op) -> _Found:
    before = {(p.get("in"), p.get("name")): p for p in old.node["parameters"]}
    after = {(p.get("in"), p.get("name")): p for p in new.node["parameters"]}
    for key, param in before.items():
        where = f"{key[0]} parameter {key[1]}"
        if key not in after:
            yield where, "removed", True
            continue
        if not param.get("required") and after[key].get("required"):
            yield where, "made required", True
        elif param.get("required") and not after[key].get("required"):
            yield where, "made optional", False
        pair = _Pair(old.document, new.document, "request")
        yield from pair.schema(param.get("schema"), after[key].get("schema"), where)
    for key, param in after.items():
        if key not in before:
            required = bool(param.get("required"))
            yield f"{key[0]} parameter {key[1]}", "added" + (", required" if required else ""), required


def _body_changes(old: _Op, new: _Op) -> _Found:
    before = _deref(old.document, old.node.get("requestBody"))
    after = _deref(new.document, new.node.get("requestBody"))
    if not isinstance(before, dict) or not before:
        if isinstance(after, dict) and after:
            required = bool(after.get("required"))
            yield "request body", "added" + (", required" if required else ""), required
        return
    if not isinstance(after, dict) or not after:
        yield "request body", "removed", True
        return
    if not before.get("required") and after.get("required"):
        yield "request body", "made required", True
    yield from _content_changes(_Pair(old.document, new.document, "request"), before, after, "request body")


def _response_changes(old: _Op, new: _Op) -> _Found:
    before = old.node.get("responses") or {}
    after = new.node.get("responses") or {}
    pair = _Pair(old.document, new.document, "response")
    for status, response in before.items():
        where = f"response {status}"
        if status not in after:
            yield where, "removed", str(status).startswith("2")
            continue
        yield from _content_changes(pair, _deref(old.document, response), _deref(new.document, after[status]), where)
    for status in after:
        if status not in before:
            yield f"response {status}", "added", False


def _content_changes(pair: _Pair, before: Any, after: Any, where: str) -> _Found:
    old_content = before.get("content") or {} if isinstance(before, dict) else {}
    new_content = after.get("content") or {} if isinstance(after, dict) else {}
    for media, entry in old_content.items():
        if media not in new_content:
            yield where, f"media type {media} removed", True
            continue
        old_schema = entry.get("schema") if isinstance(entry, dict) else None
        new_schema = new_content[media].get("schema") if isinstance(new_content[media], dict) else None
        yield from pair.schema(old_schema, new_schema, f"{where} {media}")
    for media in new_content:
        if media not in old_content:
            yield where, f"media type {media} added", False


class _Pair:
    """Compares a schema of the old spec with its counterpart in the new one."""

    def __init__(self, old: Document, new: Document, direction: str):
        self.old, self.new, self.direction = old, new, direction
        self.seen: set[tuple[str, str]] = set()

    def schema(self, old: Any, new: Any, where: str, depth: int = 0) -> _Found:
        refs = (_ref_of(old), _ref_of(new))
        if refs in self.seen and all(refs) or depth > _MAX_DEPTH:
            return  # a shared or recursive schema: compared once
        self.seen.add(refs)
        old, new = _deref(self.old, old), _deref(self.new, new)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        old_type, new_type = _types(old), _types(new)
        if old_type and new_type and old_type != new_type:
            yield where, f"type {'|'.join(old_type)} changed to {'|'.join(new_type)}", True
        yield from self._enum(old, new, where)
        yield from self._properties(old, new, where, depth)
        if "items" in old and "items" in new:
            yield from self.schema(old["items"], new["items"], f"{where}[]", depth + 1)

    def _enum(self, old: dict[str, Any], new: dict[str, Any], where: str) -> _Found:
        if not isinstance(old.get("enum"), list) or not isinstance(new.get("enum"), list):
            return
        for value in old["enum"]:
            if value not in new["enum"]:
                yield where, f"enum value {value!r} removed", True
        for value in new["enum"]:
            if value not in old["enum"]:
                yield where, f"enum value {value!r} added", self.direction == "response"

    def _properties(self, old: dict[str, Any], new: dict[str, Any], where: str, depth: int) -> _Found:
        before, after = old.get("properties") or {}, new.get("properties") or {}
        old_required, new_required = set(old.get("required") or ()), set(new.get("required") or ())
        for name, schema in before.items():
            at = f"{where} .{name}"
            if name not in after:
                yield at, "property removed", True
                continue
            if self.direction == "request" and name in new_required and name not in old_required:
                yield at, "property made required", True
            if self.direction == "response" and name in old_required and name not in new_required:
                yield at, "property no longer required (it may be absent)", True
            yield from self.schema(schema, after[name], at, depth + 1)
        for name in after:
            if name not in before:
                required = self.direction == "request" and name in new_required
                yield f"{where} .{name}", "property added" + (", required" if required else ""), required


def _ref_of(node: Any) -> str:
    return node["$ref"] if isinstance(node, dict) and isinstance(node.get("$ref"), str) else ""


def _types(schema: dict[str, Any]) -> tuple[str, ...]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return (kind,)
    if isinstance(kind, list):
        return tuple(sorted(str(k) for k in kind))
    return ()
