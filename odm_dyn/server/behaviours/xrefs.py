"""Cross-reference sets: a TSV of source → target ids read into entries, searched by cursor.

``create`` reads the file at ``dataLink`` (a local file inside ``--import-root``, as imports
do) at once: its first column is the source id, its second the target id, one row per pair.
A link that cannot be read is a 400 saying why, and nothing is made.
"""

from __future__ import annotations

from typing import Any

from ..app import Answer, Call, error
from .context import Context
from .jobs import ImportFailure, local_file, read_rows
from .objects import MAX_PAGE_LIMIT, decode_cursor, encode_cursor

KIND, ENTRY = "xrefset", "xrefEntry"


def xref_create(call: Call, *, ctx: Context) -> Answer:
    body = call.body if isinstance(call.body, dict) else {}
    try:
        rows = read_rows(local_file(str(body.get("dataLink", "")), ctx.import_root))
    except ImportFailure as exc:
        return error(400, f"dataLink: {exc}")
    pairs: dict[str, list[str]] = {}
    for row in rows:
        values = list(row.values())
        if len(values) < 2:
            return error(400, "dataLink: each row needs a source id and a target id")
        pairs.setdefault(values[0], []).append(values[1])
    now = ctx.now()
    details = {"xrefSetType": body.get("xrefSetType", "gene-transcript"), "metadata": body.get("metadata") or {}}
    author = call.user.name
    created = {**details, "createdBy": author, "createdDate": now}
    accession = ctx.store.objects.create(KIND, created, author=author, now=now)
    for source, targets in pairs.items():
        entry = {"sourceId": source, "targetIds": targets}
        ctx.store.objects.create(ENTRY, entry, group=accession, author=author, now=now)
    answer = {
        "xrefSetId": accession,
        "createdBy": call.user.name,
        "createdDate": now,
        "lastUpdated": now,
        **details,
        "warnings": [],
    }
    return Answer(201 if "201" in call.plan.responses else 200, answer)


def xref_metadata(call: Call, *, ctx: Context) -> Answer:
    accession = str(call.params.get("id", ""))
    found = ctx.store.objects.get(accession, ctx.now())
    if found is None or found.kind != KIND:
        return error(404, f"there is no xref set with accession {accession!r}")
    draft = found.draft
    data = {k: str(v) for k, v in (draft.get("metadata") or {}).items()}
    return Answer(
        200,
        {
            "xrefSetId": accession,
            "createdBy": draft.get("createdBy", ""),
            "createdDate": draft.get("createdDate", 0),
            "lastUpdated": draft.get("createdDate", 0),
            "data": data,
        },
    )


def xref_entries(call: Call, *, ctx: Context, within: bool = False) -> Answer:
    now = ctx.now()
    objects = ctx.store.objects
    if within:
        accession = str(call.params.get("id", ""))
        found = objects.get(accession, now)
        if found is None or found.kind != KIND:
            return error(404, f"there is no xref set with accession {accession!r}")
        entries = objects.members(accession, now)
    else:
        entries = objects.of_kind(ENTRY, now)
    sources, targets = _wanted(call.params.get("sourceId")), _wanted(call.params.get("targetId"))
    rows: list[dict[str, Any]] = [
        {"xrefSetId": e.group, **e.draft}
        for e in entries
        if (sources is None or e.draft.get("sourceId") in sources)
        and (targets is None or targets & set(e.draft.get("targetIds", [])))
    ]
    limit = int(call.params.get("pageLimit") or MAX_PAGE_LIMIT)
    offset = decode_cursor(call.params.get("cursor"))
    if offset is None or not 0 <= limit <= MAX_PAGE_LIMIT:
        return error(400, f"a cursor this server gave, and a pageLimit between 0 and {MAX_PAGE_LIMIT}, are needed")
    page = rows[offset : offset + limit]
    answer: dict[str, Any] = {"result": page}
    if limit and offset + len(page) < len(rows):
        answer["cursor"] = encode_cursor(offset + len(page))
    return Answer(200, answer)


def _wanted(value: Any) -> set[str] | None:
    """The ids a parameter asks for (one, or an array of them); ``None``: any."""
    if value in (None, "", []):
        return None
    return {str(v) for v in value} if isinstance(value, list) else {str(value)}


BEHAVIOURS = {"xref_create": xref_create, "xref_metadata": xref_metadata, "xref_entries": xref_entries}
