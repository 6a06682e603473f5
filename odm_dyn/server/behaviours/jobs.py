"""Import jobs as ODM runs them: ``POST /jobs/import/{kind}`` reads a TSV into objects.

The file at ``metadataLink`` is read when the job starts; its outcome is settled then, but
shown only as the task clock moves: STARTING, RUNNING, then COMPLETED (or FAILED, with
``output.errors`` saying why). The objects it made stay hidden until it completes, and for
ever when it is stopped first. Only local files inside the server's ``--import-root`` are
read: any other link fails the job, never the request.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..app import Answer, Call, error
from ..objects import Job
from .context import Context, bad_ending, preferred_ending

RUNNING_FROM = 0.25  # the share of a job's time spent STARTING
MAX_IMPORT_BYTES = 50 * 1024 * 1024
ACTIVE = ("STARTING", "RUNNING")


class ImportFailure(Exception):
    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage


def status_of(job: Job, now: int) -> str:
    if job.stopped_ms is not None:
        return "STOPPED"
    if now < job.created_ms + job.duration_ms * RUNNING_FROM:
        return "STARTING"
    if now < job.created_ms + job.duration_ms:
        return "RUNNING"
    return job.outcome


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def info_of(job: Job, now: int) -> dict[str, Any]:
    status = status_of(job, now)
    info = {
        "jobExecId": job.id,
        "jobName": job.name,
        "startedBy": job.started_by,
        "status": status,
        "createTime": _iso(job.created_ms),
    }
    if status not in ACTIVE:
        info["endTime"] = _iso(job.stopped_ms if job.stopped_ms is not None else job.created_ms + job.duration_ms)
    return info


# --------------------------------------------------------------------------- reading the TSV


def local_file(link: str, root: Path | None) -> Path:
    """The file a link names, if it is a local file inside ``root``; else :class:`ImportFailure`."""
    if root is None:
        raise ImportFailure("fetch", "this server reads no links: start it with --import-root DIR")
    parsed = urlparse(link)
    if parsed.scheme not in ("", "file") or (parsed.scheme == "file" and parsed.netloc not in ("", "localhost")):
        raise ImportFailure(
            "fetch", f"{link!r} is not a local file; this server reads only files inside its import root"
        )
    raw = unquote(parsed.path) if parsed.scheme == "file" else link
    path = Path(raw) if os.path.isabs(raw) else root / raw
    real, base = path.resolve(), root.resolve()
    if real != base and base not in real.parents:
        raise ImportFailure("fetch", f"{link!r} is outside the server's import root")
    if not real.is_file():
        raise ImportFailure("fetch", f"{link!r}: no such file in the import root")
    return real


def read_rows(path: Path) -> list[dict[str, str]]:
    """The TSV's rows as header → value; :class:`ImportFailure` naming the first fault."""
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise ImportFailure("parse", f"{path.name} is larger than {MAX_IMPORT_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFailure("parse", f"{path.name} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    lines = [row for row in csv.reader(io.StringIO(text), delimiter="\t") if any(cell.strip() for cell in row)]
    if not lines:
        raise ImportFailure("parse", f"{path.name} is empty: a TSV needs a header line and rows")
    header = [h.strip() for h in lines[0]]
    if any(not h for h in header) or len(set(header)) != len(header):
        raise ImportFailure("parse", f"{path.name}: the header line needs distinct, non-empty column names")
    if len(lines) == 1:
        raise ImportFailure("parse", f"{path.name} has a header line but no rows")
    rows = []
    for number, row in enumerate(lines[1:], 2):
        if len(row) != len(header):
            raise ImportFailure(
                "parse", f"{path.name} line {number}: {len(row)} fields where the header has {len(header)}"
            )
        rows.append({h: v for h, v in zip(header, row) if v != ""})
    return rows


# --------------------------------------------------------------------------- behaviours


def import_job(call: Call, *, ctx: Context, kind: str) -> Answer:
    bad = bad_ending(call.prefer)
    if bad:
        return error(400, bad)
    body = call.body if isinstance(call.body, dict) else {}
    request = {"metadataLink": str(body.get("metadataLink", "")), "kind": kind, "ending": preferred_ending(call.prefer)}
    now = ctx.now()
    job_id = ctx.store.objects.create_job(f"Import {kind}", kind, call.user.name, now, ctx.duration_ms, request)
    _run(ctx, job_id, request, call.user.name, now)
    job = ctx.store.objects.job(job_id)
    assert job is not None
    return Answer(200, info_of(job, now))


def _run(ctx: Context, job_id: int, request: dict[str, Any], user: str, now: int) -> None:
    """Read the file and make the objects (hidden until the job completes), or record why not."""
    kind, ending = request["kind"], request.get("ending")
    objects = ctx.store.objects
    if ending:
        why = f"the job ends {ending} as the request's Prefer header asked"
        objects.finish_job(job_id, "FAILED" if ending == "FAILED" else "STOPPED", {}, [_error("prefer", why)])
        return
    try:
        rows = read_rows(local_file(request["metadataLink"], ctx.import_root))
    except ImportFailure as exc:
        objects.finish_job(job_id, "FAILED", {}, [_error(exc.stage, str(exc))])
        return
    visible = now + ctx.duration_ms

    def make(kind: str, metadata: dict[str, Any], group: str | None = None) -> str:
        return objects.create(kind, metadata, group=group, job=job_id, visible_ms=visible, author=user, now=now)

    if kind == "study":
        accessions = [make(kind, row) for row in rows]
        objects.finish_job(job_id, "COMPLETED", {"accession": accessions[0]}, [])
        return
    group = make(kind + "Group", {"genestack:name": Path(request["metadataLink"]).name})
    for row in rows:
        make(kind, row, group)
    objects.finish_job(job_id, "COMPLETED", {"groupAccession": group}, [])


def _error(stage: str, message: str) -> dict[str, Any]:
    return {"stage": stage, "stack": [{"type": "ImportError", "message": message}]}


def _job(call: Call) -> Job | Answer:
    raw = call.params.get("jobExecId")
    job = call.store.objects.job(int(str(raw))) if str(raw).isdigit() and len(str(raw)) < 19 else None
    return job if job is not None else error(404, f"there is no job {raw!r}")


def _job_in(call: Call, ctx: Context, statuses: tuple[str, ...], only: str) -> tuple[Job, int] | Answer:
    """The job and the time now, when its status now is one of ``statuses``; else a 404 or a 409."""
    job = _job(call)
    if isinstance(job, Answer):
        return job
    now = ctx.now()
    status = status_of(job, now)
    if status not in statuses:
        return error(409, f"job {job.id} is {status}: {only}")
    return job, now


def job_info(call: Call, *, ctx: Context) -> Answer:
    job = _job(call)
    return job if isinstance(job, Answer) else Answer(200, info_of(job, ctx.now()))


def job_output(call: Call, *, ctx: Context) -> Answer:
    job = _job(call)
    if isinstance(job, Answer):
        return job
    status = status_of(job, ctx.now())
    output: dict[str, Any] = {"status": status}
    if status == "COMPLETED":
        output["result"] = job.result
    elif status in ("FAILED", "STOPPED") and job.errors:
        output["errors"] = job.errors
    return Answer(200, output)


def job_stop(call: Call, *, ctx: Context) -> Answer:
    found = _job_in(call, ctx, ACTIVE, "only a STARTING or RUNNING job can be stopped")
    if isinstance(found, Answer):
        return found
    job, now = found
    ctx.store.objects.set_job_clock(job.id, job.created_ms, now)
    ctx.store.objects.hide_job(job.id, None)
    return Answer(200, info_of(ctx.store.objects.job(job.id) or job, now))


def job_restart(call: Call, *, ctx: Context) -> Answer:
    """A stopped or failed job runs again from the start, reading its file afresh."""
    found = _job_in(call, ctx, ("STOPPED", "FAILED"), "only a STOPPED or FAILED job can be restarted")
    if isinstance(found, Answer):
        return found
    job, now = found
    ctx.store.objects.set_job_clock(job.id, now, None)
    _run(ctx, job.id, {**job.request, "ending": None}, job.started_by, now)
    return Answer(200, info_of(ctx.store.objects.job(job.id) or job, now))


BEHAVIOURS = {
    "import_job": import_job,
    "job_info": job_info,
    "job_output": job_output,
    "job_stop": job_stop,
    "job_restart": job_restart,
}
