"""``client.paginate(...)``: the method ``Client`` and ``AsyncClient`` mix in, without the walk.

The walk (``paging.py``: the spec's paging styles, the decisions, :class:`Paginator`, its
progress display) is imported by the first ``paginate`` call: a process that only calls
operations never loads it (tests/test_perf_guards.py holds that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .paging import Paginator


class PagingMixin:
    """``paginate``, mixed into ``Client`` (and ``AsyncClient``, whose ``_paginator`` is async)."""

    _plan: Callable[..., Any]
    _call: Callable[..., Any]
    _paginator: type[Paginator] | None = None  # None: Paginator; AsyncClient's is AsyncPaginator

    def paginate(
        self,
        method: Any,
        *args: Any,
        page_size: int | None = None,
        limit: int | None = None,
        progress: Any = False,
        **params: Any,
    ) -> Paginator:
        """Follow a paged operation's pages to the end: iterate for its items, ``.pages()`` for pages.

        ``method`` is the client's method (``client.search_samples_as_curator``) or an operation's
        name; ``args`` and ``params`` are its arguments (a ``page_offset`` or ``cursor`` given
        starts there). ``page_size`` sets the page size (its ``pageLimit``), ``limit`` stops after
        that many items, ``progress=True`` shows the items read. Raises :class:`PaginationError`
        when the pages do not advance.
        """
        from .paging import Paginator, paginator  # the walk's modules load with the first paginate, not with Client

        plan = self._plan(method if isinstance(method, str) else getattr(method, "__name__", str(method)))
        return paginator(self._call, plan, args, params, page_size, limit, progress, self._paginator or Paginator)
