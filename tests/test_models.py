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


# --------------------------------------------------------------------------- display and behaviour (issue 16)

EDITORS = "tests/data/editors.yaml"
SAMPLE = {
    "id": "S1",
    "kind": "blood",
    "collectedAt": "2024-05-01T10:00:00Z",
    "receivedOn": "2024-05-02",
    "donor": {"donorId": "D1", "age": 40},
    "aliquots": [{"label": "a", "volumeMl": 1.5}, {"label": "b"}],
}


@pytest.fixture(scope="module")
def editors():
    return odm_dyn.Client("http://127.0.0.1:1", spec=EDITORS).models


def test_repr_shows_nested_models_as_models_with_snake_case_names(editors):
    text = repr(editors.Sample.from_dict(SAMPLE))
    assert "donor=Donor(donor_id='D1', age=40)" in text
    assert "aliquots=[Aliquot(label='a', volume_ml=1.5), Aliquot(label='b')]" in text
    assert "donorId" not in text and "volumeMl" not in text


def test_pretty_printer_wraps_at_the_width_asked(editors):
    pretty = pytest.importorskip("IPython.lib.pretty")
    sample = editors.Sample.from_dict(SAMPLE)
    narrow = pretty.pretty(sample, max_width=60).splitlines()
    assert len(narrow) > 5 and narrow[0] == "Sample(id='S1',"
    assert "       aliquots=[Aliquot(label='a', volume_ml=1.5)," in narrow
    assert "                 Aliquot(label='b')])" in narrow  # the list's items line up under it
    wide = pretty.pretty(sample, max_width=1000)
    assert wide == repr(sample)


def test_html_view_is_a_small_escaped_table(editors):
    sample = editors.Sample.from_dict({**SAMPLE, "id": "<b>&"})
    html = sample._repr_html_()
    assert html.startswith("<table>") and "<caption" in html and "<th style='text-align:left'>donor_id</th>" in html
    assert "&lt;b&gt;&amp;" in html and "<b>&" not in html.replace("<b>Sample</b>", "").replace("<b>Donor</b>", "")


def test_dates_are_datetime_and_date_attributes_and_wire_strings_in_to_dict(editors):
    import datetime

    sample = editors.Sample.from_dict(SAMPLE)
    assert sample.collected_at == datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.timezone.utc)
    assert sample.received_on == datetime.date(2024, 5, 2)
    assert sample.to_dict()["collectedAt"] == "2024-05-01T10:00:00Z"
    utc = datetime.timezone.utc
    made = editors.Sample(id="S", kind="blood", collected_at=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc))
    assert made.to_dict()["collectedAt"] == "2024-01-02T03:04:05+00:00" and made.collected_at.hour == 3
    with pytest.raises(odm_dyn.RequestValidationError, match="'collected_at' breaks 'format'"):
        editors.Sample(collected_at=datetime.datetime(2024, 1, 2))  # no offset: not an RFC 3339 date-time
    made.received_on = datetime.date(2024, 2, 3)
    assert made.to_dict()["receivedOn"] == "2024-02-03"
    assert editors.Sample.from_dict({"collectedAt": "not a date"}).collected_at == "not a date"


def test_models_of_a_custom_spec_pickle_into_their_own_class(editors):
    sample = editors.Sample.from_dict(SAMPLE)
    back = pickle.loads(pickle.dumps(sample))
    assert back == sample and type(back) is editors.Sample and back.donor.donor_id == "D1"


def test_models_of_a_custom_spec_pickle_across_processes(editors, tmp_path):
    """What joblib and multiprocessing do: another interpreter loads the pickle."""
    import subprocess
    import sys

    (tmp_path / "sample.pickle").write_bytes(pickle.dumps(editors.Sample.from_dict(SAMPLE)))
    code = "import pickle, sys; s = pickle.load(open(sys.argv[1], 'rb')); print(type(s).__name__, s.donor.donor_id)"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "sample.pickle")], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "Sample D1", done.stderr


def test_constructor_refuses_unknown_fields_as_request_validation_does(editors):
    expected = r"unknown field 'donorid' \(did you mean 'donor_id'\?\)"
    with pytest.raises(odm_dyn.RequestTypeError, match=expected) as caught:
        editors.Donor(donorid="D")
    assert isinstance(caught.value, TypeError) and caught.value.parameter == "donorid"


def test_constructor_refuses_wrong_types_and_values_as_request_validation_does(editors):
    with pytest.raises(odm_dyn.RequestTypeError, match="'count' breaks 'type': expected integer, got string"):
        editors.Sample(count="three")
    with pytest.raises(odm_dyn.RequestValidationError, match="'kind' breaks 'enum'") as caught:
        editors.Sample(kind="bone")
    assert caught.value.rule == "enum" and not isinstance(caught.value, TypeError)
    expected = r"'donor' breaks 'type': expected integer, got string \(at donor.age\)"
    with pytest.raises(odm_dyn.RequestTypeError, match=expected):
        editors.Sample(donor={"donorId": "d", "age": "old"})


def test_from_dict_still_keeps_what_the_server_sent(editors):
    donor = editors.Donor.from_dict({"donorId": "D", "age": "not checked", "extra": 1})
    assert donor.age == "not checked" and donor.extra == 1 and donor.to_dict()["extra"] == 1


def test_a_schema_without_properties_takes_any_field(editors):
    assert editors.Free(anything=1).to_dict() == {"anything": 1}
