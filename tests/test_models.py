"""Model classes made from components/schemas."""

from __future__ import annotations

import copy
import json
import pickle
import pprint

import pytest

import odm_dyn
from tests.scripted import ScriptedServer

NESTED = "tests/data/split/api.yaml"
SIBLING = "tests/data/sibling/api.yaml"


@pytest.fixture(scope="module")
def models():
    return odm_dyn.Client("http://127.0.0.1:1", spec=NESTED).models


def test_attributes_are_snake_case_and_dict_is_wire_named():
    task = odm_dyn.models.TaskInfo.from_dict({"id": "A", "startedAt": 1, "createdBy": "me"})
    assert (task.started_at, task.created_by) == (1, "me")
    assert task.ended_at is None  # declared but not sent
    assert task.to_dict() == {"id": "A", "startedAt": 1, "createdBy": "me"}


def test_constructor_takes_snake_or_wire_names_and_setting_updates_the_dict():
    task = odm_dyn.models.TaskInfo(started_at=1, endedAt=2)
    task.status = "DONE"
    assert task.to_dict() == {"startedAt": 1, "endedAt": 2, "status": "DONE"}


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        odm_dyn.models.TaskInfo().nope  # noqa: B018


def test_equality_repr_pprint_copy_pickle():
    a = odm_dyn.models.TaskInfo.from_dict({"id": "A", "status": "DONE"})
    b = odm_dyn.models.TaskInfo.from_dict({"id": "A", "status": "DONE"})
    assert a == b and a != {"id": "A", "status": "DONE"} and hash(a) == hash(b)
    assert repr(a) == "TaskInfo(id='A', status='DONE')"
    assert pprint.pformat(a) == repr(a)
    assert copy.deepcopy(a) == a and pickle.loads(pickle.dumps(a)) == a


def test_to_dict_is_a_copy():
    task = odm_dyn.models.TaskInfo.from_dict({"id": "A"})
    task.to_dict()["id"] = "B"
    assert task.id == "A"


def test_nested_models_and_lists_of_models(models):
    thing = models.Thing.from_dict({"id": "t", "parts": [{"name": "p", "children": [{"name": "c"}]}]})
    part = thing.parts[0]
    assert type(part).__name__ == "Part" and part.children[0].name == "c"
    assert thing.to_dict()["parts"][0]["children"] == [{"name": "c"}]


def test_model_docstring_lists_attributes():
    doc = odm_dyn.models.TaskInfo.__doc__
    assert "started_at (integer (read-only))" in doc or "started_at (integer" in doc
    assert "status" in dir(odm_dyn.models.TaskInfo())


def test_from_dict_refuses_non_dicts():
    with pytest.raises(TypeError, match="needs a dict"):
        odm_dyn.models.TaskInfo.from_dict(["not", "a", "dict"])


def test_a_schema_of_a_sibling_file_is_a_model_as_one_of_the_main_file():
    """``schemas.yaml#/components/schemas/Gadget`` becomes the bundle's own Gadget, hence a model."""
    gadget = {"id": "g1", "size": 2, "parts": [{"id": "g2"}]}
    with ScriptedServer() as server:
        client = odm_dyn.Client(server.url, spec=SIBLING)
        server.answer(200, json.dumps(gadget).encode())
        got = client.get_gadget("g1")
        server.answer(200, json.dumps({"id": "w1", "gadget": gadget}).encode())
        widget = client.get_widget("w1")
        server.answer(200, json.dumps({"id": 5}).encode())
        with pytest.raises(odm_dyn.ResponseValidationError, match="expected string, got integer"):
            client.get_gadget("g1")  # the hoisted schema still checks the answer
    assert type(got) is client.models.Gadget and type(got.parts[0]) is client.models.Gadget
    assert type(widget) is client.models.Widget and type(widget.gadget) is client.models.Gadget
    assert got.to_dict() == gadget


def test_a_sibling_schema_whose_name_the_main_file_takes_is_inlined_and_checked():
    client = odm_dyn.Client("http://127.0.0.1:1", spec=SIBLING)
    schemas = client.api.documents[0].data["components"]["schemas"]
    assert schemas["Label"]["properties"] == {"main": {"type": "boolean"}}  # the main file's own
    answer = client.api.plans["listLabels"].responses["200"].checks["application/json"]
    assert [v.rule for v in answer.violations({"main": True})] == ["required"]  # the sibling's Label
