"""odm_dyn: a Python client for the Genestack ODM REST API, made from its OpenAPI spec at run time.

    import odm_dyn
    client = odm_dyn.Client("http://localhost:8080", token="...")
    task = client.publish_all_studies(version_message="release 7")
    done = client.wait_for_task(task.id, timeout=600)

Heavy modules load on first use, so ``import odm_dyn`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    ApiConnectionError,
    ApiException,
    ApiTimeoutError,
    BadRequestException,
    ConflictException,
    ForbiddenException,
    JobFailedError,
    JobTimeoutError,
    NotFoundException,
    OdmError,
    PaginationError,
    RequestTypeError,
    RequestValidationError,
    ResponseValidationError,
    ServiceException,
    SpecError,
    TaskFailedError,
    TaskTimeoutError,
    TooManyRequestsException,
    TransportError,
    UnauthorizedException,
    UnprocessableEntityException,
)
from .spec.document import TASKS_SPEC
from .surface import install as _install_surface

_install_surface()  # odm_dyn.api.<tag>_api modules, made on import

__version__ = "0.1.0"

if TYPE_CHECKING:  # what mypy, pyright and jedi read; at run time these load on first use
    from .api import load_api
    from .api.load import use_spec
    from .client.client import Client
    from .client.compat import ApiClient, Configuration
    from .client.response import ApiResponse
    from .client.transport import RetryPolicy

_LAZY = {
    "Client": "client.client",
    "AsyncClient": "client.async_client",
    "ApiResponse": "client.response",
    "RetryPolicy": "client.transport",
    "Configuration": "client.compat",
    "ApiClient": "client.compat",
    "load_api": "api",
    "use_spec": "api.load",
}

_SUBMODULES = ("models", "rest", "server", "testing", "exceptions", "api_client", "configuration", "api_response")

__all__ = [
    "ApiClient",
    "ApiConnectionError",
    "ApiException",
    "ApiResponse",
    "ApiTimeoutError",
    "AsyncClient",
    "BadRequestException",
    "Client",
    "Configuration",
    "ConflictException",
    "ForbiddenException",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundException",
    "OdmError",
    "PaginationError",
    "RequestTypeError",
    "RequestValidationError",
    "ResponseValidationError",
    "RetryPolicy",
    "ServiceException",
    "SpecError",
    "TASKS_SPEC",
    "TaskFailedError",
    "TaskTimeoutError",
    "TooManyRequestsException",
    "TransportError",
    "UnauthorizedException",
    "UnprocessableEntityException",
    "load_api",
    "use_spec",
]


def __getattr__(name: str) -> Any:
    """Lazy public names, and the generated client's ``<Tag>Api`` classes of the surface's spec
    (``TasksAPIApi``; ``StudySPoTAsCuratorApi`` after ``use_spec(the vendor's odmApi.yaml)``)."""
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    if name.endswith("Api") and name[:1].isupper():
        from .client.compat import surface_api_class

        cls = surface_api_class(name)
        if cls is not None:
            return cls
    raise AttributeError(f"module 'odm_dyn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
