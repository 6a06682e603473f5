"""Where the generated client keeps its exceptions; odm_dyn's are the same classes."""

from .errors import (
    ApiException,
    BadRequestException,
    ConflictException,
    ForbiddenException,
    NotFoundException,
    OdmError,
    ServiceException,
    TooManyRequestsException,
    UnauthorizedException,
    UnprocessableEntityException,
)

OpenApiException = OdmError  # the generated client's base; every odm_dyn error is one
ApiTypeError = TypeError  # what the generated client raises for a wrong argument (ours are too)
ApiValueError = ValueError

__all__ = [
    "ApiException",
    "ApiTypeError",
    "ApiValueError",
    "BadRequestException",
    "ConflictException",
    "ForbiddenException",
    "NotFoundException",
    "OpenApiException",
    "ServiceException",
    "TooManyRequestsException",
    "UnauthorizedException",
    "UnprocessableEntityException",
]
