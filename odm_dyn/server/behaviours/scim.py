"""SCIM 2.0 users and groups (RFC 7643/7644, as far as ODM uses them): create, find, patch, delete.

Errors carry SCIM's own body (``schemas``: the Error URN, ``status`` as a string, ``detail``,
``scimType`` where SCIM names one). A user's name is its ``userName`` (or ``displayName``), a
group's its ``displayName``; names are unique per resource type (409 ``uniqueness``).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

from ..app import Answer, Call

SCIM_MEDIA = "application/scim+json"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCHEMA_URN = {
    "Users": "urn:ietf:params:scim:schemas:core:2.0:User",
    "Groups": "urn:ietf:params:scim:schemas:core:2.0:Group",
}
_FILTER = re.compile(r'^\s*([A-Za-z][\w.]*)\s+(eq|co|sw)\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


def scim_answer(status: int, body: Any = None) -> Answer:
    return Answer(status, body, SCIM_MEDIA)


def scim_error(status: int, detail: str, scim_type: str | None = None) -> Answer:
    body: dict[str, Any] = {"schemas": [ERROR_URN], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return scim_answer(status, body)


def _name(resource: str, body: dict[str, Any]) -> str:
    key = body.get("userName") or body.get("displayName") if resource == "Users" else body.get("displayName")
    return str(key or "")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _missing(resource: str, id_: Any) -> Answer:
    return scim_error(404, f"{resource[:-1]} {id_!r} not found")


def scim_create(call: Call, *, ctx: Any, resource: str) -> Answer:
    body = dict(call.body) if isinstance(call.body, dict) else {}
    name = _name(resource, body)
    if not name:
        wanted = "userName or displayName" if resource == "Users" else "displayName"
        return scim_error(400, f"a {resource[:-1].lower()} needs a {wanted}", "invalidValue")
    body["id"] = uuid.uuid4().hex
    body["schemas"] = [SCHEMA_URN[resource]]
    stamp = _now()
    body["meta"] = {"resourceType": resource[:-1], "created": stamp, "lastModified": stamp}
    if not ctx.store.objects.scim_put(resource, body["id"], name, body, new=True):
        return scim_error(409, f"a {resource[:-1].lower()} named {name!r} exists already", "uniqueness")
    return scim_answer(201, body)


def scim_get(call: Call, *, ctx: Any, resource: str) -> Answer:
    found = ctx.store.objects.scim_get(resource, str(call.params.get("id", "")))
    return scim_answer(200, found) if found is not None else _missing(resource, call.params.get("id"))


def scim_delete(call: Call, *, ctx: Any, resource: str) -> Answer:
    if not ctx.store.objects.scim_delete(resource, str(call.params.get("id", ""))):
        return _missing(resource, call.params.get("id"))
    return scim_answer(204)


def scim_find(call: Call, *, ctx: Any, resource: str) -> Answer:
    everyone = ctx.store.objects.scim_all(resource)
    text = call.params.get("filter")
    if text:
        found = _FILTER.match(str(text))
        if found is None:
            return scim_error(
                400, f'filter {text!r} is not understood: use ATTRIBUTE eq|co|sw "value"', "invalidFilter"
            )
        attribute, operator, value = found.group(1), found.group(2).lower(), found.group(3)
        everyone = [r for r in everyone if _compare(r.get(attribute), operator, value)]
    start = max(int(call.params.get("startIndex") or 1), 1)
    count = call.params.get("count")
    page = everyone[start - 1 :] if count is None else everyone[start - 1 : start - 1 + max(int(count), 0)]
    return scim_answer(
        200,
        {
            "schemas": [LIST_URN],
            "totalResults": len(everyone),
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": page,
        },
    )


def _compare(actual: Any, operator: str, value: str) -> bool:
    if actual is None:
        return False
    actual, value = str(actual).lower(), value.lower()  # SCIM compares case-insensitively by default
    return actual == value if operator == "eq" else value in actual if operator == "co" else actual.startswith(value)


def scim_patch(call: Call, *, ctx: Any, resource: str) -> Answer:
    id_ = str(call.params.get("id", ""))
    found = ctx.store.objects.scim_get(resource, id_)
    if found is None:
        return _missing(resource, id_)
    operations = call.body.get("Operations") if isinstance(call.body, dict) else None
    if not isinstance(operations, list):
        return scim_error(400, "a PATCH needs an Operations list", "invalidSyntax")
    for number, operation in enumerate(operations, 1):
        problem = _apply(found, operation)
        if problem:
            return scim_error(400, f"operation {number}: {problem}", "invalidPath")
    found["id"], found.setdefault("meta", {})["lastModified"] = id_, _now()
    if not ctx.store.objects.scim_put(resource, id_, _name(resource, found), found, new=False):
        return scim_error(409, f"the name {_name(resource, found)!r} is taken", "uniqueness")
    return scim_answer(200, found) if "200" in call.plan.responses else scim_answer(204)


def _apply(target: dict[str, Any], operation: Any) -> str | None:
    if not isinstance(operation, dict) or operation.get("op", "").lower() not in ("add", "replace", "remove"):
        return "op must be add, replace or remove"
    op, path, value = operation["op"].lower(), operation.get("path"), operation.get("value")
    if path in ("id", "meta", "schemas"):
        return f"{path} cannot be changed"
    if op == "remove":
        if not path:
            return "remove needs a path"
        target.pop(path, None)
    elif path:
        if op == "add" and isinstance(target.get(path), list) and isinstance(value, list):
            target[path] = target[path] + value
        else:
            target[path] = value
    elif isinstance(value, dict):
        target.update({k: v for k, v in value.items() if k not in ("id", "meta", "schemas")})
    else:
        return "without a path the value must be an object of attributes"
    return None


BEHAVIOURS = {
    "scim_create": scim_create,
    "scim_get": scim_get,
    "scim_delete": scim_delete,
    "scim_find": scim_find,
    "scim_patch": scim_patch,
}
