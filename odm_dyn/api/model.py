"""Model classes made from ``components/schemas`` at load time.

A model wraps the decoded JSON object it came from, keyed by wire names, and keeps every field
the server sent, declared or not. Declared properties read as snake_case attributes;
``to_dict()`` gives the wire-named dict back (readOnly fields included: they are what the
server said). Everything the library itself owns on a model starts with ``_`` or is one of
the few generated-client method names, so a spec's property names never clash with it.
"""

from __future__ import annotations

import copy
import json
import keyword
from typing import Any, ClassVar

from ..names import snake_case
from ..types import is_file


class Model:
    """Base of every generated model class."""

    _schema_name: ClassVar[str] = "Model"
    _attributes: ClassVar[dict[str, str]] = {}  # snake_case attribute → wire name
    _nested: ClassVar[dict[str, Any]] = {}  # wire name → ("one"|"many", model name)
    _models: ClassVar[dict[str, type[Model]]] = {}  # the models of the same spec, by name

    __slots__ = ("_data",)

    def __init__(self, **fields: Any):
        data: dict[str, Any] = {}
        for name, value in fields.items():
            wire = self._attributes.get(name, name)
            data[wire] = to_wire(value)
        object.__setattr__(self, "_data", data)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Model | None:
        """A model over a wire-named dict (kept as given, extra fields included)."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__}.from_dict() needs a dict, not {type(data).__name__}")
        instance = cls.__new__(cls)
        object.__setattr__(instance, "_data", data)
        return instance

    @classmethod
    def from_json(cls, text: str | bytes) -> Model | None:
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        """The wire-named dict, with every field the server sent."""
        return copy.deepcopy(self._data)

    def to_json(self) -> str:
        return json.dumps(self._data)

    def to_str(self) -> str:
        return repr(self)

    def __getattr__(self, name: str) -> Any:
        attributes = type(self)._attributes
        wire = attributes.get(name)
        if wire is None:
            if name in self._data and not name.startswith("_"):
                return self._data[name]  # undeclared field, by its wire name
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        value = self._data.get(wire)
        nested = type(self)._nested.get(wire)
        if nested is None or value is None:
            return value
        kind, model_name = nested
        model = type(self)._models.get(model_name)
        if model is None:
            return value
        if kind == "many" and isinstance(value, list):
            return [model.from_dict(v) if isinstance(v, dict) else v for v in value]
        return model.from_dict(value) if isinstance(value, dict) else value

    def __setattr__(self, name: str, value: Any) -> None:
        wire = type(self)._attributes.get(name, name)
        self._data[wire] = to_wire(value)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._data == self._data  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(json.dumps(self._data, sort_keys=True, default=str))

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(type(self)._attributes))

    def __repr__(self) -> str:
        known = {wire: attr for attr, wire in type(self)._attributes.items()}
        parts = [f"{known.get(k, k)}={v!r}" for k, v in self._data.items()]
        return f"{type(self).__name__}({', '.join(parts)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython
        printer.text(repr(self))

    def __copy__(self) -> Model:
        return type(self).from_dict(dict(self._data))  # type: ignore[return-value]

    def __deepcopy__(self, memo: dict) -> Model:
        return type(self).from_dict(copy.deepcopy(self._data, memo))  # type: ignore[return-value]

    def __getstate__(self) -> dict:
        return self._data

    def __setstate__(self, state: dict) -> None:
        object.__setattr__(self, "_data", state)


def to_wire(value: Any) -> Any:
    """Plain data for the wire: every model, inside dicts, lists and tuples too, becomes its
    wire-named dict. The containers are new (a model's own data is never shared); a file tuple
    ``(filename, content[, content_type])`` stays one value."""
    if isinstance(value, Model):
        value = value._data
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list) or (isinstance(value, tuple) and not is_file(value)):
        return [to_wire(v) for v in value]
    return value


def attribute_name(wire: str) -> str:
    name = snake_case(wire)
    return name + "_" if keyword.iskeyword(name) or name in _MODEL_OWN else name


_MODEL_OWN = frozenset({"from_dict", "from_json", "to_dict", "to_json", "to_str"})


def make_model_class(
    name: str, schema: dict[str, Any], document_schemas: dict[str, Any], models: dict[str, type[Model]]
) -> type[Model]:
    """A model class for a component schema (``allOf`` parts contribute their properties)."""
    properties = collect_properties(schema, document_schemas)
    attributes = {attribute_name(wire): wire for wire in properties}
    nested = {}
    for wire, prop in properties.items():
        ref = _ref_name(prop)
        if ref:
            nested[wire] = ("one", ref)
        elif isinstance(prop, dict) and prop.get("type") == "array" and _ref_name(prop.get("items")):
            nested[wire] = ("many", _ref_name(prop.get("items")))
    namespace = {
        "__slots__": (),
        "__doc__": _model_doc(name, schema, properties),
        "_schema_name": name,
        "_attributes": attributes,
        "_nested": nested,
        "_models": models,
        "__module__": "odm_dyn.models",
    }
    cls = type(python_class_name(name), (Model,), namespace)
    models.setdefault(name, cls)
    return cls


def python_class_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else "_" + cleaned


def collect_properties(schema: Any, schemas: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    if not isinstance(schema, dict) or depth > 20:
        return {}
    ref = _ref_name(schema)
    if ref:
        return collect_properties(schemas.get(ref), schemas, depth + 1)
    props: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        props.update(collect_properties(part, schemas, depth + 1))
    props.update(schema.get("properties") or {})
    return props


def _ref_name(schema: Any) -> str | None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
    return None


def _model_doc(name: str, schema: dict[str, Any], properties: dict[str, Any]) -> str:
    lines = [schema.get("description") or f"The {name} schema.", "", "Attributes:"]
    for wire, prop in properties.items():
        prop = prop if isinstance(prop, dict) else {}
        kind = prop.get("type") or _ref_name(prop) or "any"
        extra = " (read-only)" if prop.get("readOnly") else ""
        lines.append(f"    {attribute_name(wire)} ({kind}{extra}): {prop.get('description', '')}".rstrip(": "))
    return "\n".join(lines)
