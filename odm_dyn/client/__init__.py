"""The client: methods made from the spec, and the call pipeline::

    bind arguments → validate (compiled checks) → encode → transport → read the answer → model

Layer: beside ``server``, above ``wire``; imports ``errors``, ``names``, ``secrets``, ``types``,
``spec``, ``api`` and ``wire``. Never imports ``server``, ``cli`` or ``testing``.
"""

from __future__ import annotations

from .client import Client

__all__ = ["Client"]
