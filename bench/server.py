"""The embedded ODM server in its own process, as a user would run it (``odm-dyn serve``), and
the same serving with a bare WSGI app behind it (``bench.bare_app``) for a yardstick."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Any

TOKEN = "bench-curator-token"


class ServerProcess:
    """``python -m odm_dyn serve --port 0 --db :memory:`` in a child process; a context manager.

    Its log (one line per request) goes to a temporary file, not a pipe, so a full pipe can
    never stall the server and the reading costs the benchmark nothing.
    """

    def __init__(self, token: str = TOKEN, task_seconds: float = 0.2):
        self.token = token
        self.task_seconds = task_seconds
        self.url = ""
        self._log = tempfile.NamedTemporaryFile(prefix="odm-bench-server-", suffix=".log", delete=False)
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "odm_dyn", "serve", "--port", "0", "--db", ":memory:"]
        return command + ["--token", self.token, "--task-seconds", str(self.task_seconds)]

    def __enter__(self) -> ServerProcess:
        self._process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=self._log)
        self.url = self._wait_for_url()
        return self

    def _wait_for_url(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self._log.name, encoding="utf-8", errors="replace") as handle:
                found = re.search(r"ODM server on (http://\S+)", handle.read())
            if found:
                return found.group(1)
            if self._process is not None and self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"the server did not start; its log is in {self._log.name}")

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user + system), from /proc where there is one."""
        try:
            with open(f"/proc/{self._process.pid}/stat") as handle:  # type: ignore[union-attr]
                fields = handle.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError, IndexError, ValueError):
            return float("nan")

    def __exit__(self, *exc: Any) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        os.unlink(self._log.name)


class BareServerProcess(ServerProcess):
    """The embedded server's serving with a bare WSGI app (one fixed answer); ``task_id`` is set."""

    task_id = ""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.bare_app", "--token", self.token]

    def __enter__(self) -> BareServerProcess:
        self._process = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=self._log)
        line = _first_line(self._process, timeout=30.0)
        if not line:
            self.__exit__()
            raise RuntimeError(f"the bare server did not start; its log is in {self._log.name}")
        started = json.loads(line)
        self.url, self.task_id = started["url"], started["task"]
        return self


def _first_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The child's first line of output, or ``b""`` when none comes within ``timeout``."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
        if not selector.select(timeout):
            return b""
    return process.stdout.readline() if process.stdout else b""


def publish_task(url: str, token: str = TOKEN) -> str:
    """Make one task on the server and return its id (the benchmarks then read it)."""
    import requests

    answer = requests.post(url + "/api/v1/tasks/publish-versions", headers={"Genestack-API-Token": token}, timeout=10)
    answer.raise_for_status()
    return answer.json()["id"]
