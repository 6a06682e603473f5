"""The shared type aliases, and what counts as file content in a body.

Layer: the bottom; imports nothing of odm_dyn.
"""

from __future__ import annotations

import os
from typing import Any


def is_file(value: Any) -> bool:
    """Whether a body value is file content: bytes, a path, an open file or a file tuple."""
    if isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[0], str):
        return is_file(value[1])
    return isinstance(value, (bytes, bytearray, memoryview, os.PathLike)) or hasattr(value, "read")
