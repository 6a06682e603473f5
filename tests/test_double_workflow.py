"""ODM's workflow on the embedded server, driven by the vendor's own generated client (odm-api).

Import a study and its samples from TSV files, wait for the jobs, link the sample group to the
study, page through the samples to the end in both paging styles, patch a sample, see that a
user still reads the published value, publish the study, wait for the task, and read the new
value and both versions. Nothing of odm_dyn's client is used: only its server.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

odm_api = pytest.importorskip("odm_api")

VENDOR = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "genestack-openapi-v1"
ODM_API = VENDOR / "odmApi.yaml"
DEMO = Path(__file__).resolve().parents[1] / "odm_dyn" / "data" / "demo"
CURATOR, USER = "workflow-curator", "workflow-user"
pytestmark = pytest.mark.skipif(not ODM_API.is_file(), reason="the vendor's specs are not present")
POLLS = 200  # bounded waits: at most this many polls, 0.05 s apart


@pytest.fixture(scope="module")
def server():
    from odm_dyn.server import EmbeddedServer

    with EmbeddedServer(
        spec=ODM_API, tokens=[CURATOR], user_tokens=[USER], task_seconds=0.3, import_root=DEMO
    ) as server:
        yield server


def client(server, token: str):
    configuration = odm_api.Configuration(host=server.url)
    configuration.api_key["Genestack-API-Token"] = token
    return odm_api.ApiClient(configuration)


def wait_for(read, done) -> object:
    for _ in range(POLLS):
        value = read()
        if done(value):
            return value
        time.sleep(0.05)
    raise AssertionError(f"still not done after {POLLS} polls: {value}")


def test_import_curate_publish_read_through_the_vendors_client(server):
    curator, user = client(server, CURATOR), client(server, USER)
    jobs = odm_api.DataImportJobsApi(curator)
    job_ops = odm_api.JobOperationsApi(curator)
    request = odm_api.ImportMetadataRequest

    study_job = jobs.start_import_study(body=request(metadata_link="study.tsv", source="LOCAL"))
    samples_job = jobs.start_import_samples(body=request(metadata_link="samples.tsv", source="LOCAL"))
    assert study_job.status == "STARTING" and samples_job.status == "STARTING"
    for job in (study_job, samples_job):
        finished = wait_for(lambda job=job: job_ops.info(job.job_exec_id), lambda i: i.status == "COMPLETED")
        assert finished.end_time is not None
    study = job_ops.output(study_job.job_exec_id).result["accession"]
    group = job_ops.output(samples_job.job_exec_id).result["groupAccession"]

    odm_api.SampleIntegrationAsCuratorApi(curator).create_sample_group_study_link_as_curator(group, study)

    # Offset paging, two at a time, to the end: 5 samples in pages of 2, 2 and 1.
    by_study = odm_api.SampleIntegrationAsCuratorApi(curator).get_samples_by_study_as_curator
    offset, seen, pages = 0, [], 0
    while True:
        page = by_study(study, page_limit=2, page_offset=offset)
        pages += 1
        assert page.meta.pagination.total == 5 and page.meta.pagination.offset == offset
        seen += page.data
        offset += page.meta.pagination.count
        if offset >= page.meta.pagination.total:
            break
    assert pages == 3 and len(seen) == 5

    # Cursor paging to the end: resultsExhausted and no further cursor.
    omics = odm_api.OmicsQueriesAsCuratorApi(curator)
    cursor, rows, pages = None, [], 0
    while True:
        answer = omics.omics_search_samples_as_curator(page_limit=2, cursor=cursor)
        pages += 1
        rows += answer.data
        if answer.results_exhausted:
            assert answer.cursor is None
            break
        cursor = answer.cursor
    assert pages == 3 and [r["Sample Source ID"] for r in rows] == [s["Sample Source ID"] for s in seen]

    sample = seen[0]["genestack:accession"]
    odm_api.SampleSPoTAsCuratorApi(curator).update_sample_as_curator(sample, body={"Tissue": "kidney"})
    as_user = odm_api.SampleSPoTAsUserApi(user)
    assert as_user.get_sample_as_user(sample)["Tissue"] == "liver"  # the draft is the curator's alone

    task = odm_api.MetadataVersioningAsCuratorApi(curator).publish_study_by_accession_as_curator(
        study, version_message="curated tissue"
    )
    tasks = odm_api.TasksAPIApi(user)
    done = wait_for(lambda: tasks.get_task_info(task.id), lambda t: t.status not in ("CREATED", "QUEUED", "RUNNING"))
    assert done.status == "DONE"

    assert as_user.get_sample_as_user(sample)["Tissue"] == "kidney"
    versions = as_user.get_sample_versions_as_user(sample)
    assert [v.message for v in versions] == ["Imported", "curated tissue"]
    assert as_user.get_sample_by_version_as_user(sample, versions[0].version)["Tissue"] == "liver"
