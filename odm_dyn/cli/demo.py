"""``odm-dyn demo``: ODM's workflow end to end, with no ODM instance needed.

It starts the embedded server on a free port with a throwaway database, serving the bundled
Tasks API and the workflow's operations (``data/spec/workflow.yaml``), and with the client:
imports a study and its samples from the TSV files shipped in ``data/demo/``, waits for both
jobs, links the sample group to the study, curates a sample, publishes the study and follows
the task to DONE on a live status line, then reads the sample as a user: the new value, and
two versions. Each step is a line on stderr; the final TaskInfo is JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ..client.client import Client
from ..errors import OdmError, TaskTimeoutError
from ..exit_codes import EXIT_OK, EXIT_TASK_FAILED, EXIT_TASK_TIMEOUT, exit_code
from ..server import EmbeddedServer
from ..spec.document import TASKS_SPEC
from .progress import StatusLine

DATA = Path(__file__).resolve().parent.parent / "data"
DEMO_FILES = DATA / "demo"
WORKFLOW_SPEC = [TASKS_SPEC, str(DATA / "spec" / "workflow.yaml")]
CURATED = {"Tissue": "kidney"}  # the demo's curation of its first sample

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
    with EmbeddedServer(spec=WORKFLOW_SPEC, task_seconds=task_seconds, import_root=DEMO_FILES) as server:
        print(f"embedded ODM server on {server.url} (throwaway database)", file=err)
        try:
            return _workflow(server, message, timeout, out, err)
        except TaskTimeoutError as exc:
            status = getattr(exc.task, "status", None) or "unknown"
            print(
                f"odm-dyn demo: the task was still {status} after {timeout} s; wait longer with --timeout S", file=err
            )
            return EXIT_TASK_TIMEOUT
        except ImportFailed as exc:
            print(f"odm-dyn demo: {exc}", file=err)
            return EXIT_TASK_FAILED
        except OdmError as exc:
            code, kind = exit_code(exc)
            print(f"odm-dyn demo: {kind}: {exc}", file=err)
            return code


def _workflow(server: EmbeddedServer, message: str, timeout: float, out: TextIO, err: TextIO) -> int:
    deadline = time.monotonic() + timeout
    with Client(server.url, token=server.token, spec=WORKFLOW_SPEC) as client:
        jobs = [
            _started(client, "startImportStudy", "study.tsv"),
            _started(client, "startImportSamples", "samples.tsv"),
        ]
        study = _imported(client, jobs[0], "study.tsv", "accession", deadline, err)
        group = _imported(client, jobs[1], "samples.tsv", "groupAccession", deadline, err)
        if study is None or group is None:
            return _too_slow(timeout, err)
        client.call("createSampleGroupStudyLinkAsCurator", source_id=group, target_id=study)
        samples = _plain(client.call("getSamplesByStudyAsCurator", id=study, page_limit=100))["data"]
        sample = samples[0]["genestack:accession"]
        print(f"linked sample group {group} ({len(samples)} samples) to study {study}", file=err)
        before = _plain(client.call("getSampleAsUser", id=sample))
        client.call("updateSampleAsCurator", id=sample, body=CURATED)
        print(f"curated sample {sample}: {_shown(before)} -> {_shown(CURATED)} (a draft until published)", file=err)
        task = _plain(client.call("publishStudyByAccessionAsCurator", id=study, version_message=message))
        print(f"published study {study}: task {task['id']} {task['name']!r}", file=err)
        left = max(deadline - time.monotonic(), 0.01)
        with StatusLine(err) as status_line:
            done = client.wait_for_task(task["id"], timeout=left, interval=0.25, max_interval=0.5, on_poll=status_line)
        if done.status == "DONE":
            after = _plain(client.call("getSampleAsUser", id=sample))
            versions = [_plain(v) for v in client.call("getSampleVersionsAsUser", id=sample)]
            print(f"as a user, sample {sample} now reads {_shown(after)}", file=err)
            print(f"its versions: {', '.join(repr(v['message']) for v in versions)}", file=err)
    json.dump(done.to_dict(), out, indent=2)
    out.write("\n")
    out.flush()
    if done.status == "DONE":
        return EXIT_OK
    print(f"odm-dyn demo: task {done.id} ended {done.status}", file=err)
    return EXIT_TASK_FAILED


class ImportFailed(Exception):
    """An import job of the demo ended otherwise than COMPLETED."""


def _started(client: Client, operation: str, file: str) -> dict[str, Any]:
    return _plain(client.call(operation, body={"metadataLink": file, "source": "LOCAL"}))


def _imported(client: Client, job: dict[str, Any], file: str, key: str, deadline: float, err: TextIO) -> str | None:
    """Wait for an import job; what it made, or ``None`` when the deadline came first."""
    while time.monotonic() < deadline:
        info = _plain(client.call("info", job_exec_id=job["jobExecId"]))
        if info["status"] not in ("STARTING", "RUNNING"):
            output = _plain(client.call("output", job_exec_id=job["jobExecId"]))
            if info["status"] != "COMPLETED":
                raise ImportFailed(f"importing {file} ended {info['status']}: {output.get('errors')}")
            print(f"imported {file}: job {job['jobExecId']} COMPLETED, {key} {output['result'][key]}", file=err)
            return str(output["result"][key])
        time.sleep(0.1)
    return None


def _too_slow(timeout: float, err: TextIO) -> int:
    print(f"odm-dyn demo: the import jobs were still running after {timeout} s; wait longer with --timeout S", file=err)
    return EXIT_TASK_TIMEOUT


def _plain(value: Any) -> Any:
    return value.to_dict() if hasattr(value, "to_dict") else value


def _shown(metadata: dict[str, Any]) -> str:
    return ", ".join(f"{k}={metadata.get(k)!r}" for k in CURATED)
