"""A bare WSGI app behind the embedded server's own serving, for the server's yardstick (issue 19).

    python -m bench.bare_app --token T

Starts an :class:`~odm_dyn.server.EmbeddedServer` exactly as ``odm-dyn serve`` does, makes one
task through its real app, keeps the bytes of that task's ``getTaskInfo`` answer, and then has
the server answer every request with them from a function that does nothing else. Whatever
serves the embedded server's app (its HTTP server, threads, keep-alive) serves this one too, so
the ratio of the two answer rates is what the ODM app itself costs.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any, Callable, Iterable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    from odm_dyn.server import EmbeddedServer
    from odm_dyn.server.app import ServerApp

    server = EmbeddedServer(tokens=[args.token], task_seconds=0.0)
    with server:
        task_id, body = _one_task(server.url, args.token)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]

        def bare(self: Any, environ: dict, start_response: Callable) -> Iterable[bytes]:
            start_response("200 OK", headers)
            return [body]

        # Set on the class: the server holds the app object, and Python finds __call__ on its type.
        ServerApp.__call__ = bare  # type: ignore[method-assign]
        print(json.dumps({"url": server.url, "task": task_id}), flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
    return 0


def _one_task(url: str, token: str) -> tuple[str, bytes]:
    import urllib.request

    headers = {"Genestack-API-Token": token}
    publish = urllib.request.Request(url + "/api/v1/tasks/publish-versions", method="POST", headers=headers)
    with urllib.request.urlopen(publish, timeout=10) as answer:
        task_id = json.loads(answer.read())["id"]
    read = urllib.request.Request(url + f"/api/v1/tasks/{task_id}", headers=headers)
    with urllib.request.urlopen(read, timeout=10) as answer:
        return task_id, answer.read()


if __name__ == "__main__":
    sys.exit(main())
