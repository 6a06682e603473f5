"""``odm-dyn demo``: the main job end to end, with no ODM instance needed.

It starts the embedded server on a free port with a throwaway database, publishes with the
client, follows the task to DONE on a live status line, prints the final TaskInfo as JSON on
stdout, and stops the server.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from ..client.client import Client
from ..errors import OdmError, TaskTimeoutError
from ..exit_codes import EXIT_OK, EXIT_TASK_FAILED, EXIT_TASK_TIMEOUT, exit_code
from ..server import EmbeddedServer
from .progress import StatusLine

DEFAULT_DEMO_TASK_SECONDS = 3.0
DEFAULT_VERSION_MESSAGE = "odm-dyn demo"


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``odm-dyn demo``."""
    parser.add_argument(
        "--task-seconds",
        type=float,
        default=DEFAULT_DEMO_TASK_SECONDS,
        metavar="S",
        help="how long the published task takes to reach DONE (default: %(default)s)",
    )
    parser.add_argument(
        "--version-message",
        default=DEFAULT_VERSION_MESSAGE,
        metavar="TEXT",
        help="name of the published versions (default: %(default)r)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="give up waiting after this (default: %(default)s)"
    )


def demo(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the demo; the exit code, as ``odm-dyn``'s table says: 0 when the task reached DONE,
    4 when it ended otherwise, 5 when it did not end in ``--timeout``, 3 when the transport failed."""
    out, err = out or sys.stdout, err or sys.stderr
    task_seconds = getattr(args, "task_seconds", DEFAULT_DEMO_TASK_SECONDS)
    message = getattr(args, "version_message", DEFAULT_VERSION_MESSAGE)
    timeout = getattr(args, "timeout", 60.0)
    with EmbeddedServer(task_seconds=task_seconds) as server:
        print(f"embedded ODM server on {server.url} (throwaway database)", file=err)
        try:
            return _publish_and_follow(server, message, timeout, out, err)
        except TaskTimeoutError as exc:
            status = getattr(exc.task, "status", None) or "unknown"
            print(
                f"odm-dyn demo: the task was still {status} after {timeout} s; wait longer with --timeout S", file=err
            )
            return EXIT_TASK_TIMEOUT
        except OdmError as exc:
            code, kind = exit_code(exc)
            print(f"odm-dyn demo: {kind}: {exc}", file=err)
            return code


def _publish_and_follow(server: EmbeddedServer, message: str, timeout: float, out: TextIO, err: TextIO) -> int:
    with Client(server.url, token=server.token) as client:
        task = client.publish_all_studies(version_message=message)
        print(f"published: task {task.id} {task.name!r}", file=err)
        with StatusLine(err) as status_line:
            done = client.wait_for_task(task.id, timeout=timeout, interval=0.25, max_interval=0.5, on_poll=status_line)
    json.dump(done.to_dict(), out, indent=2)
    out.write("\n")
    out.flush()
    if done.status == "DONE":
        return EXIT_OK
    print(f"odm-dyn demo: task {done.id} ended {done.status}", file=err)
    return EXIT_TASK_FAILED
