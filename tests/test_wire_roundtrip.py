"""What the client encodes, the server's reading decodes to the same value; and the embedded
server and ``validate_exchange`` give the same verdict on the same raw requests.

The property runs over every parameter of the feature specs, of a matrix of every location ×
style × explode × type made here, and of the vendor's odmApi.yaml (skipped when absent). Values
are drawn valid for each parameter's schema and within what its style can carry: a delimited
style cannot carry its delimiter inside an item (``spaceDelimited`` encodes a space and the
delimiter alike), a header's ``simple`` style sends items unencoded, and an empty item cannot
be told from no item. Everything else (``/``, ``%``, ``,``, ``.``, ``&``, any Unicode) must
come back unchanged.
"""

from __future__ import annotations

import io
import json
import string
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from odm_dyn.api.load import load_api
from odm_dyn.api.operations import Parameter
from odm_dyn.api.plans import CallPlan
from odm_dyn.server import EmbeddedServer
from odm_dyn.spec.pointers import resolve_pointer
from odm_dyn.testing import validate_exchange
from odm_dyn.wire.incoming import IncomingRequest, read_incoming
from odm_dyn.wire.styles import cookie_value, header_value, path_segment, query_pairs, render_path

DATA = Path(__file__).parent / "data"
ODM_API = Path(__file__).resolve().parents[1] / ".." / "shared" / "vendor" / "genestack-openapi-v1" / "odmApi.yaml"
# No shrinking: a failure names the operation and parameter, and shrinking hundreds of draws
# would take minutes of a shared machine.
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)

# --------------------------------------------------------------------------- a matrix of every style

TYPES = {"string": {"type": "string"}, "integer": {"type": "integer"}, "number": {"type": "number"}}
TYPES["boolean"] = {"type": "boolean"}
OBJECT = {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}, "b": {"type": "boolean"}}}
STYLES = {
    "path": ["simple", "label", "matrix"],
    "query": ["form", "spaceDelimited", "pipeDelimited", "deepObject"],
    "header": ["simple"],
    "cookie": ["form"],
}


def _matrix_params(location: str, style: str, explode: bool) -> list[dict[str, Any]]:
    schemas = {f"s_{k}": v for k, v in TYPES.items()} if style != "deepObject" else {}
    if style not in ("deepObject",):
        schemas.update({f"a_{k}": {"type": "array", "items": v} for k, v in TYPES.items()})
    schemas["o"] = OBJECT
    required = location == "path"
    return [
        {"name": n, "in": location, "style": style, "explode": explode, "required": required, "schema": s}
        for n, s in schemas.items()
    ]


def matrix_spec() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for location, styles in STYLES.items():
        for style in styles:
            for explode in (False, True):
                params = _matrix_params(location, style, explode)
                path = f"/{location}/{style}/{str(explode).lower()}"
                if location == "path":
                    path += "".join("/{" + p["name"] + "}" for p in params)
                op = {"operationId": f"{location}_{style}_{explode}", "parameters": params}
                paths[path] = {"get": {**op, "responses": {"204": {"description": "done"}}}}
    return {"openapi": "3.1.0", "info": {"title": "styles", "version": "1"}, "paths": paths}


@pytest.fixture(scope="module")
def matrix_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("matrix") / "matrix.json"
    path.write_text(json.dumps(matrix_spec()), encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- values a style can carry

HEADER_TEXT = string.ascii_letters + string.digits + "-_.~!#$%&'*+^`|:/?@[]()<>{}\"\\"
ANY_TEXT = st.characters(exclude_categories=["Cs"])  # no lone surrogates: text is sent as UTF-8


def text_for(param: Parameter) -> st.SearchStrategy[str]:
    if param.media_type:
        return st.text(ANY_TEXT, max_size=8)
    if param.location == "header":
        return st.text(st.sampled_from(HEADER_TEXT), min_size=1, max_size=8)
    excluded = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(param.style, "")
    return st.text(st.characters(exclude_categories=["Cs"], exclude_characters=excluded), min_size=1, max_size=8)


def carries(param: Parameter, text: str) -> bool:
    """Whether text drawn by another strategy (a pattern's) is one ``text_for`` could draw."""
    if param.location == "header":
        return bool(text) and all(ch in HEADER_TEXT for ch in text)
    excluded = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(param.style, "")
    return bool(text) and not (excluded and excluded in text) and text.isprintable()


def values_for(schema: Any, param: Parameter, resolve: Callable[[str], Any], top: bool = True) -> Any:
    """A strategy of values valid for ``schema`` and carried by the parameter's style, or None."""
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return values_for(resolve(schema["$ref"]), param, resolve, top)
    if "enum" in schema:
        return st.sampled_from([v for v in schema["enum"] if v is not None])
    kind = schema.get("type", "string")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "integer":
        low, high = _bounds(schema, 2**31 if schema.get("format") == "int32" else 2**63)
        return st.integers(low, high)
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        return _strings(schema, param)
    if not top and not param.media_type:
        return None  # an array or object inside an array or object: no style defines its text
    if kind == "array":
        items = values_for(schema.get("items") or {}, param, resolve, False)
        return None if items is None else st.lists(items, min_size=max(1, schema.get("minItems", 0)), max_size=4)
    if kind == "object":
        return _objects(schema, param, resolve)
    return None


def _bounds(schema: dict[str, Any], limit: int) -> tuple[int, int]:
    return int(schema.get("minimum", -limit)), int(schema.get("maximum", limit - 1))


def _strings(schema: dict[str, Any], param: Parameter) -> st.SearchStrategy[str]:
    if schema.get("format") == "date-time":
        return st.datetimes().map(lambda d: d.isoformat() + "Z")
    if schema.get("format") == "date":
        return st.dates().map(str)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda t: carries(param, t))
    low, high = schema.get("minLength", 1), schema.get("maxLength", 8)
    return text_for(param).filter(lambda t: low <= len(t) <= high)


