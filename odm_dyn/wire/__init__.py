"""The wire: how values become bytes on the way out and are read back on the way in.

Parameter styles, request bodies, the values that cross a transport, routing a request to its
operation, and one verdict on an answer. Client, server and contract checks all use these, so
they cannot disagree about the wire.

Layer: above ``api``; imports ``errors``, ``names``, ``secrets``, ``types``, ``spec`` and ``api``
only. Never imports ``client``, ``server``, ``cli`` or ``testing``.
"""
