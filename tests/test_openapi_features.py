"""OpenAPI features as the wire sees them: styles, media types, schemas, errors, names.

Every test runs against our own small specs in ``tests/data/`` (the same operations written
as OpenAPI 3.0 and as 3.1) and a scripted server that records the exact request bytes.
Expected strings follow the style tables of the OpenAPI specification, with the values
``"blue"``, ``["blue", "black", "brown"]`` and ``{"R": 100, "G": 200, "B": 150}``.
"""

from __future__ import annotations

import inspect
import io
import json
import logging
from pathlib import Path

import pytest

import odm_dyn
from odm_dyn.client import binding as client_module
from tests.scripted import ScriptedServer

DATA = Path(__file__).parent / "data"
SPECS = {"3.0": DATA / "features30.yaml", "3.1": DATA / "features31.yaml"}
PRIM, ARR, OBJ = "blue", ["blue", "black", "brown"], {"R": 100, "G": 200, "B": 150}
PET = {"id": 7, "name": "Rex", "nickname": None, "born": "2024-01-01T00:00:00Z"}


@pytest.fixture
def scripted():
    with ScriptedServer() as server:
        yield server


@pytest.fixture(params=sorted(SPECS), ids=lambda v: f"oas{v}")
def client(request, scripted, make_client):
    """Per spec version, and per kind of client (Client, AsyncClient): every test below runs for both."""
    with make_client(scripted.url, spec=SPECS[request.param], retries=0) as client:
        yield client


def sent(scripted: ScriptedServer):
    return scripted.received[-1]


def content_type(scripted: ScriptedServer) -> str:
    return {k.lower(): v for k, v in sent(scripted).headers.items()}["content-type"]


# --------------------------------------------------------------------------- path


@pytest.mark.parametrize(
    "operation, expected",
    [
        ("path_simple", "/simple/blue/blue,black,brown/R,100,G,200,B,150"),
        ("path_simple_explode", "/simple-explode/blue/blue,black,brown/R=100,G=200,B=150"),
        ("path_label", "/label/.blue/.blue,black,brown/.R,100,G,200,B,150"),
        ("path_label_explode", "/label-explode/.blue/.blue.black.brown/.R=100.G=200.B=150"),
        ("path_matrix", "/matrix/;prim=blue/;arr=blue,black,brown/;obj=R,100,G,200,B,150"),
        ("path_matrix_explode", "/matrix-explode/;prim=blue/;arr=blue;arr=black;arr=brown/;R=100;G=200;B=150"),
    ],
)
def test_path_styles(client, scripted, operation, expected):
    scripted.answer(204, b"", content_type=None)
    getattr(client, operation)(PRIM, ARR, OBJ)
    assert sent(scripted).target == expected


def test_path_values_are_percent_encoded_item_by_item(client, scripted):
    scripted.answer(204, b"", content_type=None)
    client.path_simple("a/b?c", ["x,y", "z"], {"R": 1})
    # The delimiters stay literal; a comma inside a value does not.
    assert sent(scripted).target == "/simple/a%2Fb%3Fc/x%2Cy,z/R,1"


# --------------------------------------------------------------------------- query


@pytest.mark.parametrize(
    "argument, value, expected",
    [
        ("form_prim", PRIM, "formPrim=blue"),
        ("form_arr", ARR, "formArr=blue&formArr=black&formArr=brown"),
        ("form_obj", OBJ, "R=100&G=200&B=150"),
        ("flat_arr", ARR, "flatArr=blue,black,brown"),
        ("flat_obj", OBJ, "flatObj=R,100,G,200,B,150"),
        ("space_arr", ARR, "spaceArr=blue%20black%20brown"),
        ("space_obj", OBJ, "spaceObj=R%20100%20G%20200%20B%20150"),
        ("pipe_arr", ARR, "pipeArr=blue%7Cblack%7Cbrown"),
        ("pipe_obj", OBJ, "pipeObj=R%7C100%7CG%7C200%7CB%7C150"),
        ("deep", OBJ, "deep%5BR%5D=100&deep%5BG%5D=200&deep%5BB%5D=150"),
        ("count", 2**53 + 1, "count=9007199254740993"),
        ("flag", True, "flag=true"),
        ("json", OBJ, "json=%7B%22R%22%3A100%2C%22G%22%3A200%2C%22B%22%3A150%7D"),
        ("reserved", "a/b:c,d", "reserved=a/b:c,d"),
        ("form_prim", "a b&c=d", "formPrim=a%20b%26c%3Dd"),
    ],
)
def test_query_styles(client, scripted, argument, value, expected):
    scripted.answer(204, b"", content_type=None)
    client.query_styles(**{argument: value})
    assert sent(scripted).target == "/query?" + expected


