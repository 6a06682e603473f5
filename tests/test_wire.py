"""The wire layer: one media-range rule, one codec per style, one incoming check.

The first tests are issue 11's cases, where the client, the embedded server and
``validate_exchange`` each read the spec their own way and disagreed; each runs the real
client against the real server over loopback and the same exchange through ``validate_exchange``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

import odm_dyn
from odm_dyn.api.load import load_api
from odm_dyn.server import EmbeddedServer
from odm_dyn.testing import validate_exchange
from odm_dyn.wire.incoming import IncomingRequest, check_incoming, read_incoming
from odm_dyn.wire.media import choose_by_accept, concrete, in_range, match_declared

WIRE_SPEC = str(Path(__file__).parent / "data" / "wire.yaml")


@pytest.fixture(scope="module")
def wire_server():
    with EmbeddedServer(spec=WIRE_SPEC, tokens=["wire-token-0123456789"]) as server:
        yield server


def request_problems(response: requests.Response) -> list:
    return [v for v in validate_exchange(WIRE_SPEC, response) if v.where == "request"]


# --------------------------------------------------------------------------- issue 11's cases


def test_an_integer_array_in_style_label_is_read_back_as_integers(wire_server) -> None:
    client = odm_dyn.Client(wire_server.url, spec=WIRE_SPEC)
    assert client.get_items_with_http_info([1, 2]).status_code == 200  # sent as .1,2; not a 400

    sent = requests.get(f"{wire_server.url}/items/.1,2", timeout=5)
    assert sent.status_code == 200 and request_problems(sent) == []
    broken = requests.get(f"{wire_server.url}/items/.1,x", timeout=5)
    assert broken.status_code == 400 and broken.json()["errors"][0]["rule"] == "type"
    assert [v.path for v in request_problems(broken)] == ["path.ids[1]"]


def test_a_deep_object_member_of_the_wrong_type_is_refused_by_both(wire_server) -> None:
    broken = requests.get(f"{wire_server.url}/search?filter[size]=notanint", timeout=5)
    assert broken.status_code == 400
    assert {"in": "query", "name": "filter", "rule": "type"}.items() <= broken.json()["errors"][0].items()
    assert [(v.path, v.rule) for v in request_problems(broken)] == [("query.filter.size", "type")]

    good = requests.get(f"{wire_server.url}/search", params={"filter[size]": "3", "filter[colour]": "red"}, timeout=5)
    assert good.status_code == 200 and validate_exchange(WIRE_SPEC, good) == []
    wrong_enum = requests.get(f"{wire_server.url}/search?filter%5Bcolour%5D=blue", timeout=5)
    assert wrong_enum.status_code == 400 and [v.rule for v in request_problems(wrong_enum)] == ["enum"]


def test_a_body_declared_as_a_range_is_sent_as_json_and_accepted_by_both(wire_server) -> None:
    seen: list = []
    client = odm_dyn.Client(wire_server.url, spec=WIRE_SPEC, on_exchange=seen.append)
    assert client.upload_with_http_info(body={"name": "x"}).status_code == 200  # not a bare TypeError
    assert seen[0].request_headers["Content-Type"] == "application/json"

    sent = requests.post(f"{wire_server.url}/upload", json={"name": "x"}, timeout=5)
    assert sent.status_code == 200 and validate_exchange(WIRE_SPEC, sent) == []
    broken = requests.post(f"{wire_server.url}/upload", json={"label": "x"}, timeout=5)
    assert broken.status_code == 400 and [v.rule for v in request_problems(broken)] == ["required"]
    html = requests.post(f"{wire_server.url}/upload", data=b"<p>", headers={"Content-Type": "text/html"}, timeout=5)
    assert html.status_code == 400 and [v.rule for v in request_problems(html)] == ["media-type"]


def test_the_client_still_refuses_a_bad_range_body_before_sending(wire_server) -> None:
    client = odm_dyn.Client(wire_server.url, spec=WIRE_SPEC)
    with pytest.raises(odm_dyn.RequestValidationError, match="name"):
        client.upload(body={"label": "x"})


# --------------------------------------------------------------------------- media ranges


@pytest.mark.parametrize(
    ("media", "media_range", "expected"),
    [
        ("application/json", "application/json", True),
        ("Application/JSON; charset=utf-8", "application/json", True),
        ("application/json", "application/*", True),
        ("application/scim+json", "application/*", True),
        ("text/csv", "application/*", False),
        ("text/csv", "*/*", True),
        ("text/csv", "text/*; q=0.5", True),
        ("application/xml", "application/json", False),
    ],
)
def test_a_media_type_is_in_a_range_by_type_and_subtype_only(media: str, media_range: str, expected: bool) -> None:
    assert in_range(media, media_range) is expected


def test_the_declared_match_is_exact_first_then_the_narrowest_range() -> None:
    declared = ["*/*", "application/*", "application/json"]
    assert match_declared("application/json; charset=utf-8", declared) == "application/json"
    assert match_declared("application/xml", declared) == "application/*"
    assert match_declared("text/plain", declared) == "*/*"
    assert match_declared("text/plain", ["application/*"]) is None
    assert match_declared("", ["application/*"]) is None


def test_accept_chooses_by_q_value_then_order() -> None:
    offered = ["application/json", "text/tab-separated-values"]
    assert choose_by_accept(offered, "text/*;q=0.9, application/json;q=0.1") == "text/tab-separated-values"
    assert choose_by_accept(offered, "text/tab-separated-values;q=0, */*") == "application/json"
    assert choose_by_accept(offered, "image/png") == "application/json"  # no match: JSON
    assert choose_by_accept(offered, None) == "application/json"


def test_a_range_is_sent_as_the_concrete_type_that_fits_the_value() -> None:
    assert concrete("application/*", {"a": 1}) == "application/json"
    assert concrete("*/*", b"raw") == "application/octet-stream"
    assert concrete("text/*", "words") == "text/plain"
    assert concrete("application/xml") == "application/xml"


# --------------------------------------------------------------------------- the incoming check


@pytest.fixture(scope="module")
def wire_api():
    return load_api(WIRE_SPEC)


def test_an_encoded_delimiter_stays_inside_its_item(wire_api) -> None:
    plan = wire_api.plans["search"]
    reading = read_incoming(plan, IncomingRequest("GET", "/search", "tags=1,2&limit=3"))
    assert reading.problems == [] and reading.params == {"tags": [1, 2], "limit": 3}
    split = read_incoming(plan, IncomingRequest("GET", "/search", "tags=1%2C2"))
    assert [p.rule for p in split.problems] == ["type"]  # "1,2" is one item, not an integer


def test_headers_and_cookies_are_typed_too(wire_api) -> None:
    plan = wire_api.plans["search"]
    incoming = IncomingRequest("GET", "/search", headers={"x-trace": "1, 2"}, cookies=(("session", "7"),))
    reading = read_incoming(plan, incoming)
    assert reading.problems == [] and reading.params == {"X-Trace": [1, 2], "session": 7}
    bad = IncomingRequest("GET", "/search", headers={"x-trace": "1,two"}, cookies=(("session", "x"),))
    assert sorted((p.location, p.rule) for p in check_incoming(plan, bad)) == [("cookie", "type"), ("header", "type")]


def test_a_label_without_its_dot_and_a_repeated_single_value_are_named(wire_api) -> None:
    [label] = check_incoming(wire_api.plans["getItems"], IncomingRequest("GET", "/items/1,2"))
    assert (label.location, label.name, label.rule) == ("path", "ids", "style")
    [repeated] = check_incoming(wire_api.plans["search"], IncomingRequest("GET", "/search", "limit=1&limit=2"))
    assert (repeated.name, repeated.rule) == ("limit", "repeated")


def test_a_body_without_content_type_is_read_as_the_one_declared(wire_api) -> None:
    plan = wire_api.plans["upload"]
    assert check_incoming(plan, IncomingRequest("POST", "/upload", body=b'{"name": "x"}')) == []
    [problem] = check_incoming(plan, IncomingRequest("POST", "/upload", body=b"{not json"))
    assert problem.rule == "json"


# --------------------------------------------------------------------------- what a style carries

FEATURES = str(Path(__file__).parent / "data" / "features31.yaml")


@pytest.mark.parametrize(
    ("operation", "value", "segment"),
    [
        ("pathLabelExplode", ["a.b", "c"], ".a%2Eb.c"),  # "." separates: one inside an item is encoded
        ("pathLabel", ["a.b", "c,d"], ".a.b,c%2Cd"),
        ("pathSimple", ["a/b", "..", "%"], "a%2Fb,%2E%2E,%25"),
        ("pathMatrixExplode", ["x;y", "="], ";arr=x%3By;arr=%3D"),
    ],
)
def test_a_delimiter_inside_a_path_item_is_sent_encoded_and_read_back(operation, value, segment) -> None:
    from odm_dyn.wire.styles import path_segment

    plan = load_api(FEATURES).plans[operation]
    param = plan.params["arr"]
    assert path_segment(param, value) == segment
    path = plan.op.path.replace("{prim}", path_segment(plan.params["prim"], "p")).replace("{arr}", segment)
    path = path.replace("{obj}", path_segment(plan.params["obj"], {"R": 1}))
    reading = read_incoming(plan, IncomingRequest("GET", path))
    assert reading.problems == [] and reading.params["arr"] == value


def test_allow_reserved_keeps_reserved_characters_but_not_plus() -> None:
    from odm_dyn.wire.styles import query_pairs

    param = load_api(FEATURES).plans["queryStyles"].params["reserved"]
    assert query_pairs(param, "a/b:c,d+e&f") == ["reserved=a/b:c,d%2Be%26f"]
