"""Issue 15: the Job API's jobs waited for (a scripted server: the embedded one has no job
behaviour), in Python and with ``--wait`` on the command line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import odm_dyn
from tests.scripted import Answer, Received, ScriptedServer

JOBS_SPEC = str(Path(__file__).parent / "data" / "jobs.yaml")
VENDOR_JOB_SPEC = Path(__file__).resolve().parents[1] / ".." / "shared" / "vendor" / "genestack-openapi-v1" / "job.yaml"
INFO = {"jobExecId": 7, "jobName": "Import samples", "startedBy": "curator@example.com", "status": "RUNNING"}
INFO["createTime"] = "2026-01-02T03:04:05+00:00"  # the vendor's Info requires it
TOKEN = "job-token-5e1f"
ERRORS = [{"stage": "parse", "stack": [{"type": "ParseError", "message": "line 3: bad column"}]}]


def job_server(statuses: list[str], output: dict) -> ScriptedServer:
    """Answers the start call and ``info`` with the given statuses in turn, ``output`` after."""
    server = ScriptedServer()
    queue = list(statuses)

    def handle(request: Received) -> Answer:
        if request.target.endswith("/output"):
            return Answer(200, json.dumps(output).encode())
        status = queue.pop(0) if len(queue) > 1 else queue[0]
        return Answer(200, json.dumps({**INFO, "status": status}).encode())

    server.handler = handle
    return server


@pytest.fixture
def no_sleep(poll_pauses):
    return poll_pauses


@pytest.fixture
def client_of(make_client):
    """``client_of(server, **options)``: Client, then AsyncClient; the tests taking it run for both."""

    def make(server: ScriptedServer, **options):
        return make_client(server.url, token=TOKEN, spec=JOBS_SPEC, **options)

    return make


def test_a_job_waited_for_to_completed_returns_its_output(no_sleep, client_of):
    with job_server(
        ["STARTING", "RUNNING", "COMPLETED"], {"status": "COMPLETED", "result": {"group": "GSF1"}}
    ) as server:
        with client_of(server) as client:
            job = client.start_import_samples(body={"metadataLink": "https://example.org/s.tsv"})
            output = client.wait_for_job(job, timeout=60)  # the Info itself, or its jobExecId
    assert output.status == "COMPLETED" and output.result == {"group": "GSF1"}
    targets = [r.target for r in server.received]
    assert targets[-1] == "/api/v1/jobs/7/output" and targets.count("/api/v1/jobs/7/output") == 1


def test_a_failed_job_raises_job_failed_error_with_the_outputs_errors(no_sleep, client_of):
    with (
        job_server(["RUNNING", "FAILED"], {"status": "FAILED", "errors": ERRORS}) as server,
        client_of(server) as client,
    ):
        with pytest.raises(odm_dyn.JobFailedError) as caught:
            client.wait_for_job(7, timeout=60)
    error = caught.value
    assert isinstance(error, odm_dyn.OdmError) and error.status == "FAILED" and error.job.job_exec_id == 7
    assert error.errors == ERRORS and error.output.status == "FAILED"
    assert "job 7 ended FAILED: parse: ParseError: line 3: bad column" in str(error)


@pytest.mark.parametrize("status", ["STOPPED", "ABANDONED"])
def test_stopped_and_abandoned_jobs_are_failures_too(no_sleep, status, client_of):
    with job_server([status], {"status": status}) as server, client_of(server) as client:
        with pytest.raises(odm_dyn.JobFailedError, match=f"ended {status}"):
            client.wait_for_job(7)
        output = client.wait_for_job(7, raise_on_failure=False)
    assert output.status == status


def test_wait_for_jobs_yields_each_id_with_its_output(no_sleep, client_of):
    with job_server(["COMPLETED"], {"status": "COMPLETED", "result": {}}) as server, client_of(server) as client:
        finished = dict(client.wait_for_jobs([7, 8]))  # as each finishes: AsyncClient's two polls race
        assert sorted(finished) == [7, 8] and all(output is not None for output in finished.values())


def test_a_job_timeout_names_the_command_that_resumes_the_wait(no_sleep, patient_polls, client_of):
    with job_server(["RUNNING"], {}) as server, client_of(server) as client:
        with pytest.raises(odm_dyn.JobTimeoutError) as caught:
            client.wait_for_job(7, timeout=0)
    assert caught.value.job.status == "RUNNING"
    assert "wait_for_job(7, timeout=...)" in str(caught.value)
    assert "`odm-dyn job-operations info 7 --wait`" in str(caught.value)


def test_the_vendor_job_example_status_is_accepted_with_a_warning(caplog, no_sleep, client_of, monkeypatch):
    """The vendor's own Info example says STARTED, a status its enum does not list."""
    monkeypatch.setattr("odm_dyn.client.response._warned_enums", set())  # warned about once a process
    with job_server(["STARTED", "COMPLETED"], {"status": "COMPLETED"}) as server, client_of(server) as client:
        with caplog.at_level(logging.WARNING, "odm_dyn"):
            assert client.wait_for_job(7).status == "COMPLETED"
    assert any("'STARTED'" in r.getMessage() for r in caplog.records)
    with job_server(["STARTED"], {}) as server, client_of(server, unknown_enums="strict") as client:
        with pytest.raises(odm_dyn.ResponseValidationError, match="enum"):
            client.wait_for_job(7)


@pytest.mark.skipif(not VENDOR_JOB_SPEC.exists(), reason="the vendor's spec files are not here")
def test_the_vendors_job_api_is_waited_for_by_its_operation_ids(no_sleep):
    with job_server(["COMPLETED"], {"status": "COMPLETED", "result": {}}) as server:
        with odm_dyn.Client(server.url, token=TOKEN, spec=str(VENDOR_JOB_SPEC)) as client:
            assert client.wait_for_job(12345).status == "COMPLETED"


# --------------------------------------------------------------------------- the command line


def odm(server: ScriptedServer, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "odm_dyn", "--spec", JOBS_SPEC, "--host", server.url, "--token", TOKEN, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ.copy())


def test_cli_wait_on_a_job_prints_its_output_and_exits_0():
    with job_server(["RUNNING", "COMPLETED"], {"status": "COMPLETED", "result": {"group": "GSF1"}}) as server:
        result = odm(server, "data-import-jobs", "start-import-samples", "--body", "{}", "--wait")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "COMPLETED", "result": {"group": "GSF1"}}
    assert "job 7: RUNNING" in result.stderr  # the status line, as for tasks


def test_cli_wait_on_a_failed_job_exits_4_naming_its_errors():
    with job_server(["FAILED"], {"status": "FAILED", "errors": ERRORS}) as server:
        result = odm(server, "job-operations", "info", "7", "--wait")
    assert result.returncode == 4
    assert json.loads(result.stdout)["errors"] == ERRORS
    assert "job 7 ended FAILED: parse: ParseError: line 3: bad column" in result.stderr


def test_cli_wait_on_a_job_timeout_exits_5_with_the_resume_command():
    with job_server(["RUNNING"], {}) as server:
        result = odm(server, "data-import-jobs", "start-import-samples", "--wait", "--timeout", "0.3")
    assert result.returncode == 5
    assert json.loads(result.stdout)["status"] == "RUNNING"
    assert "may still be running" in result.stderr
    assert "job-operations info 7 --wait --timeout SECONDS" in result.stderr


def test_cli_offers_wait_only_where_an_answer_names_a_job():
    with ScriptedServer() as server:
        result = odm(server, "job-operations", "output", "7", "--wait")
    assert result.returncode == 2 and "--wait" in result.stderr
    assert server.received == []