def test_defaults_are_left_to_the_server(client, scripted):
    scripted.answer(204, b"", content_type=None)
    client.query_styles()
    assert sent(scripted).target == "/query"


def test_array_query_items_are_validated_before_sending(client, scripted):
    with pytest.raises(odm_dyn.RequestValidationError, match="form_arr"):
        client.query_styles(form_arr=[1, 2])
    assert scripted.received == []


# --------------------------------------------------------------------------- headers and cookies


def test_header_styles(client, scripted):
    scripted.answer(204, b"", content_type=None)
    client.header_styles(x_prim=5, x_arr=ARR, x_obj=OBJ, x_arr_exploded=ARR, x_obj_exploded=OBJ)
    headers = sent(scripted).headers
    assert headers["X-Prim"] == "5"
    assert headers["X-Arr"] == "blue,black,brown"
    assert headers["X-Obj"] == "R,100,G,200,B,150"
    assert headers["X-Arr-Exploded"] == "blue,black,brown"
    assert headers["X-Obj-Exploded"] == "R=100,G=200,B=150"


def test_header_value_with_a_line_break_is_refused(client, scripted):
    with pytest.raises(odm_dyn.RequestValidationError, match="CR, LF"):
        client.header_styles(x_arr=["a\r\nInjected: yes"])
    assert scripted.received == []


@pytest.mark.parametrize(
    "argument, value, expected",
    [
        ("prim", "blue sky", "prim=blue%20sky"),
        ("arr", ARR, "arr=blue; arr=black; arr=brown"),
        ("obj", OBJ, "R=100; G=200; B=150"),
        ("flat_arr", ["a;b", "c"], "flatArr=a%3Bb,c"),
        ("flat_obj", OBJ, "flatObj=R,100,G,200,B,150"),
    ],
)
def test_cookie_styles(client, scripted, argument, value, expected):
    scripted.answer(204, b"", content_type=None)
    client.cookie_styles(**{argument: value})
    assert sent(scripted).headers["Cookie"] == expected


# --------------------------------------------------------------------------- request bodies


def test_json_body_leaves_out_nothing_and_read_only_is_not_required(client, scripted):
    scripted.answer(201, json.dumps({**PET, "id": 8}))
    pet = client.post_json(body={"name": "Rex", "secret": "s3", "nickname": None})
    assert sent(scripted).body == b'{"name":"Rex","secret":"s3","nickname":null}'
    assert content_type(scripted) == "application/json"
    # The answer holds readOnly id, no writeOnly secret: valid by direction.
    assert (pet.id, pet.name, pet.nickname) == (8, "Rex", None)


def test_write_only_property_is_still_required_in_a_request(client, scripted):
    with pytest.raises(odm_dyn.RequestValidationError, match="secret"):
        client.post_json(body={"name": "Rex"})
    assert scripted.received == []


def test_plus_json_body_and_answer(client, scripted):
    scripted.answer(200, '{"value": "u1", "$ref": "http://localhost/Users/u1"}', content_type="application/scim+json")
    member = client.post_scim(body={"value": "u1"})
    assert sent(scripted).body == b'{"value":"u1"}'
    assert content_type(scripted) == "application/scim+json"
    assert member.to_dict() == {"value": "u1", "$ref": "http://localhost/Users/u1"}


def test_form_urlencoded_body(client, scripted):
    scripted.answer(204, b"", content_type=None)
    client.post_form(body={"name": "a b&c", "tags": ["x", "y"], "size": 3})
    assert sent(scripted).body == b"name=a%20b%26c&tags=x&tags=y&size=3"
    assert content_type(scripted) == "application/x-www-form-urlencoded"


def test_form_body_is_validated(client, scripted):
    with pytest.raises(odm_dyn.RequestValidationError, match="size"):
        client.post_form(body={"name": "a", "size": "three"})


def test_multipart_with_a_path_bytes_an_open_file_and_a_json_part(client, scripted, tmp_path):
    scripted.answer(204, b"", content_type=None)
    path = tmp_path / "data.tsv"
    path.write_bytes(b"a\tb\n")
    handle = io.BytesIO(b"\x00\x01")
    handle.name = "/somewhere/blob.bin"
    client.upload(body={"title": "t", "meta": {"R": 1}, "file": path, "more": [b"raw", handle]})
    ctype = content_type(scripted)
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=", 1)[1]
    expected = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n'
        '{"R":1}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="data.tsv"\r\n'
        "Content-Type: application/octet-stream\r\n\r\na\tb\n\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="more"; filename="file"\r\n'
        "Content-Type: application/octet-stream\r\n\r\nraw\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="more"; filename="blob.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n"
        f"--{boundary}--\r\n"
    ).encode("latin-1")
    assert sent(scripted).body == expected


