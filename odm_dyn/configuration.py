"""Where the generated client keeps ``Configuration``; odm_dyn's is in ``odm_dyn.client.compat``."""

from .client.compat import Configuration

__all__ = ["Configuration"]
