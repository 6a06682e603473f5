"""Parameter styles in both directions: values to request text, and request text back to values.

Parameters follow OpenAPI's ``style``/``explode`` (path: simple, label, matrix; query: form,
spaceDelimited, pipeDelimited, deepObject; header: simple; cookie: form). :data:`STYLES` holds,
for every location and style, the encoder the client sends with beside the decoder the server
and ``validate_exchange`` read with, so the two directions cannot drift apart. Every value is
percent-encoded so that it can never change the request target: a path parameter of ``../x``
or ``a/b?c#d`` stays one path segment. Decoders split the still-encoded text on its
delimiters before percent-decoding the pieces, so an encoded ``,`` inside an item stays in it,
and then type each piece by the parameter's schema (:class:`Shape`): ``"5"`` → 5 for an
integer, so the compiled schema checks run on typed values. Text that does not convert stays
text, and the check names the type rule.
"""

from __future__ import annotations

import json
import re
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple, Sequence
from urllib.parse import quote, unquote, unquote_plus

from ..api.operations import DEFAULT_STYLE, Parameter
from ..errors import RequestValidationError
from ..spec.media import is_json_media

# Not dataclasses: a client's start must not import them (tests/test_perf_guards.py, issue 19).
_NOTHING: Mapping[str, Any] = MappingProxyType({})  # the defaults' empty mapping: read-only, so one is shared

_QUERY_SAFE = "-._~"
# spaceDelimited and pipeDelimited join with a percent-encoded delimiter; form joins with ",".
_DELIMITERS = {"spaceDelimited": "%20", "pipeDelimited": "%7C"}
_RESERVED_SAFE = ":/?#[]@!$&'()*+,;="
_NOT_KEPT = str.maketrans("", "", "&=#+")


def scalar_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _pairs(value: dict) -> list[tuple[str, str]]:
    return [(str(k), scalar_text(v)) for k, v in value.items()]


# --------------------------------------------------------------------------- path: encoders


def path_segment(param: Parameter, value: Any) -> str:
    """One path parameter, styled and percent-encoded (``/``, ``?``, ``#``, ``%`` included)."""
    return _ENCODERS[param.location].get(param.style, _DEFAULT_ENCODER[param.location])(param, value)


def _encode_path_text(text: str) -> str:
    if text.isascii() and text.isalnum():  # most ids: nothing to encode (and no dot segment)
        return text
    encoded = quote(text, safe="")
    if encoded in (".", ".."):  # dot segments would be collapsed by URL normalisation
        encoded = encoded.replace(".", "%2E")
    return encoded


def _encode_path_simple(param: Parameter, value: Any) -> str:
    if type(value) is str:  # most path parameters: an id
        return _encode_path_text(value)
    return _simple(value, param.explode, _encode_path_text)


def _encode_label(param: Parameter, value: Any) -> str:
    enc = _encode_path_text
    sep = "." if param.explode else ","
    if param.explode:  # "." separates the items: one inside an item is sent encoded
        enc = lambda text: _encode_path_text(text).replace(".", "%2E")  # noqa: E731
    if isinstance(value, dict):
        inner = sep.join(f"{enc(k)}={enc(v)}" if param.explode else f"{enc(k)},{enc(v)}" for k, v in _pairs(value))
    elif isinstance(value, (list, tuple)):
        inner = sep.join(enc(scalar_text(v)) for v in value)
    else:
        inner = enc(scalar_text(value))
    return "." + inner


def _encode_matrix(param: Parameter, value: Any) -> str:
    enc = _encode_path_text
    name = param.name
    if isinstance(value, dict):
        if param.explode:
            return "".join(f";{enc(k)}={enc(v)}" for k, v in _pairs(value))
        return f";{name}=" + ",".join(f"{enc(k)},{enc(v)}" for k, v in _pairs(value))
    if isinstance(value, (list, tuple)):
        if param.explode:
            return "".join(f";{name}={enc(scalar_text(v))}" for v in value)
        return f";{name}=" + ",".join(enc(scalar_text(v)) for v in value)
    return f";{name}={enc(scalar_text(value))}"


def _simple(value: Any, explode: bool, enc: Any) -> str:
    if isinstance(value, dict):
        if explode:
            return ",".join(f"{enc(k)}={enc(v)}" for k, v in _pairs(value))
        return ",".join(f"{enc(k)},{enc(v)}" for k, v in _pairs(value))
    if isinstance(value, (list, tuple)):
        return ",".join(enc(scalar_text(v)) for v in value)
    return enc(scalar_text(value))


