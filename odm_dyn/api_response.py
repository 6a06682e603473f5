"""Where the generated client keeps ``ApiResponse``; odm_dyn's is in ``odm_dyn.client.response``."""

from .client.response import ApiResponse

__all__ = ["ApiResponse"]
