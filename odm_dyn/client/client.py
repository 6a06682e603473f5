"""The client: attribute-style methods made from the spec, over the call pipeline.

``Client(...)`` returns an instance of a class made once per loaded spec, whose methods are
real functions (``__name__``, ``__doc__``, a signature), so ``help()``, ``dir()``,
``inspect`` and tab completion all see them. Every call runs one pipeline (``pipeline.py``)::

    bind arguments → validate (compiled checks) → encode into a Request
        → transport.send → observers → read the answer → model

The class itself only holds the settings, the transport and the observers.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from ..api.plans import Api, CallPlan
from ..errors import OdmError
from ..types import SpecSource, TimeoutSpec
from ..wire.messages import RawResponse, Request
from .classes import InitSignature
from .core import ClientCore, Observer, Observers, transport_defaults, transport_settings_refused
from .credentials import outside_headers, settings_from_env
from .jobs import JobWaits
from .paginate import PagingMixin
from .pipeline import USER_AGENT, prepare, read_answer, read_download, send_options
from .response import ApiResponse, open_sink
from .retry import RetryPolicy
from .tasks import TaskWaits
from .transport import BaseTransport, Transport

log = logging.getLogger("odm_dyn")


class Client(ClientCore, TaskWaits, JobWaits, PagingMixin):
    """A client for an ODM server, with one method per operation of the spec.

    Args:
        host: the server's base URL; default: the spec's first server (``http://localhost``).
        token: a Genestack API token, sent in ``Genestack-API-Token``.
        access_token: an access token, sent as ``Authorization: Bearer <token>``.
        spec: spec files, folders or http(s) URLs to use instead of the bundled Tasks API
            (``[odm_dyn.TASKS_SPEC, "more.yaml"]`` extends it). URLs are cached and revalidated.
        spec_auth: send the token to the spec's host too (never to another host).
        refresh: fetch a spec given by URL again instead of revalidating the cached copy.
        validate_requests, validate_responses: ``"strict"`` (raise), ``"warn"`` (log) or ``"off"``.
        unknown_enums: ``"warn"`` (default) accepts an answer's value that its enum does not
            list, with one warning per value; ``"strict"`` refuses it like any other break.
        timeout: seconds, or ``(connect, read)``, for every call unless a call says otherwise.
        retries: a :class:`RetryPolicy` or a number of retries (idempotent methods only).
        retry_unsafe: also retry non-idempotent methods such as POST.
        credentials: raw header values by security scheme name (what ``Configuration.api_key``
            maps to), for specs with other schemes.
        verify: TLS verification: ``True``, ``False`` or a CA bundle path.
        transport: what sends the requests instead of HTTP, e.g.
            :class:`~odm_dyn.client.wsgi.WsgiTransport` (then ``timeout``, ``retries``, ``verify``
            and ``session`` are the transport's own settings, not given here).
        on_exchange: an observer, or a list of them, each called with an
            :class:`~odm_dyn.wire.exchange.Exchange` (redacted, with its verdict) for every
            answer received, before it is read; for recorders and contract tests. More can be
            added to ``client.observers``.
    """

    api: Api

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
        transport: BaseTransport | None = None,
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
        self, given: BaseTransport | None, timeout: Any, retries: Any, verify: bool | str, session: Any
    ) -> BaseTransport:
        """The transport given, or an HTTP one made from the settings (checked here, once)."""
        if given is not None:
            transport_settings_refused(timeout, retries, verify, session)
            return given
        limit, policy = transport_defaults(timeout, retries)
        hidden = outside_headers(self.api, self._credentials)  # urllib3 logs request lines, queries included
        return Transport(self.host, timeout=limit, retries=policy, verify=verify, session=session, secrets=hidden)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def call(self, operation_id: str, *args: Any, **kwargs: Any) -> Any:
        """Call an operation by its operationId (or Python name)."""
        return self._call(self._plan(operation_id), args, kwargs, False)

    def call_with_http_info(self, operation_id: str, *args: Any, **kwargs: Any) -> ApiResponse:
        return self._call(self._plan(operation_id), args, kwargs, True)

    # ------------------------------------------------------------------ the pipeline

    def _call(self, plan: CallPlan, args: tuple, kwargs: dict, with_info: bool | str) -> Any:
        request, options = prepare(self._settings, plan, args, kwargs)
        if options.get("_stream_to") is not None:
            return self._download(plan, request, options, with_info is True)
        raw = self._send(plan, request, options)
        if with_info == "raw":  # the generated client's *_without_preload_content: the answer unread
            return raw
        return read_answer(self._settings, plan, raw, bool(with_info))

    def _download(self, plan: CallPlan, request: Request, options: dict[str, Any], with_info: bool) -> Any:
        """``_stream_to=``: a success answer's body goes to a file chunk by chunk, never into memory.

        A path is written through ``<path>.part`` and renamed when complete (an error answer or a
        broken connection leaves the path untouched); an open binary file is written as it is.
        """
        with open_sink(options["_stream_to"]) as (sink, result):
            raw = self._send(plan, request, options, sink)
            return read_download(self._settings, plan, raw, result, with_info)

    def _send(self, plan: CallPlan, request: Request, options: dict[str, Any], sink: Any = None) -> RawResponse:
        """The transport's part of a call, with the call's options; the observers see the exchange."""
        if log.isEnabledFor(logging.DEBUG):  # the arguments are not worked out on every call
            log.debug("%s: %s %s", request.operation_id, request.method, request.target.partition("?")[0])
        if options:
            raw = self.transport.send(request, sink=sink, **send_options(options, self._retry_unsafe))
        else:  # most calls: no per-call option to read
            raw = self.transport.send(request, sink=sink, retry_unsafe=self._retry_unsafe)
        if self.observers:  # one test when nobody observes
            self._observe(plan, request, raw)
        return raw


Client.__signature__ = InitSignature()  # type: ignore[attr-defined]  # subclasses inherit it


__all__ = ["USER_AGENT", "Client", "Observer", "OdmError", "settings_from_env"]
