"""Behaviours the overlay binds by name: a declared constant, the generic link store, detached objects.

``constant`` answers the overlay's ``value`` (so a list that never changes, like ODM's data
types, is a YAML change). The ``/links`` operations read and write the same links as the
``…/link/…/to/…`` endpoints, described as ``{firstId, firstType, secondId, secondType}``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..app import Answer, Call, error
from ..objects import Obj
from .context import Context
from .graph import related
from .objects import ACCESSION_KEY, MAX_PAGE_LIMIT, metadata_of


def constant(call: Call, *, ctx: Context, value: Any = None, status: int | None = None) -> Answer:
    success = status or int(min((s for s in call.plan.responses if s.startswith("2")), default="200"))
    return Answer(success, value)


def _link(first: Obj, second: Obj) -> dict[str, str]:
    return {
        "firstId": first.accession,
        "firstType": first.kind,
        "secondId": second.accession,
        "secondType": second.kind,
    }


def links_find(call: Call, *, ctx: Context) -> Answer:
    now = ctx.now()
    first = ctx.store.objects.get(str(call.params.get("firstId", "")), now)
    if first is None:
        return error(404, f"there is no object with accession {call.params.get('firstId')!r}")
    rows = []
    for accession in ctx.store.objects.linked(first.accession):
        other = ctx.store.objects.get(accession, now)
        if other is None or call.params.get("secondId") not in (None, other.accession):
            continue
        if call.params.get("secondType") not in (None, other.kind):
            continue
        rows.append(_link(first, other))
    offset, limit = int(call.params.get("offset") or 0), int(call.params.get("limit") or MAX_PAGE_LIMIT)
    if offset < 0 or not 0 <= limit <= MAX_PAGE_LIMIT:
        return error(400, f"offset must be 0 or more and limit between 0 and {MAX_PAGE_LIMIT}")
    page = rows[offset : offset + limit]
    pagination = {"total": len(rows), "offset": offset, "count": len(page), "limit": limit}
    return Answer(200, {"data": page, "meta": {"pagination": pagination}})


def links_save(call: Call, *, ctx: Context) -> Answer:
    links = call.body if isinstance(call.body, list) else []
    now = ctx.now()
    pairs = []
    for number, link in enumerate(links, 1):
        ends = [ctx.store.objects.get(str(link.get(key, "")), now) for key in ("firstId", "secondId")]
        if None in ends:
            return error(400, f"link {number}: there is no object {link.get('firstId')!r} or {link.get('secondId')!r}")
        pairs.append((link["firstId"], link["secondId"]))
    for first, second in pairs:  # all or nothing: every end was checked first
        ctx.store.objects.link(first, second)
    return Answer(201 if "201" in call.plan.responses else 200)


def links_delete(call: Call, *, ctx: Context) -> Answer:
    first, second = str(call.params.get("firstId", "")), str(call.params.get("secondId", ""))
    if not ctx.store.objects.unlink(first, second):
        return error(404, f"{first} is not linked to {second}")
    return Answer(204)


def links_by_ids(call: Call, *, ctx: Context) -> Answer:
    body = call.body if isinstance(call.body, dict) else {}
    ids = next((v for v in body.values() if isinstance(v, list)), [])
    now = ctx.now()
    rows = []
    for accession in ids:
        first = ctx.store.objects.get(str(accession), now)
        for other in [ctx.store.objects.get(a, now) for a in ctx.store.objects.linked(str(accession))] if first else []:
            if first is not None and other is not None:
                rows.append(_link(first, other))
    return Answer(200, {"data": rows, "meta": {"pagination": {"total": len(rows), "offset": 0, "count": len(rows)}}})


_DETACHED_TYPES = {  # this server's group kinds, as ODM names them here
    "sampleGroup": "SAMPLE_GROUP",
    "libraryGroup": "LIBRARY_GROUP",
    "preparationGroup": "PREPARATION_GROUP",
    "expressionGroup": "TABULAR_DATA",
    "variantGroup": "GENE_VARIANT",
    "flowCytometryGroup": "FLOW_CYTOMETRY",
}


def detached(call: Call, *, ctx: Context) -> Answer:
    """``getDetachedObjects``: groups linked to nothing (ODM's clean-up candidates)."""
    now = ctx.now()
    found = []
    for kind, type_name in _DETACHED_TYPES.items():
        for group in ctx.store.objects.of_kind(kind, now):
            if ctx.store.objects.linked(group.accession):
                continue
            first = (ctx.store.objects.versions(group.accession) or [{"author": "", "timestamp": now}])[0]
            created = datetime.fromtimestamp(first["timestamp"] / 1000, timezone.utc).isoformat()
            found.append(
                {
                    ACCESSION_KEY: group.accession,
                    "detachedObjectType": type_name,
                    "ownerEmail": first["author"],
                    "createdAt": created,
                }
            )
    limit = int(call.params.get("limit") or MAX_PAGE_LIMIT)
    return Answer(200, {"data": found[:limit]})


def fulltext_studies(call: Call, *, ctx: Context, view: str = "curator") -> Answer:
    """``searchStudiesByFilter``: studies with a metadata value holding each FULL_TEXT match."""
    body = call.body if isinstance(call.body, dict) else {}
    texts = []
    for number, applied in enumerate(body.get("filters") or [], 1):
        if applied.get("type") != "FULL_TEXT" or not isinstance(applied.get("match"), str):
            return error(400, f"filter {number}: only FULL_TEXT filters with a `match` are understood by this server")
        texts.append(applied["match"].lower())
    page = body.get("page") or {}
    offset, limit = int(page.get("offset") or 0), int(page.get("limit") or 50)
    if offset < 0 or not 0 <= limit <= MAX_PAGE_LIMIT:
        return error(400, f"page.offset must be 0 or more and page.limit between 0 and {MAX_PAGE_LIMIT}")
    found = []
    for study in ctx.store.objects.of_kind("study", ctx.now()):
        metadata = metadata_of(study, view)
        values = " ".join(str(v).lower() for v in (metadata or {}).values())
        if metadata is not None and all(text in values for text in texts):
            found.append(_study_info(ctx, study, metadata))
    content = found[offset : offset + limit]
    objects_page = {"filteredCount": len(found), "pageRequest": {"offset": offset, "limit": limit}, "content": content}
    return Answer(200, {"objectsPage": objects_page, "filterOptionGroups": []})


def _study_info(ctx: Context, study: Obj, metadata: dict[str, Any]) -> dict[str, Any]:
    first = (ctx.store.objects.versions(study.accession) or [{"author": ""}])[0]
    name = metadata.get("Study Title") or metadata.get("Study Source") or study.accession
    return {"accession": study.accession, "name": str(name), "owner": first["author"]}


def validation_summary(call: Call, *, ctx: Context) -> Answer:
    """``getStudyValidationSummary``: the study's sample groups, none with invalid attributes."""
    accession = str(call.params.get("id", ""))
    now = ctx.now()
    study = ctx.store.objects.get(accession, now)
    if study is None or study.kind != "study":
        return error(404, f"there is no study with accession {accession!r}")
    groups = [o for o in related(ctx.store.objects, study, "sampleGroup", now)]
    return Answer(200, {"samples": [{"groupAccession": g.accession, "attributes": []} for g in groups]})


BEHAVIOURS = {
    "fulltext_studies": fulltext_studies,
    "validation_summary": validation_summary,
    "constant": constant,
    "links_find": links_find,
    "links_save": links_save,
    "links_delete": links_delete,
    "links_by_ids": links_by_ids,
    "detached": detached,
}
