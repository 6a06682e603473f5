"""The client: methods made from the spec, and the call pipeline::

    bind arguments → validate (compiled checks) → encode into a Request
        → transport.send → observers → read the answer → model

``client`` (the small ``Client`` class), ``pipeline`` (every step but the sending, as plain
functions without I/O), ``binding``, ``options``, ``credentials``, ``response``; the
transports: ``transport`` (the interface and HTTP), ``wsgi`` (in-process), ``retry``,
``direct`` (the fast urllib3 route), ``failures`` (exceptions named); ODM waits in ``tasks``
and ``jobs`` (what they share in ``waits``, the polling loop in ``polling``).

Layer: beside ``server``, above ``wire``; imports ``errors``, ``names``, ``secrets``, ``types``,
``spec``, ``api`` and ``wire``. Never imports ``server``, ``cli`` or ``testing``.
"""

from __future__ import annotations

from .client import Client

__all__ = ["Client"]
