"""ODM's path conventions: which behaviour an operation gets when no overlay names one.

Decided from the method, the path and what the operation declares (its parameters, its
success answer's schema), once at start-up. ``/api/v1/as-user/…`` paths read published
versions (``view=user``), every other path the curator's drafts.
"""

from __future__ import annotations

import re
from typing import Any

from ...api.operations import deref
from ...api.plans import CallPlan

KINDS = {
    "studies": "study",
    "study": "study",
    "samples": "sample",
    "sample": "sample",
    "libraries": "library",
    "library": "library",
    "preparations": "preparation",
    "preparation": "preparation",
    "expressions": "expression",
    "expression": "expression",
    "variants": "variant",
    "variant": "variant",
    "flow-cytometries": "flowCytometry",
    "flow-cytometry": "flowCytometry",
    "reference-genomes": "referenceGenome",
    "xrefsets": "xrefset",
}
RUN_KINDS = ("expression", "variant", "flowCytometry")
_PREFIX = re.compile(r"^/api/v1/(?:as-(curator|user)/)?")
Found = tuple[str, dict[str, Any]]


def convention(plan: CallPlan) -> Found | None:
    op = plan.op
    found = _PREFIX.match(op.path)
    if found is None:
        return None
    view = found.group(1) or "curator"
    parts = op.path[found.end() :].split("/")
    method = op.method.lower()
    shape = answer_shape(plan)
    params = {p.name for p in op.parameters}
    for rule in (_task, _jobs, _scim, _links, _omics, _objects):
        result = rule(method, parts, params, shape)
        if result is not None:
            name, args = result
            if name in _VIEWED:
                args = {"view": view, **args}
            if name in _SHAPED:
                args = {"shape": shape, **args}
            return name, args
    return None


_VIEWED = {
    "streamed",
    "read",
    "search",
    "cursor_search",
    "versions",
    "read_version",
    "members",
    "group_of",
    "by_link",
    "pairs",
}
_SHAPED = {"read", "search", "members", "group_of", "by_link", "read_version", "pairs"}


def answer_shape(plan: CallPlan) -> str:
    """``page`` (data + meta), ``cursor`` (data + cursor), ``array``, ``wrapped`` (itemId), ``task`` or ``object``."""
    ok = next((r for s, r in sorted(plan.op.responses.items()) if s.startswith("2")), None)
    schema = (ok.content.get("application/json") if ok else None) or {}
    schema = deref(plan.op.document, schema)
    if schema.get("type") == "array":
        return "array"
    props = schema.get("properties") or {}
    if "data" in props and "meta" in props:
        return "page"
    if "data" in props and "cursor" in props:
        return "cursor"
    if "itemId" in props:
        return "wrapped"
    if {"id", "status", "name"} <= set(props) and "application" in props:
        return "task"
    return "object"


def _task(method: str, parts: list[str], params: set[str], shape: str) -> Found | None:
    if method == "post" and shape == "task":
        return "publish", {"scope": "study" if "id" in params else "all"}
    if method == "get" and shape == "task" and parts[0] == "tasks":
        return "task_info", {}
    return None


def _jobs(method: str, parts: list[str], params: set[str], shape: str) -> Found | None:
    if parts[0] != "jobs":
        return None
    if method == "post" and len(parts) == 3 and parts[1] == "import" and parts[2] in KINDS:
        return "import_job", {"kind": KINDS[parts[2]]}
    if len(parts) == 3 and parts[1] == "{jobExecId}":
        return {
            "info": ("job_info", {}),
            "output": ("job_output", {}),
            "stop": ("job_stop", {}),
            "restart": ("job_restart", {}),
        }.get(parts[2])
    return None


