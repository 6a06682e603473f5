"""The server's answers per second from 8 client threads on kept-alive connections.

The clients are as thin as Python allows (``http.client``, one connection per thread), and run
in this process, not the server's, so that what is measured is the server; the server's own CPU
time is read from ``/proc`` to show what one answer costs it. :func:`compare` measures several
servers in interleaved rounds (the embedded server and a bare WSGI app served the same way), so
drift on the machine hits them alike.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from .server import ServerProcess

THREADS = 8


def measure(server: ServerProcess, task_id: str, seconds: float = 4.0) -> dict[str, Any]:
    parts = urlsplit(server.url)
    path = f"/api/v1/tasks/{task_id}"
    headers = {"Genestack-API-Token": server.token}
    counts = [0] * THREADS
    errors = [0] * THREADS
    stop = threading.Event()
    start = threading.Barrier(THREADS + 1)

    def worker(slot: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        start.wait()
        while not stop.is_set():
            try:
                connection.request("GET", path, headers=headers)
                answer = connection.getresponse()
                answer.read()
                if answer.status == 200:
                    counts[slot] += 1
                else:
                    errors[slot] += 1
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    cpu_before = server.cpu_seconds()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    elapsed = time.perf_counter() - began
    answers = sum(counts)
    server_cpu = server.cpu_seconds() - cpu_before
    return {
        "threads": THREADS,
        "seconds": elapsed,
        "answers": answers,
        "errors": sum(errors),
        "per_second": answers / elapsed,
        "server_cpu_ms_per_answer": server_cpu / answers * 1e3 if answers else None,
    }


def compare(servers: dict[str, tuple[ServerProcess, str]], rounds: int, seconds: float) -> dict[str, Any]:
    """Each server (with the task it reads) measured ``rounds`` times, in turn; medians of the rounds."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
    names = list(servers)
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            server, task_id = servers[name]
            runs[name].append(measure(server, task_id, seconds))
    out: dict[str, Any] = {}
    for name, measured in runs.items():
        costs = [m["server_cpu_ms_per_answer"] for m in measured if m["server_cpu_ms_per_answer"] is not None]
        out[name] = {
            "threads": THREADS,
            "rounds": rounds,
            "seconds": sum(m["seconds"] for m in measured),
            "answers": sum(m["answers"] for m in measured),
            "errors": sum(m["errors"] for m in measured),
            "per_second": statistics.median(m["per_second"] for m in measured),
            "server_cpu_ms_per_answer": statistics.median(costs) if costs else None,
        }
    return out