def _objects(schema: dict[str, Any], param: Parameter, resolve: Callable[[str], Any]) -> Any:
    properties = {k: values_for(v, param, resolve, False) for k, v in (schema.get("properties") or {}).items()}
    if not properties or any(v is None for v in properties.values()):
        return None
    return st.fixed_dictionaries({}, optional=properties).filter(bool)


# --------------------------------------------------------------------------- encode as the client does


def encoded(plan: CallPlan, values: dict[str, Any]) -> IncomingRequest:
    """The request the client's encoders make of ``values`` (by Python name), as received."""
    segments, query, headers, cookies = {}, [], {}, []
    for name, value in values.items():
        param = plan.params[name]
        if param.location == "path":
            segments[param.name] = path_segment(param, value)
        elif param.location == "query":
            query += query_pairs(param, value)
        elif param.location == "header":
            headers[param.name] = header_value(param, value)
        else:
            cookies.append(cookie_value(param, value))
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    target = render_path(plan.op.path, segments) + ("?" + "&".join(query) if query else "")
    return IncomingRequest.from_url(plan.op.method, target, headers)


def sendable(plan: CallPlan, param: Parameter) -> bool:
    """Not a path parameter missing from the path's template (the vendor's spec has one): no
    client can send it."""
    return param.location != "path" or "{" + param.name + "}" in plan.op.path


def carried(api: Any) -> list[tuple[CallPlan, dict[str, Any]]]:
    """Each operation with a strategy per parameter whose values a style can carry."""
    out = []
    for plan in api.plans.values():
        document = plan.op.document.data

        def resolve(ref: str, document: Any = document) -> Any:
            return resolve_pointer(document, ref[1:])

        strategies = {n: values_for(p.schema, p, resolve) for n, p in plan.params.items() if sendable(plan, p)}
        if any(s is None for n, s in strategies.items() if plan.params[n].location == "path"):
            continue  # a path needs every one of its parameters
        strategies = {n: s for n, s in strategies.items() if s is not None}
        if strategies:
            out.append((plan, strategies))
    return out


def assert_round_trip(data: Any, cases: list[tuple[CallPlan, dict[str, Any]]]) -> None:
    for plan, strategies in cases:
        values = {
            name: data.draw(strategy, label=f"{plan.op.operation_id}.{name}") for name, strategy in strategies.items()
        }
        incoming = encoded(plan, values)
        reading = read_incoming(plan, incoming)
        sent = {plan.params[name].name for name in values}
        assert [p for p in reading.problems if p.name in sent] == [], (plan.op.operation_id, incoming)
        for name, value in values.items():
            wire_name = plan.params[name].name
            assert reading.params.get(wire_name) == value, (plan.op.operation_id, wire_name, incoming)


def _cases(source: Any) -> list[tuple[CallPlan, dict[str, Any]]]:
    cases = carried(load_api(source))
    assert cases
    return cases


@pytest.mark.parametrize("spec", ["features30.yaml", "features31.yaml", "wire.yaml"])
def test_feature_parameters_come_back_as_sent(spec: str) -> None:
    cases = _cases(str(DATA / spec))

    @SETTINGS
    @given(st.data())
    def round_trip(data: Any) -> None:
        assert_round_trip(data, cases)

    round_trip()


