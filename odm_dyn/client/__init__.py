"""The client: methods made from the spec, and the call pipeline::

    bind arguments → validate (compiled checks) → encode into a Request
        → transport.send → observers → read the answer → model

``client`` (the small ``Client`` class), ``async_client`` (``AsyncClient``: the same, each
method a coroutine), ``core`` (what both share), ``pipeline`` (every step but the sending, as
plain functions without I/O), ``binding``, ``options``, ``credentials``, ``response``; the
transports: ``transport`` (the interface and HTTP), ``async_transport`` (awaited, over httpx),
``wsgi`` (in-process), ``retry``, ``direct`` (the fast urllib3 route), ``failures`` (exceptions
named); ODM waits in ``tasks`` and ``jobs`` (what they share in ``waits``, the polling loop in
``polling``), pages in ``paging`` (the ``paginate`` method in ``paginate``). The waits and the
paging walk are imported by their methods' first call, so a ``Client`` that only calls never loads
them (``AsyncClient`` names its paginator class, so it imports the paging walk with itself).

Layer: beside ``server``, above ``wire``; imports ``errors``, ``names``, ``secrets``, ``types``,
``spec``, ``api`` and ``wire``. Never imports ``server``, ``cli`` or ``testing``.
"""

from __future__ import annotations

from .client import Client

__all__ = ["Client"]