def test_multipart_file_tuple_names_the_file_and_its_type(client, scripted):
    scripted.answer(204, b"", content_type=None)
    client.upload(body={"file": ("rows.csv", b"a,b\n", "text/csv")})
    body = sent(scripted).body
    assert b'name="file"; filename="rows.csv"\r\nContent-Type: text/csv\r\n\r\na,b\n\r\n' in body


def test_multipart_without_its_required_file_is_refused(client, scripted):
    with pytest.raises(odm_dyn.RequestValidationError, match="file"):
        client.upload(body={"title": "t"})
    assert scripted.received == []


@pytest.mark.parametrize("kind", ["bytes", "file", "path"])
def test_raw_bytes_body(client, scripted, tmp_path, kind):
    scripted.answer(204, b"", content_type=None)
    (tmp_path / "blob").write_bytes(b"\x00\xffdata")
    body = {"bytes": b"\x00\xffdata", "file": io.BytesIO(b"\x00\xffdata"), "path": tmp_path / "blob"}[kind]
    client.put_raw(body=body)
    assert sent(scripted).method == "PUT"
    assert sent(scripted).body == b"\x00\xffdata"
    assert content_type(scripted) == "application/octet-stream"


def test_content_type_chooses_among_the_body_media_types(client, scripted):
    scripted.answer(204, b"", content_type=None)
    scripted.answer(204, b"", content_type=None)
    assert "_content_type" in inspect.signature(client.post_either).parameters
    client.post_either(body={"name": "n 1"})
    assert (content_type(scripted), sent(scripted).body) == ("application/json", b'{"name":"n 1"}')
    client.post_either(body={"name": "n 1"}, _content_type="application/x-www-form-urlencoded")
    assert (content_type(scripted), sent(scripted).body) == ("application/x-www-form-urlencoded", b"name=n%201")
    with pytest.raises(odm_dyn.RequestValidationError, match="_content_type"):
        client.post_either(body={}, _content_type="text/plain")


# --------------------------------------------------------------------------- answers


def test_json_is_asked_for_by_default_and_decoded_into_models(client, scripted):
    scripted.answer(200, json.dumps([PET]))
    pets = client.get_table()
    assert sent(scripted).headers["Accept"] == "application/json"
    assert [p.name for p in pets] == ["Rex"]


@pytest.mark.parametrize("media", ["text/tab-separated-values", "text/csv"])
def test_accept_chooses_a_table_returned_as_str(client, scripted, media):
    scripted.answer(200, "name\tsize\nRex\t3\n", content_type=f"{media}; charset=utf-8")
    table = client.get_table(_accept=media)
    assert sent(scripted).headers["Accept"] == media
    assert table == "name\tsize\nRex\t3\n"


def test_accept_refuses_a_media_type_the_operation_does_not_offer(client, scripted):
    with pytest.raises(odm_dyn.RequestValidationError, match="_accept"):
        client.get_table(_accept="application/xml")
    assert scripted.received == []


def test_csv_only_answer_is_str(client, scripted):
    scripted.answer(200, "a,b\n1,2\n", content_type="text/csv")
    assert client.get_csv() == "a,b\n1,2\n"
    assert sent(scripted).headers["Accept"] == "text/csv"


def test_binary_answer_is_bytes(client, scripted):
    scripted.answer(200, b"\x89PNG\x00", content_type="application/octet-stream")
    assert client.get_blob() == b"\x89PNG\x00"


def test_stream_to_a_path_writes_the_body_and_returns_the_path(client, scripted, tmp_path):
    big = bytes(range(256)) * 4096  # 1 MiB in many chunks
    scripted.answer(200, big, content_type="application/octet-stream")
    target = tmp_path / "blob.bin"
    assert "_stream_to" in inspect.signature(client.get_blob).parameters
    assert client.get_blob(_stream_to=target) == target
    assert target.read_bytes() == big
    assert not (tmp_path / "blob.bin.part").exists()


def test_stream_to_an_open_file_and_with_http_info(client, scripted):
    scripted.answer(200, "a\tb\n", content_type="text/tab-separated-values")
    sink = io.BytesIO()
    info = client.get_table_with_http_info(_accept="text/tab-separated-values", _stream_to=sink)
    assert info.status_code == 200 and info.data is sink
    assert sink.getvalue() == b"a\tb\n"