def test_every_style_explode_and_type_comes_back_as_sent(matrix_path: str) -> None:
    cases = _cases(matrix_path)
    assert len(cases) == 2 * sum(len(styles) for styles in STYLES.values())  # every combination takes part

    @SETTINGS
    @given(st.data())
    def round_trip(data: Any) -> None:
        assert_round_trip(data, cases)

    round_trip()


@pytest.mark.skipif(not ODM_API.exists(), reason="the vendor's odmApi.yaml is not here")
def test_every_vendor_parameter_comes_back_as_sent() -> None:
    cases = _cases(str(ODM_API))
    taken = sum(len(strategies) for _, strategies in cases)
    plans = load_api(str(ODM_API)).plans.values()
    assert taken == sum(sendable(plan, p) for plan in plans for p in plan.params.values())  # none left out

    @settings(SETTINGS, max_examples=10)
    @given(st.data())
    def round_trip(data: Any) -> None:
        assert_round_trip(data, cases)

    round_trip()


# --------------------------------------------------------------------------- one verdict

WIRE = str(DATA / "wire.yaml")
FEATURES = str(DATA / "features31.yaml")
# (spec, method, target, headers, body, whether the request keeps to the spec)
CORPUS = [
    (WIRE, "GET", "/items/.1,2", {}, b"", True),
    (WIRE, "GET", "/items/.7", {}, b"", True),
    (WIRE, "GET", "/items/.1,x", {}, b"", False),
    (WIRE, "GET", "/items/1,2", {}, b"", False),
    (WIRE, "GET", "/items/.1%2C2", {}, b"", False),
    (WIRE, "GET", "/search", {}, b"", True),
    (WIRE, "GET", "/search?filter[size]=3&filter[colour]=red", {}, b"", True),
    (WIRE, "GET", "/search?filter%5Bsize%5D=3", {}, b"", True),
    (WIRE, "GET", "/search?filter[size]=notanint", {}, b"", False),
    (WIRE, "GET", "/search?filter[colour]=blue", {}, b"", False),
    (WIRE, "GET", "/search?limit=0", {}, b"", False),
    (WIRE, "GET", "/search?limit=2&limit=3", {}, b"", False),
    (WIRE, "GET", "/search?tags=1,2,3", {}, b"", True),
    (WIRE, "GET", "/search?level=2", {}, b"", True),  # an enum without a type: typed by its values
    (WIRE, "GET", "/search?level=3", {}, b"", False),
    (WIRE, "GET", "/search?tags=1,b", {}, b"", False),
    (WIRE, "GET", "/search", {"X-Trace": "4,5"}, b"", True),
    (WIRE, "GET", "/search", {"X-Trace": "4,five"}, b"", False),
    (WIRE, "GET", "/search", {"Cookie": "session=12"}, b"", True),
    (WIRE, "GET", "/search", {"Cookie": "session=twelve"}, b"", False),
    (WIRE, "POST", "/upload", {"Content-Type": "application/json"}, b'{"name": "x"}', True),
    (WIRE, "POST", "/upload", {"Content-Type": "application/vnd.x+json"}, b'{"name": "x"}', True),
    (WIRE, "POST", "/upload", {"Content-Type": "Application/JSON; charset=UTF-8"}, b'{"name": "x"}', True),
    (WIRE, "POST", "/upload", {"Content-Type": "application/json"}, b'{"label": "x"}', False),
    (WIRE, "POST", "/upload", {"Content-Type": "application/json"}, b"{not json", False),
    (WIRE, "POST", "/upload", {"Content-Type": "text/plain"}, b"name", False),
    (WIRE, "POST", "/upload", {}, b"", False),
    (FEATURES, "GET", "/label/.blue/.blue,black/.R,100,G,200", {}, b"", True),
    (FEATURES, "GET", "/label/.blue/.blue,black/.R,100,G,x", {}, b"", False),
    (FEATURES, "GET", "/matrix-explode/;prim=a/;arr=b;arr=c/;R=1;G=2", {}, b"", True),
    (FEATURES, "GET", "/matrix-explode/;prim=a/;arr=b;arr=c/;R=one", {}, b"", False),
    (FEATURES, "GET", "/matrix/prim=a/;arr=b/;obj=R,1", {}, b"", False),
    (FEATURES, "GET", "/query?count=5&flag=true&deep[R]=1&R=2&pipeArr=a%7Cb", {}, b"", True),
    (FEATURES, "GET", "/query?count=five", {}, b"", False),
    (FEATURES, "GET", "/query?flag=yes", {}, b"", False),
    (FEATURES, "GET", "/query?deep[G]=green", {}, b"", False),
    (FEATURES, "GET", "/query?G=green", {}, b"", False),
    (FEATURES, "GET", "/query?spaceObj=R%20100%20G", {}, b"", False),
    (FEATURES, "GET", "/query?json=%7B%22R%22%3A1%7D", {}, b"", True),
    (FEATURES, "GET", "/query?json=%7B%22R%22%3A%22x%22%7D", {}, b"", False),
    (FEATURES, "GET", "/headers", {"X-Prim": "12", "X-Obj-Exploded": "R=1,G=2"}, b"", True),
    (FEATURES, "GET", "/headers", {"X-Prim": "twelve"}, b"", False),
    (FEATURES, "GET", "/headers", {"X-Obj": "R,1,G"}, b"", False),
    (FEATURES, "GET", "/cookies", {"Cookie": "flatObj=R,1,B,3; arr=a; arr=b"}, b"", True),
    (FEATURES, "GET", "/cookies", {"Cookie": "flatObj=R,one"}, b"", False),
]


