"""What ``Client`` and ``AsyncClient`` share: the settings of every call, the observers, and
finding operations; everything but sending.

Both are made from the same loaded spec (one class per spec and per kind, ``classes.py``), hold
one :class:`~odm_dyn.client.pipeline.CallSettings`, and run the same pipeline functions around
their own transport: ``Client`` a blocking one, ``AsyncClient`` one that is awaited.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Mapping, Union

from ..api.load import load_api, source_label
from ..api.plans import Api, CallPlan
from ..api.schemas import check_mode
from ..errors import RequestTypeError
from ..types import SpecSource, Timeout
from ..wire.messages import RawResponse, Request
from .classes import client_class, model_namespace
from .credentials import resolve_credentials, settings_from_env, spec_fetch_options
from .options import base_url, check_retries, check_timeout
from .pipeline import CallSettings
from .response import check_unknown_enums
from .retry import RetryPolicy

Observer = Callable[[Any], None]  # called with an odm_dyn.wire.exchange.Exchange
Observers = Union[Observer, Iterable[Observer], None]


class ClientCore:
    """The part of a client that does no I/O (see the module's docstring)."""

    api: Api
    host: str
    transport: Any
    observers: list[Observer]
    _settings: CallSettings
    _credentials: dict[str, str]

    def __new__(cls, host: str | None = None, *, spec: SpecSource | None = None, **options: Any) -> Any:
        if "api" in cls.__dict__:  # a class made for one Api already (client_class(api))
            return object.__new__(cls)
        return object.__new__(client_class(load_api(spec, fetch=spec_fetch_options(**options)), cls))

    def _setup(
        self,
        host: str | None,
        token: str | None,
        access_token: str | None,
        spec: SpecSource | None,
        modes: tuple[str, str, str],
        retry_unsafe: bool,
        credentials: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        on_exchange: Observers,
    ) -> None:
        """The settings both kinds of client check and fix once; ``modes``: ``validate_requests``,
        ``validate_responses``, ``unknown_enums``."""
        self.host = base_url(host or (self.api.servers[0] if self.api.servers else "http://localhost"))
        self._spec_label = source_label(spec)
        self._retry_unsafe = retry_unsafe
        self._credentials = resolve_credentials(self.api, token, access_token, credentials)
        self._settings = CallSettings.make(
            self.api,
            self._credentials,
            headers,
            check_mode("validate_requests", modes[0]),
            check_mode("validate_responses", modes[1]),
            check_unknown_enums(modes[2]),
        )
        self.observers = observer_list(on_exchange)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Any:
        """A client from ``ODM_HOST``, ``ODM_API_TOKEN``, ``ODM_ACCESS_TOKEN`` (or the
        ``PRED_SPOT_*`` names of the vendor's generated clients); ``options`` win."""
        settings = settings_from_env(os.environ if environ is None else environ)
        settings.update({k: v for k, v in options.items() if v is not None})
        return cls(**settings)

    # ------------------------------------------------------------------ niceties

    def __repr__(self) -> str:
        schemes = ", ".join(sorted(self._credentials)) or "none"
        return f"<odm_dyn.{type(self).__name__} {self.host} spec={self._spec_label!r} auth={schemes}>"

    @property
    def on_exchange(self) -> Observer | None:
        """The first observer (0.1.0 had one); assigning one adds it, assigning ``None`` removes all."""
        return self.observers[0] if self.observers else None

    @on_exchange.setter
    def on_exchange(self, observers: Observers) -> None:
        if observers is None or not callable(observers):
            self.observers = observer_list(observers)
        elif observers not in self.observers:
            self.observers.append(observers)

    @property
    def _validate_responses(self) -> str:
        return self._settings.validate_responses  # read by the contract recorder (testing/)

    @property
    def _unknown_enums(self) -> str:
        return self._settings.unknown_enums

    @property
    def operations(self) -> dict[str, Any]:
        """The spec's operations by operationId."""
        return self.api.operations

    @property
    def models(self) -> Any:
        """The model classes of the spec, by schema name (``client.models.TaskInfo``)."""
        return model_namespace(self.api)

    def _plan(self, operation_id: str) -> CallPlan:
        try:
            return self.api.find_plan(operation_id)
        except LookupError as error:
            raise AttributeError(str(error)) from None

    def _observe(self, plan: CallPlan, request: Request, raw: RawResponse) -> None:
        from ..wire.exchange import Exchange

        exchange = Exchange.of(plan, self.host, request, raw, self.api.secret_names)
        for observer in list(self.observers):
            observer(exchange)


def observer_list(given: Observers) -> list[Observer]:
    if given is None:
        return []
    return [given] if callable(given) else list(given)


def transport_settings_refused(timeout: Any, retries: Any, verify: Any, session: Any) -> None:
    """``transport=`` comes with its own settings: refuse the client's beside it."""
    if timeout is not None or retries is not None or verify is not True or session is not None:
        raise RequestTypeError(
            "Client: timeout=, retries=, verify= and session= are settings of the transport; "
            "give them to it, not beside transport=",
            parameter="transport",
            rule="type",
        )


def transport_defaults(timeout: Any, retries: Any) -> tuple[Timeout | None, RetryPolicy]:
    """The checked ``timeout=`` and ``retries=`` of a client that makes its own transport
    (three retries unless told), for ``Client`` and ``AsyncClient`` alike."""
    limit = check_timeout(timeout, "timeout", None)
    policy = check_retries(retries, "retries", None) or RetryPolicy(total=3)
    return limit, policy