def test_stream_to_leaves_the_path_alone_on_an_error(client, scripted, tmp_path):
    scripted.answer(404, '{"message": "no such blob"}')
    target = tmp_path / "blob.bin"
    with pytest.raises(odm_dyn.NotFoundException) as caught:
        client.get_blob(_stream_to=target)
    assert caught.value.data.message == "no such blob"
    assert not target.exists() and not (tmp_path / "blob.bin.part").exists()


def test_answer_media_type_not_declared_is_an_error(client, scripted):
    scripted.answer(200, "<xml/>", content_type="application/xml")
    with pytest.raises(odm_dyn.ResponseValidationError, match="application/xml"):
        client.get_csv()


# --------------------------------------------------------------------------- schemas


def test_int64_stays_exact_both_ways(client, scripted):
    big = 2**62 + 1
    scripted.answer(200, json.dumps({**PET, "id": big}))
    assert client.get_pet(big).id == big
    assert sent(scripted).target == f"/pets/{big}"


def test_nullable_and_type_lists_accept_null_only_where_declared(client, scripted):
    scripted.answer(200, json.dumps({**PET, "nickname": None}))
    assert client.get_pet(1).nickname is None
    scripted.answer(200, json.dumps({**PET, "name": None}))
    with pytest.raises(odm_dyn.ResponseValidationError, match=r"\$\.name"):
        client.get_pet(1)


def test_date_time_format_is_checked(client, scripted):
    scripted.answer(200, json.dumps({**PET, "born": "yesterday"}))
    with pytest.raises(odm_dyn.ResponseValidationError, match="date-time"):
        client.get_pet(1)


def test_write_only_property_is_not_expected_in_an_answer_nor_read_only_in_a_request(client, scripted):
    scripted.answer(200, json.dumps({"name": "Rex"}))
    with pytest.raises(odm_dyn.ResponseValidationError, match="'id' is missing"):
        client.get_pet(1)  # readOnly id is required in answers
    scripted.answer(200, json.dumps({"id": 1, "name": "Rex"}))
    assert client.get_pet(1).name == "Rex"  # writeOnly secret is not


def test_one_of_with_discriminator(client, scripted):
    scripted.answer(200, '{"kind": "square", "side": 2}')
    shape = client.post_shape(body={"kind": "circle", "radius": 1.5})
    assert type(shape).__name__ == "Square" and shape.side == 2  # the discriminator picks the model
    with pytest.raises(odm_dyn.RequestValidationError, match="'radius' is missing"):  # the chosen schema's rule
        client.post_shape(body={"kind": "circle", "side": 2})
    scripted.answer(200, '{"kind": "triangle"}')
    with pytest.raises(odm_dyn.ResponseValidationError):
        client.post_shape(body={"kind": "square", "side": 1})


def test_all_of_any_of_and_additional_properties(client, scripted):
    scripted.answer(200, '{"name": "n", "size": "12k", "colour": "red"}')
    labels = client.get_labels()
    assert (labels.name, labels.to_dict()["colour"]) == ("n", "red")  # unknown fields are kept
    scripted.answer(200, '{"name": "n", "size": "twelve"}')
    with pytest.raises(odm_dyn.ResponseValidationError, match="anyOf"):
        client.get_labels()
    scripted.answer(200, '{"name": "n", "colour": 5}')
    with pytest.raises(odm_dyn.ResponseValidationError, match="colour"):
        client.get_labels()


# --------------------------------------------------------------------------- deprecation


@pytest.fixture
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(client_module, "_warned", set())


def test_deprecated_operation_is_warned_about_once_in_the_log(client, scripted, caplog, fresh_warnings):
    scripted.answer(204, b"", content_type=None)
    scripted.answer(204, b"", content_type=None)
    with caplog.at_level(logging.WARNING, logger="odm_dyn"):
        client.old_thing()
        client.old_thing()
    warned = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert warned == ["oldThing is deprecated by the spec; it may be removed from the API"]
    assert "Deprecated" in client.old_thing.__doc__


def test_deprecated_parameter_is_warned_about_only_when_used(client, scripted, caplog, fresh_warnings):
    scripted.answer(204, b"", content_type=None)
    scripted.answer(204, b"", content_type=None)
    with caplog.at_level(logging.WARNING, logger="odm_dyn"):
        client.query_styles(form_prim="x")
        assert not caplog.records
        client.query_styles(old="x")
    assert "queryStyles: parameter 'old' is deprecated" in caplog.text


# --------------------------------------------------------------------------- error bodies


