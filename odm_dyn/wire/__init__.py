"""The wire: how values become bytes on the way out and are read back on the way in.

Parameter styles (each style's encoder beside its decoder), media-range matching, request
bodies, the values that cross a transport, routing a request to its operation, one check of an
incoming request (``incoming``) and one verdict on an answer (``answer``). Client, server and
contract checks all use these, so they cannot disagree about the wire.

Layer: above ``api``; imports ``errors``, ``names``, ``secrets``, ``types``, ``spec`` and ``api``
only. Never imports ``client``, ``server``, ``cli`` or ``testing``.
"""
