"""Loading specs: files, lists, folders, cross-file $refs, broken specs, the vendor's API, the cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import odm_dyn
from odm_dyn.api.load import load_api
from odm_dyn.spec.load import load_documents

DATA = Path(__file__).parent / "data"
VENDOR = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "genestack-openapi-v1"
SCHEMA_200 = "/paths/~1a/get/responses/200/content/application~1json/schema"
needs_vendor = pytest.mark.skipif(not (VENDOR / "odmApi.yaml").is_file(), reason="vendor specs not present")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ODM_DYN_CACHE_DIR", str(tmp_path / "cache"))


def test_bundled_spec_is_shipped_and_valid():
    assert Path(odm_dyn.TASKS_SPEC).is_file()
    api = load_api(odm_dyn.TASKS_SPEC)
    assert set(api.operations) == {"getTaskInfo", "publishAllStudies"}
    assert set(api.security_schemes) == {"Access-token", "Genestack-API-Token"}
    assert set(api.operations["getTaskInfo"].responses) == {"200", "401", "404", "500"}
    assert set(api.operations["publishAllStudies"].responses) == {"200", "401", "403", "500"}


def test_bundled_spec_passes_openapi_spec_validator():
    import yaml
    from openapi_spec_validator import validate

    validate(yaml.safe_load(Path(odm_dyn.TASKS_SPEC).read_text()))


def test_status_codes_written_as_integers_become_strings():
    document = load_documents(DATA / "split" / "api.yaml")[0]
    assert list(document.data["paths"]["/things/{id}"]["get"]["responses"]) == ["200"]


def test_refs_into_sibling_files_resolve_and_stay_shared():
    document = load_documents(DATA / "split" / "api.yaml")[0]
    schemas = document.data["components"]["schemas"]
    assert schemas["Thing"]["properties"]["parts"]["items"] == {"$ref": "#/components/schemas/Part"}
    # Part refers to itself through its own file name: kept as one recursive component.
    assert schemas["Part"]["properties"]["children"]["items"] == {"$ref": "#/components/schemas/Part"}


def test_recursive_schema_validates_nested_data(tmp_path):
    from tests.scripted import ScriptedServer

    with ScriptedServer() as server:
        server.answer(200, '{"id": "t", "parts": [{"name": "p", "children": [{"name": 5}]}]}')
        with odm_dyn.Client(server.url, spec=DATA / "split" / "api.yaml") as client:
            with pytest.raises(odm_dyn.ResponseValidationError, match=r"\$.parts\[0\].children\[0\].name"):
                client.get_thing("t")


def test_a_list_and_a_folder_load_together(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    shutil.copy(odm_dyn.TASKS_SPEC, folder / "tasks.yaml")
    shutil.copy(DATA / "params.yaml", folder / "params.yaml")
    (folder / "fragment.yaml").write_text("type: object\n")  # not a document: skipped
    for source in (folder, [odm_dyn.TASKS_SPEC, DATA / "params.yaml"]):
        client = odm_dyn.Client("http://127.0.0.1:1", spec=source)
        assert {"get_task_info", "get_item", "create_item", "items"} <= set(dir(client))


@pytest.mark.parametrize(
    "name, message, pointer",
    [
        ("bad_yaml.yaml", "invalid YAML", None),
        ("missing_ref.yaml", "points to nothing", SCHEMA_200),
        (
            "missing_file.yaml",
            "names a file that cannot be loaded",
            "/paths/~1a/get/responses/200/content/application~1json/schema",
        ),
        ("invalid_doc.yaml", "description.? is a required property", "/paths/~1a/get/responses/200"),
        ("no_openapi.yaml", "unsupported or missing 'openapi' version", "/openapi"),
        # faults the keyword stage finds: the pointer is the node's place in the document, not
        # a path relative to the schema being checked, nor the path through $refs that reached it
        (
            "deep_component.yaml",
            "'strin' is not valid",
            "/components/schemas/Inner/properties/rows/items/properties/n/type",
        ),
        ("bad_pattern.yaml", "is not a 'regex'", "/paths/~1a/get/parameters/0/schema/pattern"),
        ("undeclared_path_param.yaml", "Path parameter 'id'", "/paths/~1things~1{id}/get"),
    ],
)
def test_broken_spec_raises_spec_error_naming_file_and_pointer(name, message, pointer):
    with pytest.raises(odm_dyn.SpecError, match=message) as caught:
        odm_dyn.Client("http://127.0.0.1:1", spec=DATA / "broken" / name)
    assert caught.value.file.endswith(name)
    assert caught.value.pointer == pointer
    assert name in str(caught.value)


def test_duplicate_operation_id_across_files_is_a_spec_error():
    with pytest.raises(odm_dyn.SpecError, match="duplicate operationId 'getTaskInfo'") as caught:
        odm_dyn.Client(spec=[odm_dyn.TASKS_SPEC, DATA / "broken" / "duplicate_a.yaml"])
    assert caught.value.file.endswith("duplicate_a.yaml")
    assert caught.value.pointer == "/paths/~1a/get/operationId"


def test_missing_spec_file_is_a_spec_error(tmp_path):
    with pytest.raises(odm_dyn.SpecError, match="no such spec file"):
        odm_dyn.Client(spec=tmp_path / "nope.yaml")


def test_ref_to_nowhere_in_a_sibling_file_names_that_file(tmp_path):
    shutil.copytree(DATA / "split", tmp_path / "split")
    (tmp_path / "split" / "schemas" / "Part.yaml").write_text("type: object\nproperties:\n  x: {$ref: './Gone.yaml'}\n")
    with pytest.raises(odm_dyn.SpecError, match="Gone.yaml") as caught:
        load_documents(tmp_path / "split" / "api.yaml")
    assert caught.value.file.endswith("Part.yaml") and caught.value.pointer == "/properties/x"


def test_schema_fault_in_a_sibling_file_names_that_file_and_its_pointer(tmp_path):
    shutil.copytree(DATA / "split", tmp_path / "split")
    part = tmp_path / "split" / "schemas" / "Part.yaml"
    part.write_text(part.read_text().replace("name: {type: string}", "name: {type: strin}"))
    with pytest.raises(odm_dyn.SpecError, match="'strin'") as caught:
        load_documents(tmp_path / "split" / "api.yaml", use_cache=False)
    assert caught.value.file.endswith("Part.yaml") and caught.value.pointer == "/properties/name/type"


def test_an_invalid_default_is_located_under_default(tmp_path):
    spec = tmp_path / "default.yaml"
    spec.write_text((DATA / "broken" / "bad_pattern.yaml").read_text().replace('pattern: "(["', "default: 7"))
    with pytest.raises(odm_dyn.SpecError, match="7 is not of type 'string'") as caught:
        load_documents(spec, use_cache=False)
    assert caught.value.pointer == "/paths/~1a/get/parameters/0/schema/default"


# --------------------------------------------------------------------------- cache


def test_cache_is_used_when_nothing_changed_and_dropped_when_any_file_changes(tmp_path):
    shutil.copytree(DATA / "split", tmp_path / "split")
    root = tmp_path / "split" / "api.yaml"
    first = load_documents(root)[0]
    assert any(Path(odm_dyn.spec.cache_dir()).glob("spec-*.json"))
    again = load_documents(root)[0]
    assert again.data == first.data
    part = tmp_path / "split" / "schemas" / "Part.yaml"
    part.write_text(part.read_text().replace("name: {type: string}", "name: {type: integer}"))
    changed = load_documents(root)[0]
    assert changed.data["components"]["schemas"]["Part"]["properties"]["name"] == {"type": "integer"}


def test_corrupt_cache_is_ignored(tmp_path):
    root = DATA / "split" / "api.yaml"
    load_documents(root)
    for entry in Path(odm_dyn.spec.cache_dir()).glob("spec-*.json"):
        entry.write_text("{not json")
    document = load_documents(root)[0]
    assert "Thing" in document.data["components"]["schemas"]


# --------------------------------------------------------------------------- the vendor's API


@needs_vendor
def test_vendor_whole_api_gives_244_methods():
    client = odm_dyn.Client("http://127.0.0.1:1", spec=VENDOR / "odmApi.yaml")
    operations = client.operations
    assert len(operations) == 244
    methods = [getattr(client, op.python_name) for op in operations.values()]
    assert all(callable(m) and m.__doc__ for m in methods)
    assert len({op.python_name for op in operations.values()}) == 244
    assert client.get_task_info.__name__ == "get_task_info"


@needs_vendor
def test_vendor_per_area_file_loads():
    client = odm_dyn.Client("http://127.0.0.1:1", spec=VENDOR / "integrationCurator.yaml")
    assert len(client.operations) > 10


@needs_vendor
def test_vendor_folder_has_duplicate_operation_ids():
    with pytest.raises(odm_dyn.SpecError, match="duplicate operationId"):
        load_documents(VENDOR)


# --------------------------------------------------------------------------- --spec on the command line


def test_spec_values_replace_or_extend_the_bundled_spec(tmp_path, monkeypatch):
    from odm_dyn.spec.read import spec_source

    assert spec_source(None) is None and spec_source([]) is None
    assert spec_source(["mine.yaml"]) == ["mine.yaml"]  # FILE replaces the bundled spec
    assert spec_source(["+extra.yaml"]) == [odm_dyn.TASKS_SPEC, "extra.yaml"]  # +FILE adds to it
    monkeypatch.chdir(Path(odm_dyn.TASKS_SPEC).parent)
    for bundled in (odm_dyn.TASKS_SPEC, "tasks.yaml", "./tasks.yaml"):  # named too, however spelled: once
        assert spec_source(["+" + bundled, "+extra.yaml"]) == [bundled, "extra.yaml"]
        assert spec_source([bundled, "+extra.yaml"]) == [bundled, "extra.yaml"]


def test_the_command_line_adds_the_bundled_spec_once(capsys):
    from odm_dyn.cli.main import main

    assert main(["--spec", "+" + odm_dyn.TASKS_SPEC, "--spec", f"+{DATA / 'params.yaml'}", "ops", "--long"]) == 0
    out = capsys.readouterr().out
    assert out.count("get_task_info(") == 1 and "create_item(" in out


def _uncompilable_spec(tmp_path: Path) -> Path:
    """A pattern the spec check lets through but jsonschema-rs's regex engine refuses."""
    spec = tmp_path / "pattern.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: pattern, version: '1'}\npaths:\n  /things/{id}:\n    get:\n"
        "      operationId: getThing\n      parameters:\n"
        "        - {name: id, in: path, required: true, schema: {type: string, pattern: '\\\\p{Foo}'}}\n"
        "      responses: {'204': {description: none}}\n"
    )
    return spec


