"""The public names users import: pinned, so a change to them is a deliberate one."""

import odm_dyn
from odm_dyn import errors


def test_public_names_are_pinned():
    assert sorted(odm_dyn.__all__) == [
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
    for name in odm_dyn.__all__:
        assert getattr(odm_dyn, name) is not None


# Every edge of the tree in CONTRACT §5 (and the one RequestTypeError adds), child → parent.
TREE = {
    odm_dyn.SpecError: odm_dyn.OdmError,
    odm_dyn.RequestValidationError: odm_dyn.OdmError,
    odm_dyn.RequestTypeError: odm_dyn.RequestValidationError,
    odm_dyn.ResponseValidationError: odm_dyn.OdmError,
    odm_dyn.TransportError: odm_dyn.OdmError,
    odm_dyn.ApiConnectionError: odm_dyn.TransportError,
    odm_dyn.ApiTimeoutError: odm_dyn.TransportError,
    odm_dyn.TaskTimeoutError: odm_dyn.OdmError,
    odm_dyn.TaskFailedError: odm_dyn.OdmError,  # issue 15: the waits
    odm_dyn.JobTimeoutError: odm_dyn.OdmError,
    odm_dyn.JobFailedError: odm_dyn.OdmError,
    odm_dyn.PaginationError: odm_dyn.ResponseValidationError,
    odm_dyn.ApiException: odm_dyn.OdmError,
    odm_dyn.BadRequestException: odm_dyn.ApiException,
    odm_dyn.UnauthorizedException: odm_dyn.ApiException,
    odm_dyn.ForbiddenException: odm_dyn.ApiException,
    odm_dyn.NotFoundException: odm_dyn.ApiException,
    odm_dyn.ConflictException: odm_dyn.ApiException,
    odm_dyn.UnprocessableEntityException: odm_dyn.ApiException,
    odm_dyn.TooManyRequestsException: odm_dyn.ApiException,
    odm_dyn.ServiceException: odm_dyn.ApiException,
}


def test_exception_tree_matches_the_contract():
    for child, parent in TREE.items():
        assert child.__bases__[0] is parent, f"{child.__name__} should derive from {parent.__name__}"
    assert issubclass(odm_dyn.RequestValidationError, ValueError)
    assert issubclass(odm_dyn.RequestTypeError, TypeError)
    assert issubclass(odm_dyn.OdmError, Exception) and odm_dyn.OdmError.__bases__ == (Exception,)
    assert errors.exception_for_status(418) is odm_dyn.ApiException
    assert errors.exception_for_status(599) is odm_dyn.ServiceException
    assert odm_dyn.rest.ApiException is odm_dyn.ApiException
