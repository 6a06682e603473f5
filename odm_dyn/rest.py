"""Where the generated client keeps ``ApiException``; odm_dyn's is the same class."""

from .errors import ApiException

__all__ = ["ApiException"]
