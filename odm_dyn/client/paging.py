"""Paged lists followed to the end: ``client.paginate(method, **params)``.

The ODM API pages lists in two styles:

- **offset**: ``pageOffset`` and ``pageLimit`` in; ``{"meta": {"pagination": {"total",
  "offset", "count", "limit"}}, "data": [...]}`` out;
- **cursor**: ``cursor`` and ``pageLimit`` in; ``{"cursor", "resultsExhausted", "data"}`` out.

An operation's style comes from its spec: by convention from its query parameters (``cursor``
→ cursor, ``pageOffset`` → offset), or declared on the operation with ``x-odm-dyn-pagination``
(in the spec or an overlay) for anything else::

    x-odm-dyn-pagination: cursor            # or offset; false: not paged
    x-odm-dyn-pagination:                   # other names (wire names; fields as dotted paths)
      style: offset
      offsetParameter: start
      limitParameter: size
      items: results
      total: paging.total

A page that does not advance (a cursor seen before, a page equal to the one before) raises
:class:`PaginationError`: never an endless loop. The decisions (what the first and next
requests are, whether the pages ended) are plain functions, apart from the calling, so an
asynchronous client can reuse them. The client's ``paginate`` method is ``paginate.py``'s, which
imports this module on its first call: a client that never pages never loads it.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, AsyncIterator, Callable, Iterator, NamedTuple

from ..api.model import Model, to_wire
from ..errors import PaginationError, SpecError
from ..spec.pointers import resolve_pointer
from .progress import PageProgress

EXTENSION = "x-odm-dyn-pagination"
STYLES = ("offset", "cursor")
_KEYS = {"style", "offsetParameter", "cursorParameter", "limitParameter", "items", "cursor", "exhausted", "total"}


# Not dataclasses: importing them (with inspect) would cost the first paginate about 10 ms.
class Paging(NamedTuple):
    """How one operation pages: its parameters (Python names) and answer fields (wire paths)."""

    style: str
    offset_param: str | None = None
    cursor_param: str | None = None
    limit_param: str | None = None
    items: tuple[str, ...] = ("data",)
    cursor: tuple[str, ...] = ("cursor",)
    exhausted: tuple[str, ...] = ("resultsExhausted",)
    total: tuple[str, ...] = ("meta", "pagination", "total")

    @property
    def position_param(self) -> str | None:
        return self.offset_param if self.style == "offset" else self.cursor_param


class PageState:
    """What the walk has seen: where the next page starts, the cursors used, the last page."""

    __slots__ = ("position", "seen", "previous", "items")

    def __init__(self) -> None:
        self.position: Any = None  # the offset or cursor of the next request (None: as the caller gave)
        self.seen: set[Any] = set()
        self.previous: str | None = None  # the last page's items, as JSON, to catch a page served twice
        self.items = 0


# --------------------------------------------------------------------------- the spec


def paging_of(op: Any) -> Paging | None:
    """An operation's paging, from its ``x-odm-dyn-pagination`` or by convention; ``None``: not paged."""
    raw = resolve_pointer(op.document.data, op.pointer)
    declared = raw.get(EXTENSION) if isinstance(raw, dict) else None
    wire = {p.name: p.python_name for p in op.parameters if p.location == "query"}
    if declared is None:
        style = "cursor" if "cursor" in wire else "offset" if "pageOffset" in wire else None
        return _paging(style, {}, wire) if style else None
    if declared is False or declared == "none":
        return None
    if isinstance(declared, str):
        declared = {"style": declared}
    if not isinstance(declared, dict) or declared.get("style") not in STYLES or set(declared) - _KEYS:
        raise SpecError(
            f"{op.operation_id}: {EXTENSION} must be offset, cursor, false, or a mapping of "
            f"{', '.join(sorted(_KEYS))} with style offset or cursor; got {declared!r}",
            file=op.document.path,
            pointer=op.pointer + "/" + EXTENSION,
        )
    paging = _paging(declared["style"], declared, wire)
    if paging.position_param is None:
        raise SpecError(
            f"{op.operation_id}: {EXTENSION} says {paging.style}, but the operation has no such query parameter",
            file=op.document.path,
            pointer=op.pointer + "/" + EXTENSION,
        )
    return paging


