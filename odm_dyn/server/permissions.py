"""Who may call what, as ODM decides it: curator work needs the ACCESS_ALL_DATA permission.

Decided per operation once, from its path and method: as-curator and manage-data paths,
publishing (a POST that answers a TaskInfo) and SCIM writes are curator work; the rest any
authenticated user may call. SCIM refusals carry SCIM's error body.
"""

from __future__ import annotations

from ..api.plans import CallPlan
from .behaviours.conventions import answer_shape
from .tasks import ACCESS_ALL_DATA

__all__ = ["ACCESS_ALL_DATA", "curator_work"]


def curator_work(plan: CallPlan) -> str | None:
    """What the operation does that needs a curator (for the 403's message); ``None``: anyone may."""
    path, method = plan.op.path, plan.op.method.lower()
    if "/as-curator/" in path:
        return "act as a curator"
    if "/manage-data/" in path:
        return "manage data"
    if "/scim/" in path and method != "get":
        return "change users and groups"
    if method == "post" and answer_shape(plan) == "task":
        return "publish"
    return None
