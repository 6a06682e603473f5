"""Behaviours on ODM's objects: read, search (offset and cursor paging), patch, versions, links.

Every behaviour takes the call and its bound arguments: ``kind`` (``sample``, ``sampleGroup``…),
``view`` (``curator`` reads drafts, ``user`` the last published version) and ``shape`` (what
the operation's success answer looks like, see :func:`.conventions.answer_shape`).
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import datetime, timezone
from typing import Any

from ..app import Answer, Call, error
from ..objects import Obj
from .context import Context
from .graph import related
from .query import QueryError, Terms, matches, parse_terms

MAX_PAGE_LIMIT = 2000  # ODM documents pageLimit as 0..2000
DEFAULT_PAGE_LIMIT = 2000
ACCESSION_KEY = "genestack:accession"


def metadata_of(obj: Obj, view: str) -> dict[str, Any] | None:
    return obj.draft if view == "curator" else obj.published


def render(obj: Obj, view: str, shape: str = "object") -> dict[str, Any] | None:
    metadata = metadata_of(obj, view)
    if metadata is None:
        return None
    if shape == "wrapped":
        return {"itemId": obj.accession, "metadata": metadata}
    return {ACCESSION_KEY: obj.accession, **metadata}


def not_found(kind: str, accession: Any) -> Answer:
    return error(404, f"there is no {kind} with accession {accession!r}")


def _visible(ctx: Context, accession: str, kind: str, view: str, now: int) -> Obj | None:
    obj = ctx.store.objects.get(accession, now)
    if obj is None or obj.kind != kind or metadata_of(obj, view) is None:
        return None
    return obj


# --------------------------------------------------------------------------- single objects


def read(call: Call, *, ctx: Context, kind: str, view: str = "curator", shape: str = "object") -> Answer:
    accession = str(call.params.get("id", ""))
    obj = _visible(ctx, accession, kind, view, ctx.now())
    if obj is None:
        return not_found(kind, accession)
    return Answer(200, render(obj, view, shape))


def patch(call: Call, *, ctx: Context, kind: str) -> Answer:
    accession = str(call.params.get("id", ""))
    if _visible(ctx, accession, kind, "curator", ctx.now()) is None:
        return not_found(kind, accession)
    if not isinstance(call.body, dict):
        return error(400, "the body must be a JSON object of metadata to merge into the draft")
    draft = ctx.store.objects.patch(accession, call.body) or {}
    return Answer(200, {ACCESSION_KEY: accession, **draft})


def delete(call: Call, *, ctx: Context, kind: str) -> Answer:
    accession = str(call.params.get("id", ""))
    if _visible(ctx, accession, kind, "curator", ctx.now()) is None:
        return not_found(kind, accession)
    ctx.store.objects.delete([accession])
    return Answer(204)


def versions(call: Call, *, ctx: Context, kind: str, view: str = "curator") -> Answer:
    accession = str(call.params.get("id", ""))
    if _visible(ctx, accession, kind, view, ctx.now()) is None:
        return not_found(kind, accession)
    return Answer(200, ctx.store.objects.versions(accession))


def read_version(call: Call, *, ctx: Context, kind: str, view: str = "curator", shape: str = "object") -> Answer:
    accession, version = str(call.params.get("id", "")), str(call.params.get("version", ""))
    if _visible(ctx, accession, kind, view, ctx.now()) is None:
        return not_found(kind, accession)
    metadata = ctx.store.objects.version(accession, version)
    if metadata is None:
        return error(404, f"{kind} {accession} has no version {version!r}")
    return Answer(200, {ACCESSION_KEY: accession, **metadata})


def group_of(call: Call, *, ctx: Context, kind: str, view: str = "curator", shape: str = "wrapped") -> Answer:
    accession = str(call.params.get("id", ""))
    now = ctx.now()
    obj = _visible(ctx, accession, kind, view, now)
    group = _visible(ctx, obj.group, kind + "Group", view, now) if obj and obj.group else None
    if group is None:
        return not_found(kind, accession) if obj is None else error(404, f"{kind} {accession} is in no group")
    return Answer(200, render(group, view, shape))


# --------------------------------------------------------------------------- lists


def search(call: Call, *, ctx: Context, kind: str, view: str = "curator", shape: str = "page") -> Answer:
    found = _filtered(call, ctx.store.objects.of_kind(kind, ctx.now()), view, kind)
    return found if isinstance(found, Answer) else _page(call, found, view, shape)


def members(call: Call, *, ctx: Context, kind: str, view: str = "curator", shape: str = "page") -> Answer:
    accession = str(call.params.get("id", ""))
    now = ctx.now()
    if _visible(ctx, accession, kind + "Group", view, now) is None:
        return not_found(kind + "Group", accession)
    found = _filtered(call, ctx.store.objects.members(accession, now), view, kind)
    return found if isinstance(found, Answer) else _page(call, found, view, shape)


def by_link(
    call: Call, *, ctx: Context, kind: str, via: str | None = None, view: str = "curator", shape: str = "page"
) -> Answer:
    """The objects of ``kind`` an object reaches by links (``…/by/{kind}/{id}``), or that the
    objects of kind ``via`` matching the filter reach (``…/samples/by/libraries?filter=``)."""
    now = ctx.now()
    objects = ctx.store.objects
    if via is None:
        accession = str(call.params.get("id", ""))
        start = objects.get(accession, now)
        if start is None:
            return error(404, f"there is no object with accession {accession!r}")
        starts = [start]
    else:
        starts_or_error = _filtered(call, objects.of_kind(via, now), view, via)
        if isinstance(starts_or_error, Answer):
            return starts_or_error
        starts = starts_or_error
    found: dict[str, Obj] = {}
    for start in starts:
        for obj in related(objects, start, kind, now):
            if metadata_of(obj, view) is not None:
                found.setdefault(obj.accession, obj)
    hits = list(found.values())
    if shape in ("page", "cursor"):
        return _page(call, hits, view, shape)
    if shape == "array":
        return Answer(200, [render(o, view, "wrapped" if kind.endswith("Group") else "object") for o in hits])
    if not hits:
        return error(404, f"no {kind} is linked to {call.params.get('id')!r}")
    return Answer(200, render(hits[0], view, shape))


def pairs(call: Call, *, ctx: Context, kind: str, other: str, view: str = "curator", shape: str = "page") -> Answer:
    """``…/run-to-samples/by/group/{id}``: each member of the group with the objects it is linked to."""
    accession = str(call.params.get("id", ""))
    now = ctx.now()
    if _visible(ctx, accession, kind + "Group", view, now) is None:
        return not_found(kind + "Group", accession)
    rows = []
    for member in ctx.store.objects.members(accession, now):
        for obj in related(ctx.store.objects, member, other, now):
            rows.append({"sourceId": member.accession, "targetId": obj.accession})
    return _paged_rows(call, rows)


def _filtered(call: Call, objs: list[Obj], view: str, kind: str = "") -> list[Obj] | Answer:
    """The objects whose metadata match the filter and query parameters that concern them.

    The omics searches take a filter per kind (``studyFilter``, ``exFilter``, ...): each one is
    read, so a bad one is a 400, but only a plain ``filter``/``query`` and the searched kind's
    own are applied.
    """
    own: list[Terms] = []
    mine = _FILTER_PREFIXES.get(kind.removesuffix("Group"), kind)
    for name, value in call.params.items():
        if not (name in ("filter", "query") or name.endswith(("Filter", "Query"))) or value in (None, ""):
            continue
        try:
            terms = parse_terms(str(value), name)
        except QueryError as exc:
            return error(400, str(exc))
        if name in ("filter", "query") or name in (mine + "Filter", mine + "Query"):
            own.append(terms)
    out = []
    for obj in objs:
        metadata = metadata_of(obj, view)
        if metadata is not None and all(matches(metadata, t) for t in own):
            out.append(obj)
    return out


_FILTER_PREFIXES = {"expression": "ex", "variant": "vx", "flowCytometry": "fx"}


# --------------------------------------------------------------------------- paging


def _limit(call: Call) -> int | Answer:
    raw = call.params.get("pageLimit", DEFAULT_PAGE_LIMIT)
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        return error(400, f"pageLimit must be a whole number, not {raw!r}")
    if not 0 <= limit <= MAX_PAGE_LIMIT:
        return error(400, f"pageLimit must be between 0 and {MAX_PAGE_LIMIT}, not {limit}")
    return limit


def _page(call: Call, objs: list[Obj], view: str, shape: str) -> Answer:
    rows = [render(o, view) for o in objs]
    if shape == "cursor" or "cursor" in call.params:
        return _cursor_rows(call, rows)
    return _paged_rows(call, rows)


def _paged_rows(call: Call, rows: list[Any]) -> Answer:
    limit = _limit(call)
    if isinstance(limit, Answer):
        return limit
    raw = call.params.get("pageOffset", 0)
    offset = int(raw) if str(raw).isdigit() else -1
    if offset < 0:
        return error(400, f"pageOffset must be a whole number of 0 or more, not {raw!r}")
    page = rows[offset : offset + limit]
    pagination = {"total": len(rows), "offset": offset, "count": len(page), "limit": limit}
    return Answer(200, {"data": page, "meta": {"pagination": pagination}})


def cursor_search(call: Call, *, ctx: Context, kind: str, view: str = "curator") -> Answer:
    found = _filtered(call, ctx.store.objects.of_kind(kind, ctx.now()), view, kind)
    if isinstance(found, Answer):
        return found
    return _cursor_rows(call, [render(o, view) for o in found])


def _cursor_rows(call: Call, rows: list[Any]) -> Answer:
    limit = _limit(call)
    if isinstance(limit, Answer):
        return limit
    offset = decode_cursor(call.params.get("cursor"))
    if offset is None:
        return error(400, f"the cursor {call.params.get('cursor')!r} is not one this server gave")
    page = rows[offset : offset + limit]
    body: dict[str, Any] = {"data": page, "log": []}
    following = offset + len(page)
    if following < len(rows) and limit > 0:
        body["cursor"] = encode_cursor(following)
        body["resultsExhausted"] = False
    else:
        body["resultsExhausted"] = True
    return Answer(200, body)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"odm-dyn:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: Any) -> int | None:
    """The offset a cursor stands for; 0 without one; ``None`` for a cursor not ours."""
    if cursor in (None, ""):
        return 0
    try:
        text = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, digits = text.partition(":")
    return int(digits) if prefix == "odm-dyn" and digits.isdigit() else None


# --------------------------------------------------------------------------- links


def _link_ends(call: Call, ctx: Context, source: str, target: str) -> tuple[str, str] | Answer:
    now = ctx.now()
    ends = []
    for kind, name in ((source, "sourceId"), (target, "targetId")):
        accession = str(call.params.get(name, ""))
        if _visible(ctx, accession, kind, "curator", now) is None:
            return not_found(kind, accession)
        ends.append(accession)
    return ends[0], ends[1]


def link(call: Call, *, ctx: Context, source: str, target: str) -> Answer:
    ends = _link_ends(call, ctx, source, target)
    if isinstance(ends, Answer):
        return ends
    ctx.store.objects.link(*ends)
    return Answer(204)


def unlink(call: Call, *, ctx: Context, source: str, target: str) -> Answer:
    ends = _link_ends(call, ctx, source, target)
    if isinstance(ends, Answer):
        return ends
    if not ctx.store.objects.unlink(*ends):
        return error(404, f"{ends[0]} is not linked to {ends[1]}")
    return Answer(204)


# --------------------------------------------------------------------------- managing data


def delete_data(call: Call, *, ctx: Context) -> Answer:
    """``DELETE /manage-data/data?accessions=…``: those objects (a group with its members) are gone."""
    wanted = call.params.get("accessions") or []
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    now = ctx.now()
    found = [ctx.store.objects.get(str(a), now) for a in wanted]
    missing = [str(a) for a, obj in zip(wanted, found) if obj is None]
    if missing or not wanted:
        return error(404, f"there is no object with accession {', '.join(missing) or '(none given)'}")
    ctx.store.objects.delete(str(a) for a in wanted)
    first = found[0]
    assert first is not None
    created = datetime.fromtimestamp(now / 1000, timezone.utc).isoformat()
    return Answer(
        202,
        {ACCESSION_KEY: first.accession, "objectType": first.kind, "ownerEmail": call.user.name, "createdAt": created},
    )


def create(call: Call, *, ctx: Context, kind: str) -> Answer:
    """A new object of ``kind`` made from the request body (a reference genome), published at once."""
    body = call.body if isinstance(call.body, dict) else {}
    now = ctx.now()
    created = datetime.fromtimestamp(now / 1000, timezone.utc).isoformat()
    metadata = {**body, "ownerEmail": call.user.name, "createdAt": created}
    accession = ctx.store.objects.create(kind, metadata, author=call.user.name, now=now)
    return Answer(201 if "201" in call.plan.responses else 200, {ACCESSION_KEY: accession})


def streamed(call: Call, *, ctx: Context, kind: str, view: str = "curator") -> Answer:
    """``…/streamed-data?groupAccession=``: every run of the group as CSV (or TSV) rows, in one answer."""
    accession = str(call.params.get("groupAccession", ""))
    now = ctx.now()
    if _visible(ctx, accession, kind + "Group", view, now) is None:
        return not_found(kind + "Group", accession)
    found = _filtered(call, ctx.store.objects.members(accession, now), view, kind)
    if isinstance(found, Answer):
        return found
    rows = [render(o, view) or {} for o in found]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    media = next(iter(call.plan.op.success_media_types()), "text/csv")  # the vendor's: CSV or TSV
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n", delimiter="\t" if "tab" in media else ",")
    writer.writeheader()
    writer.writerows(rows)
    return Answer(200, text.getvalue(), media)


BEHAVIOURS = {
    "streamed": streamed,
    "read": read,
    "patch": patch,
    "delete": delete,
    "versions": versions,
    "read_version": read_version,
    "group_of": group_of,
    "search": search,
    "members": members,
    "by_link": by_link,
    "pairs": pairs,
    "cursor_search": cursor_search,
    "link": link,
    "unlink": unlink,
    "delete_data": delete_data,
    "create": create,
}
