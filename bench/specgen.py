"""A synthetic spec of N operations: the Tasks API plus generated ones, for size-independence checks."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


def generate(count: int, out: Path) -> Path:
    """Write ``out`` (JSON if it ends in ``.json``, else YAML): the bundled Tasks spec with
    operations added up to ``count`` in all."""
    import yaml

    import odm_dyn

    with open(odm_dyn.TASKS_SPEC, encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.safe_load(handle)
    schemas = spec["components"]["schemas"]
    for index in range(count // 10):
        schemas[f"Record{index}"] = _record(index)
    existing = sum(len(item) for item in spec["paths"].values())
    for index in range(count - existing):
        spec["paths"][f"/api/v1/generated/{index}/{{id}}"] = {"get": _operation(index, count // 10)}
    if out.suffix == ".json":  # JSON: how a large generated spec is usually published
        out.write_text(json.dumps(spec))
    else:
        out.write_text(yaml.dump(spec, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False))
    return out


def _record(index: int) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Z]{3}[0-9]+$"},
            "size": {"type": "integer", "format": "int64", "minimum": 0},
            "kind": {"type": "string", "enum": ["A", "B", f"K{index}"]},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 64}},
            "meta": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }


def _operation(index: int, records: int) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/Record{index % max(records, 1)}"}
    return {
        "operationId": f"getGenerated{index}",
        "tags": [f"Generated {index % 20}"],
        "summary": f"Generated operation {index}.",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            {"name": "filter", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {
            "200": {"description": "The record.", "content": {"application/json": {"schema": copy.deepcopy(schema)}}},
            "401": {"$ref": "#/components/responses/Unauthenticated"},
            "404": {"description": "No such record."},
        },
    }
