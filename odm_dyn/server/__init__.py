"""The embedded ODM server: a real HTTP server that speaks the spec (CONTRACT §7).

    from odm_dyn.server import EmbeddedServer

    with EmbeddedServer(task_seconds=1) as server:
        client = odm_dyn.Client(server.url, token=server.token)
        task = client.publish_all_studies(version_message="release 7")

Routes, validation and example answers come from the loaded spec; users, hashed tokens and
tasks live in SQLite. This package never imports the client: it sits beside it, on the same
spec loader and compiled checks.

Layer: beside ``client``, above ``wire``; imports ``errors``, ``names``, ``secrets``, ``types``,
``exit_codes``, ``spec``, ``api`` and ``wire``. Never imports ``client``, ``cli`` or ``testing``.
"""

from __future__ import annotations

from .app import ServerApp
from .serving import (
    DEFAULT_TASK_SECONDS,
    EmbeddedServer,
    add_serve_arguments,
    make_app,
    serve,
)
from .store import Store, default_db_path

__all__ = [
    "DEFAULT_TASK_SECONDS",
    "EmbeddedServer",
    "ServerApp",
    "Store",
    "add_serve_arguments",
    "default_db_path",
    "make_app",
    "serve",
]