def render_path(template: str, segments: dict[str, str]) -> str:
    for name, segment in segments.items():
        template = template.replace("{" + name + "}", segment)
    return template


# --------------------------------------------------------------------------- query: encoders


def query_pairs(param: Parameter, value: Any) -> list[str]:
    """The ``name=value`` pieces of one query parameter, already percent-encoded."""
    if param.media_type and is_json_media(param.media_type):
        enc = _query_encoder(param)
        return [f"{_query_name(param)}={enc(json.dumps(value, separators=(',', ':')))}"]
    return _ENCODERS[param.location].get(param.style, _DEFAULT_ENCODER[param.location])(param, value)


def _query_encoder(param: Parameter) -> Callable[[Any], str]:
    # allowReserved keeps RFC 3986's reserved characters as they are, except those that would end
    # the pair or the query ("&", "=", "#") and "+", which every query reader takes for a space.
    safe = _QUERY_SAFE + (_RESERVED_SAFE.translate(_NOT_KEPT) if param.allow_reserved else "")
    return lambda text: quote(scalar_text(text), safe=safe)


def _query_name(param: Parameter) -> str:
    return quote(param.name, safe=_QUERY_SAFE)


def _encode_form(param: Parameter, value: Any) -> list[str]:
    enc, name = _query_encoder(param), _query_name(param)
    joiner = _DELIMITERS.get(param.style, ",")
    if isinstance(value, (list, tuple)):
        if param.explode:  # form's default; OpenAPI reads exploded space/pipe-delimited as form
            return [f"{name}={enc(v)}" for v in value]
        return [f"{name}=" + joiner.join(enc(v) for v in value)]
    if isinstance(value, dict):
        if param.style == "form" and param.explode:
            return [f"{enc(k)}={enc(v)}" for k, v in _pairs(value)]
        return [f"{name}=" + joiner.join(f"{enc(k)}{joiner}{enc(v)}" for k, v in _pairs(value))]
    return [f"{name}={enc(value)}"]


def _encode_deep(param: Parameter, value: Any) -> list[str]:
    if not isinstance(value, dict):
        return _encode_form(param, value)
    enc, name = _query_encoder(param), _query_name(param)
    return [f"{name}%5B{enc(k)}%5D={enc(v)}" for k, v in _pairs(value)]


# --------------------------------------------------------------------------- headers and cookies: encoders


def header_value(param: Parameter, value: Any) -> str:
    if param.media_type and is_json_media(param.media_type):
        return json.dumps(value, separators=(",", ":"))
    return _ENCODERS[param.location].get(param.style, _DEFAULT_ENCODER[param.location])(param, value)


def _encode_header_simple(param: Parameter, value: Any) -> str:
    return _simple(value, param.explode, lambda text: scalar_text(text))


def cookie_value(param: Parameter, value: Any) -> str:
    """One cookie parameter as ``name=value`` pairs (``; ``-joined), by style ``form``.

    ``explode: false`` joins array items and object keys/values with ``,``; ``explode: true``
    (the default) sends one ``name=item`` pair per array item and ``key=value`` per object
    property, as OpenAPI 3.2's ``cookie`` style spells out. Each value is percent-encoded so
    that it can never end the pair or the header.
    """
    return _ENCODERS[param.location].get(param.style, _DEFAULT_ENCODER[param.location])(param, value)


def _encode_cookie_form(param: Parameter, value: Any) -> str:
    def enc(text: Any) -> str:
        return quote(scalar_text(text), safe=_QUERY_SAFE)

    name = param.name
    if isinstance(value, (list, tuple)):
        if param.explode:
            return "; ".join(f"{name}={enc(v)}" for v in value)
        return f"{name}=" + ",".join(enc(v) for v in value)
    if isinstance(value, dict):
        if param.explode:
            return "; ".join(f"{enc(k)}={enc(v)}" for k, v in _pairs(value))
        return f"{name}=" + ",".join(f"{enc(k)},{enc(v)}" for k, v in _pairs(value))
    return f"{name}={enc(value)}"


