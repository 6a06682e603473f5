"""Where the generated client keeps ``ApiClient``; odm_dyn's is in ``odm_dyn.client.compat``."""

from .client.compat import ApiClient
from .client.response import ApiResponse

__all__ = ["ApiClient", "ApiResponse"]
