"""The surface of the vendor's generated client (``odm_api``), on top of :class:`Client`.

``Configuration``, ``ApiClient`` and one ``<Tag>Api`` class per tag behave as the generated
ones do for the calls users make, so the vendor's examples run with only the package name
changed. As there, ``api_key[scheme]`` is sent as it is, after ``api_key_prefix[scheme]``
when one is set, and every configured credential the operation accepts is sent.
"""

from __future__ import annotations

import difflib
import inspect
import threading
from typing import Any

from ..api.load import surface_apis, surface_source, use_spec
from ..api.plans import Api
from ..names import generator_module
from ..spec.document import SpecSource
from .classes import TagNamespace, tag_class
from .client import Client
from .transport import RetryPolicy


class Configuration:
    """Connection settings, as in the generated client (secrets never shown in ``repr``).

    An unknown keyword is a ``TypeError`` naming it (a typo such as ``hots=`` must not fall
    back to localhost). ``spec`` (odm_dyn's own) names the spec to call; it also becomes the
    spec of the module-level surface (``odm_dyn.<Tag>Api``, ``odm_dyn.models.<name>``).
    """

    def __init__(
        self,
        host: str | None = None,
        api_key: dict[str, str] | None = None,
        api_key_prefix: dict[str, str] | None = None,
        access_token: str | None = None,
        ssl_ca_cert: str | None = None,
        verify_ssl: bool = True,
        retries: int | RetryPolicy | None = None,
        proxy: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        client_side_validation: bool = True,
        spec: SpecSource | None = None,
        **unknown: Any,
    ):
        if unknown:
            raise TypeError(_unknown_keywords(unknown))
        self.host = host or "http://localhost"
        self.api_key: dict[str, str] = dict(api_key or {})
        self.api_key_prefix: dict[str, str] = dict(api_key_prefix or {})
        self.access_token = access_token
        self.ssl_ca_cert = ssl_ca_cert
        self.verify_ssl = verify_ssl
        self.retries = retries
        self.proxy = proxy
        self.cert_file = cert_file
        self.key_file = key_file
        self.client_side_validation = client_side_validation
        self.spec = spec
        self.timeout: Any = None
        if spec is not None:
            use_spec(spec)

    def credentials(self) -> dict[str, str]:
        """Raw header values by scheme name: the key, after its prefix when one is set."""
        values = {}
        for scheme, key in self.api_key.items():
            if key:
                prefix = self.api_key_prefix.get(scheme)
                values[scheme] = f"{prefix} {key}" if prefix else key
        return values

    def client_options(self) -> dict[str, Any]:
        """The :class:`Client` keywords these settings stand for."""
        options: dict[str, Any] = {"verify": self.ssl_ca_cert or self.verify_ssl}
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.retries is not None:
            options["retries"] = self.retries
        if not self.client_side_validation:
            options["validate_requests"] = "off"
        if self.proxy or self.cert_file:
            options["session"] = self._session()
        return options

    def _session(self) -> Any:
        import requests

        session = requests.Session()
        if self.proxy:
            session.proxies.update({"http": self.proxy, "https": self.proxy})
        if self.cert_file:
            session.cert = (self.cert_file, self.key_file) if self.key_file else self.cert_file
        return session

    def __repr__(self) -> str:
        return f"Configuration(host={self.host!r}, api_key=<{len(self.api_key)} set>)"


def _unknown_keywords(unknown: dict[str, Any]) -> str:
    known = [name for name in inspect.signature(Configuration.__init__).parameters if name not in ("self", "unknown")]
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return f"Configuration() got unknown keyword(s) {', '.join(parts)}; it takes {', '.join(known)}"


class ApiClient:
    """Holds a :class:`Client` made from a :class:`Configuration`; a context manager."""

    def __init__(
        self,
        configuration: Configuration | None = None,
        header_name: str | None = None,
        header_value: str | None = None,
        cookie: str | None = None,
    ):
        self.configuration = configuration or Configuration()
        self.default_headers: dict[str, str] = {}
        if header_name and header_value is not None:
            self.default_headers[header_name] = header_value
        if cookie:
            self.default_headers["Cookie"] = cookie
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
        return Client(
            config.host,
            spec=config.spec if config.spec is not None else surface_source(),
            credentials=config.credentials(),
            access_token=config.access_token,
            headers=self.default_headers,
            **config.client_options(),
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

    @staticmethod
    def _raw_answer(raw: Any) -> RESTResponse:
        return RESTResponse(raw)

    @property
    def _client(self) -> Client:  # type: ignore[override]
        return self.api_client.client


class RESTResponse:
    """The raw answer a ``*_without_preload_content`` method returns, as the generated
    client's: ``status``, ``reason``, ``headers``, ``data`` (bytes), ``read()``, ``getheader()``."""

    def __init__(self, raw: Any):
        self.status: int = raw.status
        self.reason: str = raw.reason
        self.headers: dict[str, str] = dict(raw.headers)
        self.data: bytes = raw.content

    def read(self) -> bytes:
        return self.data

    def getheaders(self) -> dict[str, str]:
        return self.headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)

    def __repr__(self) -> str:
        return f"<RESTResponse {self.status} {self.reason} {len(self.data)} bytes>"


_api_classes: dict[int, dict[str, type]] = {}
_api_classes_lock = threading.Lock()


def api_classes(api: Api) -> dict[str, type]:
    """The ``<Tag>Api`` classes of a spec, by class name (made once per spec)."""
    with _api_classes_lock:
        if id(api) not in _api_classes:
            _api_classes[id(api)] = {
                api.tag_class_name(tag): tag_class(api, tag, op_ids, GeneratedApi, raw=True)
                for tag, op_ids in api.tags.values()
            }
    return _api_classes[id(api)]


def surface_api_class(name: str) -> type | None:
    """``odm_dyn.<Tag>Api``: the class of that name in the surface's spec, else the bundled one."""
    for api in surface_apis():
        found = api_classes(api).get(name)
        if found is not None:
            return found
    return None


def surface_api_module(module: str) -> dict[str, type]:
    """The classes of ``odm_dyn.api.<module>`` (the generated client's module of a tag class)."""
    for api in surface_apis():
        found = {name: cls for name, cls in api_classes(api).items() if generator_module(name) == module}
        if found:
            return found
    return {}


bundled_api_class = surface_api_class  # the name 0.1.0 used
