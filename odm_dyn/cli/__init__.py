"""The ``odm-dyn`` command line, built from the spec like the client.

Layer: the top, beside ``testing``; may import every package below it and is imported by none.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