@pytest.fixture(scope="module")
def servers():
    with EmbeddedServer(spec=WIRE, tokens=["roundtrip-token-0123"]) as wire:
        with EmbeddedServer(spec=FEATURES, tokens=["roundtrip-token-0123"]) as features:
            yield {WIRE: wire, FEATURES: features}


@pytest.mark.parametrize(("spec", "method", "target", "headers", "body", "valid"), CORPUS)
def test_the_server_and_validate_exchange_give_one_verdict(servers, spec, method, target, headers, body, valid) -> None:
    url = servers[spec].url + target
    response = requests.request(method, url, headers=headers, data=body or None, timeout=10)
    server_accepts = response.status_code != 400
    request_violations = [v for v in validate_exchange(spec, response) if v.where == "request"]
    assert (server_accepts, not request_violations) == (valid, valid), (response.text, request_violations)


# --------------------------------------------------------------------------- one verdict on any text

QUERY_PIECES = ["filter[size]", "filter%5Bcolour%5D", "filter[colour]", "limit", "tags", "x", "=", "&", ","]
QUERY_PIECES += ["1", "-2", "3.5", "red", "blue", "true", "%2C", "%20", "+", "%zz", "[", "]"]


def wsgi_status(app: Any, prepared: requests.PreparedRequest) -> int:
    """The status the embedded server's WSGI app gives a prepared request, in process."""
    path, _, query = prepared.path_url.partition("?")
    environ = {"REQUEST_METHOD": prepared.method, "PATH_INFO": path, "RAW_URI": prepared.path_url}
    body = prepared.body if isinstance(prepared.body, bytes) else b""
    environ.update({"QUERY_STRING": query, "wsgi.input": io.BytesIO(body), "SERVER_NAME": "127.0.0.1"})
    for name, value in prepared.headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    statuses: list[str] = []
    app(environ, lambda status, headers: statuses.append(status))
    return int(statuses[0].split()[0])


@pytest.fixture(scope="module")
def wire_app():
    with EmbeddedServer(spec=WIRE, tokens=["roundtrip-token-0123"]) as server:
        yield server.app


@SETTINGS
@given(
    query=st.lists(st.sampled_from(QUERY_PIECES), max_size=8).map("".join),
    segment=st.lists(st.sampled_from([".", "1", ",", "x", "%2C", "-3", "%2E"]), min_size=1, max_size=5).map("".join),
    trace=st.none() | st.lists(st.sampled_from(["1", ",", " ", "x", "-"]), max_size=4).map("".join).map(str.strip),
)
def test_any_request_text_gets_one_verdict(wire_app, query: str, segment: str, trace: str | None) -> None:
    headers = {"X-Trace": trace} if trace is not None else {}
    for target in (f"/search?{query}", f"/items/{segment}?{query}"):
        prepared = requests.Request("GET", "http://localhost" + target, headers=headers).prepare()
        assert_one_verdict(wire_app, prepared)


MEDIA = ["application/json", "Application/JSON; charset=utf-8", "application/*", "application/x+json", "text/plain"]


@SETTINGS
@given(media=st.none() | st.sampled_from(MEDIA), body=st.sampled_from([b'{"name": "x"}', b'{"n": 1}', b"{", b""]))
def test_any_body_gets_one_verdict(wire_app, media: str | None, body: bytes) -> None:
    headers = {"Content-Type": media} if media else {}
    prepared = requests.Request("POST", "http://localhost/upload", headers=headers, data=body).prepare()
    assert_one_verdict(wire_app, prepared)


def assert_one_verdict(app: Any, prepared: requests.PreparedRequest) -> None:
    refused = wsgi_status(app, prepared) in (400, 404)  # 404: a dot segment that requests removed
    assert refused == bool(validate_exchange(WIRE, prepared)), (prepared.url, prepared.headers)
