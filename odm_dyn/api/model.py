"""Model classes made from ``components/schemas`` at load time.

A model wraps the decoded JSON object it came from, keyed by wire names, and keeps every field
the server sent, declared or not. Declared properties read as snake_case attributes (nested
models as models, ``date-time``/``date`` strings as ``datetime``/``date``); ``to_dict()`` gives
the wire-named dict back as it is (readOnly fields included: they are what the server said).
Everything the library itself owns on a model starts with ``_`` or is one of the few
generated-client method names, so a spec's property names never clash with it.

Two ways in, on purpose: ``from_dict()`` trusts its data (an answer, already checked against
the response schema), while the constructor is a user's typing and is checked field by field
with the compiled schema checks of request validation. Classes are made at run time, so a
pickle names the spec source and schema instead of a class (``Model.__reduce__``).
"""

from __future__ import annotations

import copy
import datetime
import json
import keyword
import re
from typing import Any, Callable, ClassVar

from ..errors import RequestTypeError, RequestValidationError
from ..names import snake_case
from ..types import is_file


class Model:
    """Base of every generated model class."""

    _schema_name: ClassVar[str] = "Model"
    _attributes: ClassVar[dict[str, str]] = {}  # snake_case attribute → wire name
    _nested: ClassVar[dict[str, Any]] = {}  # wire name → ("one"|"many", model name)
    _formats: ClassVar[dict[str, str]] = {}  # wire name → "date-time" | "date"
    _properties: ClassVar[dict[str, Any]] = {}  # wire name → its schema (for the constructor's checks)
    _open: ClassVar[bool] = True  # the constructor takes undeclared fields (free-form schemas)
    _models: ClassVar[dict[str, type[Model]]] = {}  # the models of the same spec, by name
    _spec_source: ClassVar[Any] = None  # what load_api() rebuilds the class from (pickling)
    _field_check: ClassVar[Callable[[str, Any], list[Any]] | None] = None  # set by the compiled Api

    __slots__ = ("_data",)

    def __init__(self, **fields: Any):
        """Fields by attribute or wire name; an unknown name or a value its schema refuses
        raises the errors request validation raises (:class:`RequestTypeError` for a wrong
        type or an unknown name, :class:`RequestValidationError` for the other rules). A
        schema that declares no properties, or says ``additionalProperties``, takes any name."""
        data: dict[str, Any] = {}
        for name, value in fields.items():
            wire = self._wire_name(name)
            data[wire] = to_wire(value)
            self._check_field(name, wire, data[wire])
        object.__setattr__(self, "_data", data)

    @classmethod
    def _wire_name(cls, name: str) -> str:
        wire = cls._attributes.get(name)
        if wire is not None:
            return wire
        if name in cls._properties or cls._open:
            return name
        known = ", ".join(sorted(cls._attributes)) or "none"
        import difflib  # a misspelt field only

        close = difflib.get_close_matches(name, list(cls._attributes), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise RequestTypeError(
            f"{cls.__name__}() got an unknown field {name!r}{hint}; its fields are: {known}",
            operation=cls.__name__,
            parameter=name,
            rule="unknown",
        )

    @classmethod
    def _check_field(cls, name: str, wire: str, value: Any) -> None:
        check = cls._field_check
        violations = check(wire, value) if check is not None and value is not None else []
        if violations:
            first = violations[0]
            error = RequestTypeError if first.rule == "type" else RequestValidationError
            raise error(
                f"{cls.__name__}(): argument {name!r} {first.message} (at {first.path})",
                operation=cls.__name__,
                parameter=name,
                rule=first.rule,
            )

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
        """The wire-named dict, with every field the server sent (dates as their wire strings)."""
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
        return self._value(wire)

    def _value(self, wire: str) -> Any:
        """A field as the attribute shows it: nested models as models, dates as date(time)s."""
        cls = type(self)
        value = self._data.get(wire)
        if value is None:
            return None
        fmt = cls._formats.get(wire)
        if fmt is not None:
            return parse_date(value, fmt)
        nested = cls._nested.get(wire)
        model = cls._models.get(nested[1]) if nested is not None else None
        if nested is None or model is None:
            return value
        if nested[0] == "many" and isinstance(value, list):
            return [model.from_dict(v) if isinstance(v, dict) else v for v in value]
        return model.from_dict(value) if isinstance(value, dict) else value

    def _fields(self) -> list[tuple[str, Any]]:
        """(attribute name, value as the attribute shows it), undeclared fields by wire name."""
        known = {wire: attr for attr, wire in type(self)._attributes.items()}
        return [(known[k], self._value(k)) if k in known else (k, v) for k, v in self._data.items()]

    def __setattr__(self, name: str, value: Any) -> None:
        wire = type(self)._attributes.get(name, name)
        self._data[wire] = to_wire(value)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._data == self._data

    def __hash__(self) -> int:
        return hash(json.dumps(self._data, sort_keys=True, default=str))

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(type(self)._attributes))

    def __repr__(self) -> str:
        try:
            parts = [f"{name}={value!r}" for name, value in self._fields()]
        except RecursionError:  # a valid answer of a recursive schema, hundreds deep: cut, not crash
            return f"{type(self).__name__}(...)"
        return f"{type(self).__name__}({', '.join(parts)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's pretty printer: one field a line when the whole does not fit its width."""
        name = type(self).__name__
        if cycle:
            printer.text(f"{name}(...)")
            return
        with printer.group(len(name) + 1, f"{name}(", ")"):
            for index, (field, value) in enumerate(self._fields()):
                if index:
                    printer.text(",")
                    printer.breakable()
                with printer.group(len(field) + 1, f"{field}=", ""):
                    printer.pretty(value)

    def _repr_html_(self) -> str:
        """A small table for notebooks: one row per field, nested models as their own tables."""
        import html  # notebooks only: not on every import of odm_dyn

        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(field)}</th><td>{_html_value(value)}</td></tr>"
            for field, value in self._fields()
        )
        caption = f"<caption style='text-align:left'><b>{html.escape(type(self).__name__)}</b></caption>"
        return f"<table>{caption}{rows}</table>"

    def __copy__(self) -> Model:
        return type(self).from_dict(dict(self._data))  # type: ignore[return-value]

    def __deepcopy__(self, memo: dict) -> Model:
        return type(self).from_dict(copy.deepcopy(self._data, memo))  # type: ignore[return-value]

    def __reduce__(self) -> tuple[Any, ...]:
        # Classes are made at run time: a pickle names the spec and the schema, and loading it
        # compiles that spec (once per process) to find the class again.
        return (rebuild_model, (type(self)._spec_source, type(self)._schema_name, self._data))