def _scim(method: str, parts: list[str], params: set[str], shape: str) -> Found | None:
    if parts[0] != "scim" or len(parts) not in (2, 3) or parts[1] not in ("Users", "Groups"):
        return None
    verbs = {
        ("get", 2): "scim_find",
        ("post", 2): "scim_create",
        ("get", 3): "scim_get",
        ("patch", 3): "scim_patch",
        ("delete", 3): "scim_delete",
    }
    name = verbs.get((method, len(parts)))
    return (name, {"resource": parts[1]}) if name else None


def _kind(word: str, group: bool) -> str | None:
    kind = KINDS.get(word)
    return None if kind is None else kind + "Group" if group else kind


def _links(method: str, parts: list[str], params: set[str], shape: str) -> Found | None:
    if parts[:2] != ["integration", "link"]:
        return None
    rest = parts[2:]
    if "to" in rest and "{sourceId}" in rest and method in ("post", "delete"):
        cut = rest.index("to")
        source, target = rest[:cut], rest[cut + 1 :]
        kinds = (_kind(source[0], "group" in source), _kind(target[0], "group" in target))
        if None in kinds:
            return None
        return ("link" if method == "post" else "unlink"), {"source": kinds[0], "target": kinds[1]}
    if method != "get" or "by" not in rest:
        return None
    cut = rest.index("by")
    wanted, given = rest[:cut], rest[cut + 1 :]
    if len(wanted) == 2 and "-to-" in wanted[1]:  # run-to-samples/by/group/{id}
        first, second = wanted[1].split("-to-")
        kinds = (KINDS.get(wanted[0]), KINDS.get(second))
        if given[:1] == ["group"] and None not in kinds:
            return "pairs", {"kind": kinds[0], "other": kinds[1]}
        return None
    kind = _kind(wanted[0], "group" in wanted)
    via = KINDS.get(given[0]) if given else None
    if kind is None or via is None:
        return None
    if len(given) == 2 and given[1] == "{id}":
        return "by_link", {"kind": kind}
    if len(given) == 1:
        return "by_link", {"kind": kind, "via": via}
    return None


def _omics(method: str, parts: list[str], params: set[str], shape: str) -> Found | None:
    if parts[0] != "omics" or method != "get":
        return None
    if len(parts) == 3 and parts[1] in KINDS and parts[2] == "streamed-data" and "groupAccession" in params:
        return "streamed", {"kind": KINDS[parts[1]]}
    if "cursor" not in params:
        return None
    if parts[1:] == ["samples"]:
        return "cursor_search", {"kind": "sample"}
    if len(parts) == 3 and parts[1] in KINDS and parts[2] in ("data", "group"):
        return "cursor_search", {"kind": _kind(parts[1], parts[2] == "group")}
    return None


def _objects(method: str, parts: list[str], params: set[str], shape: str) -> Found | None:
    kind = KINDS.get(parts[0])
    if kind is None:
        return None
    rest = parts[1:]
    if method == "get" and not rest:
        return _listing(kind, params)
    if method == "get" and rest == ["group"]:
        return _listing(kind + "Group", params)
    if method == "get" and rest == ["group", "{id}"]:
        return "read", {"kind": kind + "Group"}
    if method == "get" and rest == ["group", "by", "run", "{id}"]:
        return "group_of", {"kind": kind}
    if method == "get" and rest in (["runs", "by", "group", "{id}"], ["by", "group", "{id}"]):
        return "members", {"kind": kind}
    if rest == ["{id}"]:
        return {
            "get": ("read", {"kind": kind}),
            "patch": ("patch", {"kind": kind}),
            "delete": ("delete", {"kind": kind}),
        }.get(method)
    if method == "get" and rest == ["{id}", "versions"]:
        return "versions", {"kind": kind}
    if method == "get" and rest == ["{id}", "versions", "{version}"]:
        return "read_version", {"kind": kind}
    return None


def _listing(kind: str, params: set[str]) -> Found | None:
    if "cursor" in params:
        return "cursor_search", {"kind": kind}
    if "pageOffset" in params or "pageLimit" in params:
        return "search", {"kind": kind}
    return None