def _paging(style: str, declared: dict[str, Any], wire: dict[str, str]) -> Paging:
    def path(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = declared.get(key)
        return tuple(str(value).split(".")) if value else default

    return Paging(
        style=style,
        offset_param=wire.get(declared.get("offsetParameter", "pageOffset")) if style == "offset" else None,
        cursor_param=wire.get(declared.get("cursorParameter", "cursor")) if style == "cursor" else None,
        limit_param=wire.get(declared["limitParameter"]) if "limitParameter" in declared else _size_param(wire),
        items=path("items", ("data",)),
        cursor=path("cursor", ("cursor",)),
        exhausted=path("exhausted", ("resultsExhausted",)),
        total=path("total", ("meta", "pagination", "total")),
    )


def _size_param(wire: dict[str, str]) -> str | None:
    """The page-size parameter by convention: ``pageLimit``, else ``limit`` (getDetachedObjects)."""
    return wire.get("pageLimit") or wire.get("limit")


# --------------------------------------------------------------------------- decisions


def field_at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def request_for(paging: Paging, params: dict[str, Any], state: PageState, size: int | None) -> dict[str, Any]:
    """The keyword arguments of the next page's call."""
    kwargs = dict(params)
    if state.position is not None and paging.position_param:
        kwargs[paging.position_param] = state.position
    if size is not None and paging.limit_param:
        kwargs[paging.limit_param] = size
    return kwargs


def advance(paging: Paging, sent: dict[str, Any], wire: Any, state: PageState) -> tuple[list[Any], bool, str | None]:
    """After a page: its items, whether another page follows, and what is wrong if it does not
    advance. Updates ``state`` to the next page's position."""
    items = field_at(wire, paging.items)
    items = items if isinstance(items, list) else []
    fingerprint = json.dumps(items, sort_keys=True, default=str)
    if items and fingerprint == state.previous:
        return items, False, "the page repeats the one before"
    state.previous, state.items = fingerprint, state.items + len(items)
    if not items or field_at(wire, paging.exhausted) is True:
        return items, False, None
    if paging.style == "cursor":
        cursor = field_at(wire, paging.cursor)
        if cursor in (None, ""):
            return items, False, None
        if cursor == sent.get(paging.cursor_param or "") or cursor in state.seen:
            return items, False, f"the cursor {str(cursor)[:40]!r} came back again"
        state.seen.add(cursor)
        state.position = cursor
        return items, True, None
    offset = (sent.get(paging.offset_param or "") or 0) + len(items)
    total = field_at(wire, paging.total)
    state.position = offset
    return items, not (isinstance(total, int) and offset >= total), None


def page_size_for(size: int | None, limit: int | None, taken: int) -> int | None:
    """The page size to ask for: the caller's, cut on the last page to what ``limit`` still needs."""
    if size is not None and limit is not None:
        return max(1, min(size, limit - taken))
    return size


def _check_count(name: str, value: Any, least: int) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
        raise ValueError(f"paginate: {name} must be an integer of at least {least} (or None), not {value!r}")


# --------------------------------------------------------------------------- the walk


class Paginator:
    """``client.paginate(...)``: iterate for the items; :meth:`pages` for whole pages."""

    def __init__(
        self,
        call: Callable[[dict[str, Any]], Any],
        op: Any,
        paging: Paging,
        params: dict[str, Any],
        page_size: int | None,
        limit: int | None,
        progress: Any,
    ):
        self._call, self._op, self._paging = call, op, paging
        self._params, self._size, self._limit, self._progress = params, page_size, limit, progress

    def __iter__(self) -> Iterator[Any]:
        taken = 0
        for _page, items in self._walk():
            for item in items:
                if self._limit is not None and taken >= self._limit:
                    return
                taken += 1
                yield item

    def pages(self) -> Iterator[Any]:
        """The pages as the operation answers them (models where the spec names one)."""
        for page, _items in self._walk():
            yield page

    def _walk(self) -> Iterator[tuple[Any, list[Any]]]:
        state = PageState()
        with self._shown() as shown:
            while self._limit is None or state.items < self._limit:
                sent = self._next_request(state)
                page, items, more = self._read_page(sent, self._call(sent), state, shown)
                yield page, items
                if not more:
                    return

    # The steps of a walk, shared with AsyncPaginator: only the calling differs.

    @contextlib.contextmanager
    def _shown(self) -> Iterator[PageProgress | None]:
        """The walk's progress display (``None`` without ``progress``), closed however the walk ends."""
        if not self._progress:
            yield None
            return
        shown = PageProgress(self._progress, self._op.python_name)
        try:
            yield shown
        finally:
            shown.close()

    def _next_request(self, state: PageState) -> dict[str, Any]:
        return request_for(self._paging, self._params, state, page_size_for(self._size, self._limit, state.items))

    def _read_page(
        self, sent: dict[str, Any], answer: Any, state: PageState, shown: PageProgress | None
    ) -> tuple[Any, list[Any], bool]:
        """A page's data, its items and whether another follows; raises when the pages do not advance."""
        paging = self._paging
        wire = to_wire(answer.data)
        items, more, problem = advance(paging, sent, wire, state)
        if problem:
            raise _not_advancing(self._op, answer, problem)
        if shown is not None:
            total = field_at(wire, paging.total)
            shown.page(len(items), total if isinstance(total, int) else None)
        return answer.data, _as_models(answer.data, paging, items), more


class AsyncPaginator(Paginator):
    """``AsyncClient.paginate(...)``: ``async for`` the items; :meth:`pages` for whole pages."""

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("AsyncClient.paginate(...) is iterated with `async for`, not `for`")

    async def __aiter__(self) -> AsyncIterator[Any]:
        taken = 0
        async for _page, items in self._walk_async():
            for item in items:
                if self._limit is not None and taken >= self._limit:
                    return
                taken += 1
                yield item

    async def pages(self) -> AsyncIterator[Any]:  # type: ignore[override]
        """The pages as the operation answers them (models where the spec names one)."""
        async for page, _items in self._walk_async():
            yield page

    async def _walk_async(self) -> AsyncIterator[tuple[Any, list[Any]]]:
        state = PageState()
        with self._shown() as shown:
            while self._limit is None or state.items < self._limit:
                sent = self._next_request(state)
                page, items, more = self._read_page(sent, await self._call(sent), state, shown)
                yield page, items
                if not more:
                    return


def _as_models(page: Any, paging: Paging, items: list[Any]) -> list[Any]:
    """The page's items as its model gives them (models where the spec names one), else as sent."""
    if isinstance(page, Model) and len(paging.items) == 1:
        for python, wire in type(page)._attributes.items():
            if wire == paging.items[0]:
                found = getattr(page, python)
                return found if isinstance(found, list) else items
    return items


def _not_advancing(op: Any, answer: Any, problem: str) -> PaginationError:
    return PaginationError(
        f"{op.operation_id}: the pages do not advance ({problem}); following them would never end",
        operation=op.operation_id,
        status=answer.status_code,
        headers=answer.headers,
        body=answer.raw_data,
        errors=[problem],
    )


def paginator(
    call_plan: Callable[..., Any],
    plan: Any,
    args: tuple[Any, ...],
    params: dict[str, Any],
    page_size: int | None = None,
    limit: int | None = None,
    progress: Any = False,
    kind: type[Paginator] = Paginator,
) -> Paginator:
    """A :class:`Paginator` (or ``kind``) over ``plan``'s pages, ``call_plan`` being a client's
    ``_call``; the command line's ``--all`` uses it too (a parameter named ``limit`` cannot clash there)."""
    paging = paging_of(plan.op)
    if paging is None:
        raise ValueError(
            f"paginate: {plan.op.operation_id} is not paged (no cursor or pageOffset parameter and no "
            f"{EXTENSION}); call it directly"
        )
    _check_count("page_size", page_size, 1)
    _check_count("limit", limit, 0)
    if page_size is not None and paging.limit_param is None:
        raise ValueError(f"paginate: {plan.op.operation_id} has no page-size parameter; leave page_size out")
    if page_size is not None and params.get(paging.limit_param or "") not in (None, page_size):
        raise ValueError(f"paginate: page_size={page_size} and {paging.limit_param}= disagree; give one")
    params = dict(params)
    size = page_size if page_size is not None else params.pop(paging.limit_param or "", None)

    def call(kwargs: dict[str, Any]) -> Any:
        return call_plan(plan, args, kwargs, True)

    return kind(call, plan.op, paging, params, size, limit, progress)