def rebuild_model(source: Any, schema_name: str, data: dict[str, Any]) -> Model:
    """The unpickler's half of ``Model.__reduce__``: the class of the spec, over the data."""
    from .load import load_api

    return load_api(source).models[schema_name].from_dict(data)  # type: ignore[return-value]


def parse_date(value: Any, fmt: str) -> Any:
    """A wire string of format date-time or date as a datetime or date; anything else as it is."""
    if not isinstance(value, str):
        return value
    try:
        if fmt == "date":
            return datetime.date.fromisoformat(value)
        return datetime.datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", value))
    except ValueError:  # a server's odd string stays readable rather than failing the attribute
        return value


def _html_value(value: Any) -> str:
    if isinstance(value, Model):
        return value._repr_html_()
    if isinstance(value, list) and value and all(isinstance(v, Model) for v in value):
        return "".join(v._repr_html_() for v in value)
    import html

    return html.escape(repr(value))


def to_wire(value: Any) -> Any:
    """Plain data for the wire: every model, inside dicts, lists and tuples too, becomes its
    wire-named dict. The containers are new (a model's own data is never shared); a file tuple
    ``(filename, content[, content_type])`` stays one value."""
    if isinstance(value, Model):
        value = value._data
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
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
    nested: dict[str, Any] = {}
    formats = {}
    for wire, prop in properties.items():
        fmt = _date_format(prop, document_schemas)
        if fmt:
            formats[wire] = fmt
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
        "_formats": formats,
        "_properties": properties,
        "_open": not properties or schema.get("additionalProperties") not in (None, False),
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


def collect_required(schema: Any, schemas: dict[str, Any], depth: int = 0) -> set[str]:
    """The names a schema requires, its ``allOf`` parts' (and their references') included."""
    if not isinstance(schema, dict) or depth > 20:
        return set()
    ref = _ref_name(schema)
    if ref:
        return collect_required(schemas.get(ref), schemas, depth + 1)
    names = {name for name in schema.get("required") or [] if isinstance(name, str)}
    for part in schema.get("allOf", []):
        names |= collect_required(part, schemas, depth + 1)
    return names


def _date_format(prop: Any, schemas: dict[str, Any]) -> str | None:
    """``date-time`` or ``date`` for a string property of that format (directly or via one $ref)."""
    ref = _ref_name(prop)
    if ref:
        prop = schemas.get(ref)
    if isinstance(prop, dict) and prop.get("format") in ("date-time", "date"):
        kinds = prop.get("type")
        if kinds == "string" or (isinstance(kinds, list) and "string" in kinds):
            return str(prop["format"])
    return None


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
