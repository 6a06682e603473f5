"""``AsyncClient``: the client of a spec for asyncio, each method a coroutine.

Made from the same loaded spec, plan and wire layer as ``Client`` (one class per spec,
``classes.py``), over the same pipeline functions (``pipeline.py``)::

    bind arguments → validate → encode into a Request     (prepare: shared, no I/O)
        → await transport.send → observers                 (the only awaited step)
        → read the answer → model                          (read_answer: shared, no I/O)

so its signatures, docstrings, validation modes, errors, retry decisions, timeouts and secret
handling are ``Client``'s. The waits and ``paginate`` take the decisions of ``polling.py`` and
``paging.py``; only their pauses are awaited, and the polls of many ids overlap.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from ..api.plans import Api, CallPlan
from ..types import SpecSource, TimeoutSpec
from ..wire.messages import RawResponse, Request
from .async_transport import AsyncBaseTransport, AsyncTransport
from .classes import InitSignature
from .core import ClientCore, Observers, transport_defaults, transport_settings_refused
from .jobs import AsyncJobWaits
from .paginate import PagingMixin
from .paging import AsyncPaginator
from .pipeline import prepare, read_answer, read_download, send_options
from .response import ApiResponse, open_sink
from .retry import RetryPolicy
from .tasks import AsyncTaskWaits

log = logging.getLogger("odm_dyn")


class AsyncClient(ClientCore, AsyncTaskWaits, AsyncJobWaits, PagingMixin):
    """A client for an ODM server for asyncio: ``Client``'s methods, each a coroutine.

    ::

        async with odm_dyn.AsyncClient("http://localhost:8080", token="...") as client:
            task = await client.publish_all_studies(version_message="release 7")
            done = await client.wait_for_task(task.id, timeout=600)
            async for task in client.wait_for_tasks(ids):      # as each finishes
                ...
            async for item in client.paginate(client.search_samples_as_curator):
                ...

    Args: as :class:`~odm_dyn.Client`; ``session`` is an ``httpx.AsyncClient`` to send
    through instead of the one made here (one connection pool, HTTP/1.1 with keep-alive), and
    ``transport`` an :class:`~odm_dyn.client.async_transport.AsyncBaseTransport`. Needs httpx:
    ``pip install 'odm-dyn[async]'``. Close it with ``await client.aclose()`` or ``async with``.
    """

    api: Api
    _coroutines = True  # classes.py makes every operation's method a coroutine function
    _paginator = AsyncPaginator

    def __init__(
        self,
        host: str | None = None,
        *,
        token: str | None = None,
        access_token: str | None = None,
        spec: SpecSource | None = None,
        validate_requests: str = "strict",
        validate_responses: str = "strict",
        unknown_enums: str = "warn",
        timeout: TimeoutSpec = None,
        retries: RetryPolicy | int | None = None,
        retry_unsafe: bool = False,
        credentials: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        session: Any = None,
        transport: AsyncBaseTransport | None = None,
        on_exchange: Observers = None,
        spec_auth: bool = False,
        refresh: bool = False,
    ):
        self._setup(
            host,
            token,
            access_token,
            spec,
            (validate_requests, validate_responses, unknown_enums),
            retry_unsafe,
            credentials,
            headers,
            on_exchange,
        )
        self.transport = self._transport(transport, timeout, retries, verify, session)

    def _transport(
        self, given: AsyncBaseTransport | None, timeout: Any, retries: Any, verify: bool | str, session: Any
    ) -> AsyncBaseTransport:
        """The transport given, or an httpx one made from the settings (checked here, once)."""
        if given is not None:
            transport_settings_refused(timeout, retries, verify, session)
            return given
        limit, policy = transport_defaults(timeout, retries)
        # Every credential value: httpcore's DEBUG records show the answers' headers, which may echo one.
        hidden = list(self._credentials.values())
        return AsyncTransport(self.host, timeout=limit, retries=policy, verify=verify, session=session, secrets=hidden)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (and forget the credential values hidden in logs)."""
        await self.transport.aclose()

    async def call(self, operation_id: str, *args: Any, **kwargs: Any) -> Any:
        """Call an operation by its operationId (or Python name)."""
        return await self._call(self._plan(operation_id), args, kwargs, False)

    async def call_with_http_info(self, operation_id: str, *args: Any, **kwargs: Any) -> ApiResponse:
        return await self._call(self._plan(operation_id), args, kwargs, True)

    # ------------------------------------------------------------------ the pipeline

    async def _call(self, plan: CallPlan, args: tuple, kwargs: dict, with_info: bool) -> Any:
        request, options = prepare(self._settings, plan, args, kwargs)
        if options.get("_stream_to") is not None:
            return await self._download(plan, request, options, with_info)
        raw = await self._send(plan, request, options)
        return read_answer(self._settings, plan, raw, with_info)

    async def _download(self, plan: CallPlan, request: Request, options: dict[str, Any], with_info: bool) -> Any:
        """``_stream_to=``, as ``Client``'s: the body to ``<path>.part``, renamed when complete."""
        with open_sink(options["_stream_to"]) as (sink, result):
            raw = await self._send(plan, request, options, sink)
            return read_download(self._settings, plan, raw, result, with_info)

    async def _send(self, plan: CallPlan, request: Request, options: dict[str, Any], sink: Any = None) -> RawResponse:
        log.debug("%s: %s %s", request.operation_id, request.method, request.path)
        if options:
            raw = await self.transport.send(request, sink=sink, **send_options(options, self._retry_unsafe))
        else:
            raw = await self.transport.send(request, sink=sink, retry_unsafe=self._retry_unsafe)
        if self.observers:
            self._observe(plan, request, raw)
        return raw


AsyncClient.__signature__ = InitSignature()  # type: ignore[attr-defined]

__all__ = ["AsyncClient"]
