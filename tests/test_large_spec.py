"""Guards for a large spec's first load (issue 19): work and memory that must not grow with the
number of operations where the operations say the same things. Counts and traced bytes, never time.

The generated specs repeat what large generated specs repeat: the same path and query parameters
in every operation, a shared ``401`` response, an inline ``404`` written alike everywhere, and
a ``200`` that refers to one of a few record schemas.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from odm_dyn.api import plans as api_module
from odm_dyn.api import schemas as validation
from odm_dyn.api.load import load_api
from odm_dyn.spec import bundle as spec_bundle
from odm_dyn.spec.load import load_documents, without_cyclic_gc

RECORDS = 4


def _spec(operations: int) -> dict[str, Any]:
    record = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}}
    paths = {
        f"/records/{n}/{{id}}": {
            "get": {
                "operationId": f"getRecord{n}",
                "tags": [f"Group {n % 3}"],
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "filter", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "The record.",
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/Record{n % RECORDS}"}}
                        },
                    },
                    "401": {"$ref": "#/components/responses/Unauthenticated"},
                    "404": {"description": "No such record."},
                },
            }
        }
        for n in range(operations)
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "generated", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {f"Record{n}": {**record, "title": f"Record {n}"} for n in range(RECORDS)},
            "responses": {"Unauthenticated": {"description": "No or a bad token."}},
        },
    }


@pytest.fixture
def write_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("ODM_DYN_CACHE_DIR", str(tmp_path / "cache"))

    def write(operations: int) -> Path:
        path = tmp_path / f"generated-{operations}.json"
        path.write_text(json.dumps(_spec(operations)))
        return path

    return write


def _compiled_count(spec: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    compiled = []
    original = validation.compile_validator
    monkeypatch.setattr(validation, "compile_validator", lambda schema: compiled.append(1) or original(schema))
    api = load_api(spec)
    assert len(api.plans) > 0
    return len(compiled)


def test_compiled_validators_do_not_grow_with_the_operation_count(
    write_spec: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two parameter schemas ({type: string} twice) and four records, however many operations use them."""
    small, large = write_spec(50), write_spec(400)
    assert _compiled_count(small, monkeypatch) == _compiled_count(large, monkeypatch) == 2 + RECORDS


def _distinct(api: api_module.Api) -> dict[str, int]:
    plans = list(api.plans.values())
    return {
        "parameters": len({id(p) for plan in plans for p in plan.params.values()}),
        "parameter maps": len({id(plan.params) for plan in plans}),
        "check maps": len({id(plan.checks) for plan in plans}),
        "name sets": len({id(s) for plan in plans for s in (plan.required, plan.allowed, plan.positional)}),
        "responses": len({id(r) for plan in plans for r in plan.op.responses.values()}),
        "response plans": len({id(r) for plan in plans for r in plan.responses.values()}),
        "response maps": len({id(plan.responses) for plan in plans}),
    }


def test_equal_parameters_and_responses_are_made_once(write_spec: Any) -> None:
    """Every operation says the same parameters and (but for the record) the same responses:
    their objects, and the plans' maps and name sets, are shared instead of made per operation."""
    small, large = load_api(write_spec(50)), load_api(write_spec(400))
    assert _distinct(small) == _distinct(large)
    assert _distinct(large) == {
        "parameters": 3,
        "parameter maps": 1,
        "check maps": 1,
        "name sets": 3,
        "responses": 2 + RECORDS,  # 401, 404 and a 200 per record
        "response plans": 2 + RECORDS,
        "response maps": RECORDS,
    }


def test_shared_parts_keep_each_operation_its_own(write_spec: Any) -> None:
    """Sharing is by content: the operations stay distinct, and a response that differs is not shared."""
    api = load_api(write_spec(8))
    first, second = api.find_plan("getRecord0"), api.find_plan("getRecord1")
    assert first.op is not second.op and first.op.path != second.op.path
    assert first.responses["404"] is second.responses["404"]
    assert first.responses["200"] is not second.responses["200"]
    assert first.responses["200"].models == {"application/json": ("one", "Record0")}
    assert second.responses["200"].models == {"application/json": ("one", "Record1")}


def _follows(spec: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    calls = []
    original = spec_bundle.resolve_pointer
    monkeypatch.setattr(spec_bundle, "resolve_pointer", lambda doc, pointer: calls.append(1) or original(doc, pointer))
    load_documents(spec, use_cache=False)
    return len(calls)


def test_the_bundle_follows_each_distinct_reference_once(write_spec: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four records and a shared response are referred to hundreds of times: five chains followed."""
    small, large = write_spec(50), write_spec(400)
    assert _follows(small, monkeypatch) == _follows(large, monkeypatch) == RECORDS + 1


def _compile_bytes(spec: Path) -> tuple[int, int]:
    """Bytes the compile of the Api holds (traced Python allocations), and its operations."""
    with without_cyclic_gc():
        documents = load_documents(spec, use_cache=False)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            api = api_module.Api(documents)
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    return held, len(api.plans)


# Before the sharing, a compiled operation of these specs held about 5 KB of Python objects;
# now about 1 KB (its Operation, its CallPlan, their names). Generous, yet it fails the old way.
BYTES_PER_OPERATION = 3000


def test_the_compiled_api_holds_little_per_operation(write_spec: Any) -> None:
    """The memory an operation adds to the compiled Api, between two sizes (fixed costs cancel)."""
    small_bytes, small_ops = _compile_bytes(write_spec(100))
    large_bytes, large_ops = _compile_bytes(write_spec(600))
    per_operation = (large_bytes - small_bytes) / (large_ops - small_ops)
    assert 0 < per_operation <= BYTES_PER_OPERATION, f"{per_operation:.0f} bytes per operation"