def test_a_schema_the_validator_cannot_compile_is_a_spec_error_naming_the_operation(tmp_path, monkeypatch):
    """Refused at load, every time (it leaves no cache entry, whose schemas a warm load would
    compile only when used)."""
    monkeypatch.setenv("ODM_DYN_CACHE_DIR", str(tmp_path / "cache"))
    spec = _uncompilable_spec(tmp_path)
    for _ in range(2):
        with pytest.raises(odm_dyn.SpecError, match="getThing: a schema cannot be compiled") as caught:
            load_api(spec)
        assert caught.value.file == str(spec) and caught.value.pointer == "/paths/~1things~1{id}/get"
        assert not list((tmp_path / "cache").glob("spec-*.json")), "a spec that does not compile is not cached"


def test_a_cache_entry_a_spec_only_load_wrote_does_not_defer_the_compile(tmp_path, monkeypatch):
    """``odm-dyn diff`` and the CLI's parsers load documents without compiling an Api: their
    entry must not pass for one whose schemas all compiled, or the fault would wait for a call."""
    monkeypatch.setenv("ODM_DYN_CACHE_DIR", str(tmp_path / "cache"))
    spec = _uncompilable_spec(tmp_path)
    assert not load_documents([spec])[0].compiled  # a spec-only load: checked and cached
    assert load_documents([spec])[0].from_cache
    for _ in range(2):
        with pytest.raises(odm_dyn.SpecError, match="getThing: a schema cannot be compiled"):
            load_api(spec)
