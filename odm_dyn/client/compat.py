"""The surface of the vendor's generated client (``odm_api``), on top of :class:`Client`.

``Configuration``, ``ApiClient`` and one ``<Tag>Api`` class per tag behave as the generated
ones do for the calls users make, so the vendor's examples run with only the package name
changed. As there, ``api_key[scheme]`` is sent as it is, after ``api_key_prefix[scheme]``
when one is set, and every configured credential the operation accepts is sent.
"""

from __future__ import annotations

import threading
from typing import Any

from ..api.load import load_api
from ..api.plans import Api
from ..spec.document import SpecSource
from .classes import TagNamespace, tag_class
from .client import Client


class Configuration:
    """Connection settings, as in the generated client (secrets never shown in ``repr``)."""

    def __init__(
        self,
        host: str | None = None,
        api_key: dict[str, str] | None = None,
        api_key_prefix: dict[str, str] | None = None,
        access_token: str | None = None,
        ssl_ca_cert: str | None = None,
        verify_ssl: bool = True,
        retries: int | None = None,
        spec: SpecSource | None = None,
        **_ignored: Any,
    ):
        self.host = host or "http://localhost"
        self.api_key: dict[str, str] = dict(api_key or {})
        self.api_key_prefix: dict[str, str] = dict(api_key_prefix or {})
        self.access_token = access_token
        self.ssl_ca_cert = ssl_ca_cert
        self.verify_ssl = verify_ssl
        self.retries = retries
        self.spec = spec
        self.timeout: Any = None

    def credentials(self) -> dict[str, str]:
        """Raw header values by scheme name: the key, after its prefix when one is set."""
        values = {}
        for scheme, key in self.api_key.items():
            if key:
                prefix = self.api_key_prefix.get(scheme)
                values[scheme] = f"{prefix} {key}" if prefix else key
        return values

    def __repr__(self) -> str:
        return f"Configuration(host={self.host!r}, api_key=<{len(self.api_key)} set>)"


class ApiClient:
    """Holds a :class:`Client` made from a :class:`Configuration`; a context manager."""

    def __init__(
        self,
        configuration: Configuration | None = None,
        header_name: str | None = None,
        header_value: str | None = None,
        **_ignored: Any,
    ):
        self.configuration = configuration or Configuration()
        self.default_headers: dict[str, str] = {}
        if header_name and header_value is not None:
            self.default_headers[header_name] = header_value
        self._client: Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Client:
        """The odm_dyn client, made at first use from the configuration as it is then."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self) -> Client:
        config = self.configuration
        options: dict[str, Any] = {}
        if config.timeout is not None:
            options["timeout"] = config.timeout
        if config.retries is not None:
            options["retries"] = config.retries
        return Client(
            config.host,
            spec=config.spec,
            credentials=config.credentials(),
            access_token=config.access_token,
            headers=self.default_headers,
            verify=config.ssl_ca_cert or config.verify_ssl,
            **options,
        )

    def set_default_header(self, name: str, value: str) -> None:
        """Send this header on every later call (the client is made again, with it)."""
        with self._lock:
            self.default_headers[name] = value
            self._drop_client()

    def close(self) -> None:
        with self._lock:
            self._drop_client()

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class GeneratedApi(TagNamespace):
    """Base of the ``<Tag>Api`` classes: ``TasksAPIApi(api_client)``."""

    def __init__(self, api_client: ApiClient | None = None):
        self.api_client = api_client or ApiClient()

    @property
    def _client(self) -> Client:  # type: ignore[override]
        return self.api_client.client


_api_classes: dict[int, dict[str, type]] = {}


def api_classes(api: Api) -> dict[str, type]:
    """The ``<Tag>Api`` classes of a spec, by class name (made once per spec)."""
    if id(api) not in _api_classes:
        _api_classes[id(api)] = {
            api.tag_class_name(tag): tag_class(api, tag, op_ids, GeneratedApi) for tag, op_ids in api.tags.values()
        }
    return _api_classes[id(api)]


def bundled_api_class(name: str) -> type | None:
    return api_classes(load_api()).get(name)
