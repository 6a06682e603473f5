"""The compiled spec: operations with Python names, compiled schema checks, call plans, models.

Everything here depends on the spec alone and is computed once, at load time.

Layer: above ``spec``; imports ``errors``, ``names`` and ``spec`` only.
"""

from __future__ import annotations

from .load import load_api, source_label
from .plans import CLIENT_ATTRIBUTES, Api, CallPlan, ResponsePlan, tag_names

__all__ = ["CLIENT_ATTRIBUTES", "Api", "CallPlan", "ResponsePlan", "load_api", "source_label", "tag_names"]