def check_header_text(name: str, value: str, operation: str) -> None:
    """Refuse values that would split or end the header block (response splitting), and what
    HTTP cannot carry at all: a name that is not a token, a value beyond Latin-1."""
    if any(ch in value for ch in "\r\n\0"):
        raise RequestValidationError(
            f"{operation}: header {name!r} contains CR, LF or NUL; such a value could inject headers",
            operation=operation,
            parameter=name,
            rule="header-characters",
        )
    if not _HEADER_NAME.fullmatch(name) or not value.isascii() and not _latin1(value):
        raise RequestValidationError(
            f"{operation}: header {name[:60]!r} cannot be sent: a header name must be a token and its value "
            "Latin-1 text (encode other text first, for example as percent-encoded UTF-8)",
            operation=operation,
            parameter=name,
            rule="header-characters",
        )


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


# --------------------------------------------------------------------------- decoding: the schema's shape


class Shape(NamedTuple):
    """What a parameter's schema says about the text's types, ``$ref``s resolved once."""

    kinds: tuple[str, ...] = ()  # JSON types the value may take ("integer", "array", ...)
    items: Shape | None = None
    properties: Mapping[str, Shape] = _NOTHING
    additional: Shape | None = None  # the schema of undeclared properties
    closed: bool = False  # additionalProperties: false

    @property
    def kind(self) -> str:
        """``array``, ``object`` or ``scalar``: how the text is split."""
        if "array" in self.kinds:
            return "array"
        return "object" if "object" in self.kinds else "scalar"


ANY = Shape()


def shape_of(schema: Any, resolve: Callable[[str], Any], depth: int = 0) -> Shape:
    """The :class:`Shape` of a schema; ``resolve`` turns a ``$ref`` into its node."""
    if not isinstance(schema, dict) or depth > 4:
        return ANY
    if isinstance(schema.get("$ref"), str):
        return shape_of(resolve(schema["$ref"]), resolve, depth + 1)
    kinds = _kinds(schema, resolve, depth)
    items = schema.get("items")
    extra = schema.get("additionalProperties")
    return Shape(
        kinds=kinds,
        items=shape_of(items, resolve, depth + 1) if isinstance(items, dict) else ANY,
        properties={k: shape_of(v, resolve, depth + 1) for k, v in (schema.get("properties") or {}).items()},
        additional=shape_of(extra, resolve, depth + 1) if isinstance(extra, dict) else ANY,
        closed=extra is False,
    )


def _kinds(schema: dict[str, Any], resolve: Callable[[str], Any], depth: int) -> tuple[str, ...]:
    declared = schema.get("type")
    kinds = list(declared) if isinstance(declared, list) else [declared] if isinstance(declared, str) else []
    if schema.get("nullable") is True:
        kinds.append("null")
    if not kinds:
        if "items" in schema:
            kinds.append("array")
        elif "properties" in schema:
            kinds.append("object")
        for value in [*(schema.get("enum") or []), *([schema["const"]] if "const" in schema else [])]:
            kind = _JSON_KINDS.get(type(value), "string")  # an untyped enum [1, 2] is typed by its values
            kinds += [kind] if kind not in kinds else []
    for key in ("allOf", "oneOf", "anyOf"):
        for member in schema.get(key) or []:
            kinds += [k for k in shape_of(member, resolve, depth + 1).kinds if k not in kinds]
    return tuple(kinds)


_JSON_KINDS = {bool: "boolean", int: "integer", float: "number", type(None): "null", list: "array", dict: "object"}
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _integer(text: str) -> int | str:
    """The integer, or the text when it has more digits than Python converts (4,300 by default):
    the schema's check then refuses it as the text it is, not a bare ``ValueError``."""
    try:
        return int(text)
    except ValueError:
        return text


def typed(text: str, shape: Shape | None) -> Any:
    """Text as the value the schema names: ``"5"`` → 5, ``"true"`` → True; else the text."""
    kinds = shape.kinds if shape is not None else ()
    if "integer" in kinds and _INTEGER.fullmatch(text):
        return _integer(text)
    if "number" in kinds and _NUMBER.fullmatch(text):
        return _integer(text) if _INTEGER.fullmatch(text) else float(text)
    if "boolean" in kinds and text in ("true", "false"):
        return text == "true"
    if "null" in kinds and text == "" and "string" not in kinds:
        return None
    return text


# --------------------------------------------------------------------------- decoding: the styles