def test_declared_error_body_becomes_the_exceptions_model(client, scripted):
    body = '{"status": "400", "detail": "bad filter", "schemas": ["urn:x"]}'
    scripted.answer(400, body, content_type="application/scim+json")
    with pytest.raises(odm_dyn.BadRequestException) as caught:
        client.post_scim(body={"value": "u"})
    error = caught.value
    assert type(error.data).__name__ == "ScimError"
    assert (error.data.status, error.data.detail) == ("400", "bad filter")
    assert error.body == body and error.raw_body == body.encode()


# --------------------------------------------------------------------------- names


def test_every_public_client_attribute_is_reserved_from_operation_names():
    from odm_dyn.api.plans import CLIENT_ATTRIBUTES
    from odm_dyn.client.compat import GeneratedApi

    base = {n for n in dir(odm_dyn.Client) if not n.startswith("_")} | {"host", "transport"}
    generated = {n for n in dir(GeneratedApi) if not n.startswith("_")} | {"api_client"}
    assert base | generated <= CLIENT_ATTRIBUTES


def test_clashes_are_resolved_by_one_rule():
    client = odm_dyn.Client("http://127.0.0.1:9", spec=DATA / "clashes.yaml")
    ops = {op.operation_id: op for op in client.operations.values()}
    names = {op_id: op.python_name for op_id, op in ops.items()}
    assert names == {
        "import": "import_",  # a keyword
        "call": "call_",  # one of the client's own methods
        "getThing": "get_thing",
        "get_thing": "get_thing_",  # the same snake_case as an earlier operation
        "getThing_with_http_info": "get_thing_with_http_info_",  # an earlier operation's twin
        "thingList": "thing_list",
    }
    assert client.api.tags["things"][0] == "Things"
    assert client.api.tags["thing_list_"][0] == "thing list"  # a tag named like an operation
    assert client.api.tags["spot_as_curator"][0] == "SPoT as Curator"  # an acronym is one word
    params = {p.name: p.python_name for p in ops["getThing"].parameters}
    assert params == {
        "from": "from_",
        "id": "id",
        "Id": "id_",  # a clash inside one operation
        "body": "body_",  # the request body's argument
        "self": "self_",
        "thingId": "thing_id",
        "thing_id": "thing_id_",
    }
    signature = inspect.signature(client.get_thing)
    assert list(signature.parameters)[:2] == ["id", "from_"]
    for name in ("import_", "call_", "get_thing", "get_thing_", "get_thing_with_http_info_", "thing_list"):
        assert callable(getattr(client, name)) and callable(getattr(client, name + "_with_http_info"))
    assert callable(client.call) and callable(client.things.get_thing)


# --------------------------------------------------------------------------- direction through allOf


def test_read_only_and_write_only_apply_through_all_of_parts(scripted):
    with odm_dyn.Client(scripted.url, spec=DATA / "allof_direction.yaml", retries=0) as accounts:
        scripted.answer(201, json.dumps({"id": "a1", "name": "n"}))
        created = accounts.create_account(body={"name": "n", "password": "p"})  # no readOnly id sent
        assert created.id == "a1"  # and no writeOnly password expected back
        with pytest.raises(odm_dyn.RequestValidationError, match="password"):
            accounts.create_account(body={"name": "n"})  # writeOnly is still required in a request
        scripted.answer(201, json.dumps({"name": "n"}))
        with pytest.raises(odm_dyn.ResponseValidationError, match="id"):
            accounts.create_account(body={"name": "n", "password": "p"})  # readOnly is required in an answer
    assert len(scripted.received) == 2


# --------------------------------------------------------------------------- property names


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_properties_named_like_keywords_are_schemas_like_any_other(scripted, tmp_path, version):
    spec = tmp_path / "keyword_names.yaml"
    spec.write_text((DATA / "keyword_names.yaml").read_text().replace("openapi: 3.0.3", f"openapi: {version}"))
    settings = {name: {"value": 1} for name in ("default", "example", "enum", "const", "discriminator", "properties")}
    settings["examples"] = [{"value": 2}]
    with odm_dyn.Client(scripted.url, spec=spec, retries=0) as client:
        scripted.answer(200, json.dumps(settings))
        answer = client.put_settings(body=settings)
        assert answer.default.value == 1 and answer.examples[0].value == 2
        assert json.loads(sent(scripted).body) == settings
        with pytest.raises(odm_dyn.RequestTypeError, match=r"body\.default\.value"):
            client.put_settings(body={"default": {"value": "one"}})
        scripted.answer(200, json.dumps({"default": {"value": 1}, "enum": {}}))
        with pytest.raises(odm_dyn.ResponseValidationError, match="value"):
            client.put_settings(body={"default": {"value": 1}})