class StyleError(ValueError):
    """The text cannot be read by the parameter's style (a label without its ``.``, ...)."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()


class WireText(NamedTuple):
    """A request's parameter text as sent, found by location; nothing percent-decoded yet
    except query names."""

    path: Mapping[str, str] = _NOTHING  # wire name → raw segment
    query: Sequence[tuple[str, str]] = ()  # (decoded name, raw value), in order
    headers: Mapping[str, str] = _NOTHING  # lower-case name → value
    cookies: Sequence[tuple[str, str]] = ()  # (name, raw value), in order


Splitter = Callable[[str], list[str]]


def _split_on(separator: str) -> Splitter:
    return lambda text: text.split(separator)


def _split_pattern(pattern: str) -> Splitter:
    return re.compile(pattern).split


_COMMA = _split_on(",")
_QUERY_SPLITTERS = {"spaceDelimited": _split_pattern(r"%20|\+| "), "pipeDelimited": _split_pattern(r"%7[cC]|\|")}


def _read(shape: Shape, raw: str, split: Splitter, explode: bool, dec: Callable[[str], str]) -> Any:
    """Delimited text by the shape: one scalar, items, or ``k=v`` (exploded) / ``k,v`` pairs."""
    if shape.kind == "scalar":
        return typed(dec(raw), shape)
    pieces = split(raw) if raw else []
    if shape.kind == "array":
        return [typed(dec(piece), shape.items) for piece in pieces]
    if explode:
        pairs = [piece.partition("=")[::2] for piece in pieces]
    elif len(pieces) % 2:
        raise StyleError("style", f"{raw[:60]!r} holds an odd number of keys and values")
    else:
        pairs = list(zip(pieces[::2], pieces[1::2]))
    return _typed_object(shape, [(dec(k), dec(v)) for k, v in pairs])


def _typed_object(shape: Shape, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {key: typed(text, shape.properties.get(key) or shape.additional) for key, text in pairs}


def _decode_path_simple(param: Parameter, shape: Shape, wire: WireText, others: frozenset[str]) -> Any:
    raw = wire.path.get(param.name)
    return MISSING if raw is None else _read(shape, raw, _COMMA, param.explode, unquote)


def _led(param: Parameter, wire: WireText, lead: str) -> str | None:
    """A label (``.``) or matrix (``;``) segment without its leading character; None if absent."""
    raw = wire.path.get(param.name)
    if raw is not None and not raw.startswith(lead):
        raise StyleError("style", f"{raw[:60]!r} is not in style {param.style} (a value starting with {lead!r})")
    return None if raw is None else raw[1:]


def _decode_label(param: Parameter, shape: Shape, wire: WireText, others: frozenset[str]) -> Any:
    body = _led(param, wire, ".")
    split = _split_on("." if param.explode else ",")
    return MISSING if body is None else _read(shape, body, split, param.explode, unquote)


def _decode_matrix(param: Parameter, shape: Shape, wire: WireText, others: frozenset[str]) -> Any:
    raw = _led(param, wire, ";")
    if raw is None:
        return MISSING
    if param.explode and shape.kind != "scalar":
        pairs = [piece.partition("=")[::2] for piece in raw.split(";")] if raw else []
        if shape.kind == "array":
            return [typed(unquote(v), shape.items) for k, v in pairs if k == param.name]
        return _typed_object(shape, [(unquote(k), unquote(v)) for k, v in pairs])
    name, _, body = raw.partition("=")
    if name != param.name:
        raise StyleError("style", f"{';' + raw[:60]!r} is not in style matrix (';{param.name}=...')")
    return _read(shape, body, _COMMA, False, unquote)


def _decode_form(param: Parameter, shape: Shape, wire: WireText, others: frozenset[str]) -> Any:
    split = _QUERY_SPLITTERS.get(param.style, _COMMA)
    exploded = param.explode and param.style == "form"
    return _form(param, shape, wire.query, unquote_plus, others, split, exploded, strict=True)


def _form(
    param: Parameter,
    shape: Shape,
    pairs: Sequence[tuple[str, str]],
    dec: Callable[[str], str],
    others: frozenset[str],
    split: Splitter,
    exploded: bool,
    strict: bool,
) -> Any:
    """Style form over ``name=value`` pairs (a query's or a Cookie header's): an exploded
    object's properties are pairs of their own, an exploded array repeats the name; else one
    pair (``strict``: a repeated one is refused; otherwise the first counts)."""
    if shape.kind == "object" and exploded:
        found = [(n, v) for n, v in pairs if _property_of(shape, n, others)]
        return _typed_object(shape, [(n, dec(v)) for n, v in found]) if found else MISSING
    values = [v for n, v in pairs if n == param.name]
    if not values:
        return MISSING
    if shape.kind == "array" and param.explode:
        return [typed(dec(v), shape.items) for v in values]
    if strict:
        _refuse_repeats(param, values)
    return _read(shape, values[0], split, False, dec)


def _decode_deep(param: Parameter, shape: Shape, wire: WireText, others: frozenset[str]) -> Any:
    prefix = param.name + "["
    pairs = [(n[len(prefix) : -1], v) for n, v in wire.query if n.startswith(prefix) and n.endswith("]")]
    if not pairs:
        return _decode_form(param, shape, wire, others) if shape.kind != "object" else MISSING
    return _typed_object(shape, [(k, unquote_plus(v)) for k, v in pairs])


def _decode_header(param: Parameter, shape: Shape, wire: WireText, others: frozenset[str]) -> Any:
    text = wire.headers.get(param.name.lower())
    return MISSING if text is None else _read(shape, text, _COMMA, param.explode, str.strip)


def _decode_cookie(param: Parameter, shape: Shape, wire: WireText, others: frozenset[str]) -> Any:
    # A cookie may come twice (set for two paths): the first, the most specific, counts.
    return _form(param, shape, wire.cookies, unquote, others, _COMMA, param.explode, strict=False)


def _property_of(shape: Shape, name: str, others: frozenset[str]) -> bool:
    """Whether a top-level pair belongs to an exploded object: a declared property, or any
    name no other parameter claims when the object takes undeclared ones."""
    return name in shape.properties or (not shape.closed and not shape.properties and name not in others)


def _refuse_repeats(param: Parameter, values: list[str]) -> None:
    if len(values) > 1:  # ?versionMessage=a&versionMessage=b: which one was meant is a guess
        raise StyleError("repeated", f"the query parameter is given {len(values)} times; it takes one value")


def _decode_json(param: Parameter, wire: WireText) -> Any:
    """A parameter declared with ``content``: the text is a JSON document (left as text if not)."""
    if param.location == "query":
        values = [v for n, v in wire.query if n == param.name]
        _refuse_repeats(param, values)
        text = unquote_plus(values[0]) if values else None
    elif param.location == "path":
        text = unquote(wire.path[param.name]) if param.name in wire.path else None
    elif param.location == "header":
        text = wire.headers.get(param.name.lower())
    else:
        text = next((unquote(v) for n, v in wire.cookies if n == param.name), None)
    if text is None:
        return MISSING
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def decode_param(param: Parameter, shape: Shape, wire: WireText, others: frozenset[str] = frozenset()) -> Any:
    """One parameter's value read back from the request's text, typed by ``shape``;
    :data:`MISSING` when the request does not carry it. Raises :class:`StyleError`.
    ``others``: the names the operation's other parameters of that location take."""
    if param.media_type and is_json_media(param.media_type):
        return _decode_json(param, wire)
    return style_of(param).decode(param, shape, wire, others)


# --------------------------------------------------------------------------- the table


class Style(NamedTuple):
    """One style of one location: how the client sends a value, and how it is read back."""

    encode: Callable[[Parameter, Any], Any]
    decode: Callable[[Parameter, Shape, WireText, frozenset[str]], Any]


STYLES: dict[tuple[str, str], Style] = {
    ("path", "simple"): Style(_encode_path_simple, _decode_path_simple),
    ("path", "label"): Style(_encode_label, _decode_label),
    ("path", "matrix"): Style(_encode_matrix, _decode_matrix),
    ("query", "form"): Style(_encode_form, _decode_form),
    ("query", "spaceDelimited"): Style(_encode_form, _decode_form),
    ("query", "pipeDelimited"): Style(_encode_form, _decode_form),
    ("query", "deepObject"): Style(_encode_deep, _decode_deep),
    ("header", "simple"): Style(_encode_header_simple, _decode_header),
    ("cookie", "form"): Style(_encode_cookie_form, _decode_cookie),
}


# The encoders by location and style, for the client's per-call path (one dict look-up each).
_ENCODERS = {where: {style: e.encode for (loc, style), e in STYLES.items() if loc == where} for where in DEFAULT_STYLE}
_DEFAULT_ENCODER = {where: STYLES[(where, style)].encode for where, style in DEFAULT_STYLE.items()}


def style_of(param: Parameter) -> Style:
    """The parameter's entry of :data:`STYLES` (its location's default for an unknown style)."""
    return STYLES.get((param.location, param.style)) or STYLES[(param.location, DEFAULT_STYLE[param.location])]
