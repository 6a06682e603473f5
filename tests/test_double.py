"""The embedded server as a stateful ODM double: each behaviour, its refusals, paging ends and limits.

One server serves the vendor's odmApi.yaml for the module; each test makes its own objects
(by import or seed), so the tests do not depend on each other's order.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

VENDOR = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "genestack-openapi-v1"
ODM_API = VENDOR / "odmApi.yaml"
CURATOR, USER = "double-curator", "double-user"
SAMPLES_TSV = "Sample Source ID\tSex\tAge\nS-1\tfemale\t30\nS-2\tmale\t40\nS-3\tfemale\t50\n"
pytestmark = pytest.mark.skipif(not ODM_API.is_file(), reason="the vendor's specs are not present")
POLLS = 100


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("imports")
    (folder / "samples.tsv").write_text(SAMPLES_TSV, encoding="utf-8")
    (folder / "study.tsv").write_text("Study Source\tStudy Title\nX\tA study\n", encoding="utf-8")
    (folder / "empty.tsv").write_text("", encoding="utf-8")
    (folder / "header.tsv").write_text("A\tB\n", encoding="utf-8")
    (folder / "ragged.tsv").write_text("A\tB\n1\t2\n3\n", encoding="utf-8")
    (folder / "noname.tsv").write_text("A\t\n1\t2\n", encoding="utf-8")
    (folder.parent / "outside.tsv").write_text("A\n1\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def server(root):
    from odm_dyn.server import EmbeddedServer

    with EmbeddedServer(spec=ODM_API, tokens=[CURATOR], user_tokens=[USER], task_seconds=0.2, import_root=root) as s:
        yield s


@pytest.fixture(scope="module")
def http(server):
    session = requests.Session()

    def call(method: str, path: str, token: str = CURATOR, headers: dict | None = None, **kw) -> requests.Response:
        sent = {"Genestack-API-Token": token, **(headers or {})}
        return session.request(method, server.url + "/api/v1" + path, headers=sent, timeout=10, **kw)

    yield call
    session.close()


def wait_job(http, job_id: int) -> dict:
    for _ in range(POLLS):
        info = http("GET", f"/jobs/{job_id}/info").json()
        if info["status"] not in ("STARTING", "RUNNING"):
            return info
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end")


def wait_task(http, task_id: str) -> dict:
    for _ in range(POLLS):
        info = http("GET", f"/tasks/{task_id}").json()
        if info["status"] not in ("CREATED", "QUEUED", "RUNNING"):
            return info
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not end")


def imported(http, kind: str, link: str, headers: dict | None = None, **body: str) -> tuple[dict, dict]:
    job = http("POST", f"/jobs/import/{kind}", json={"metadataLink": link, **body}, headers=headers)
    assert job.status_code == 200, job.text
    info = wait_job(http, job.json()["jobExecId"])
    return info, http("GET", f"/jobs/{info['jobExecId']}/output").json()


@pytest.fixture
def study_with_samples(http) -> tuple[str, str, list[str]]:
    _, study = imported(http, "study", "study.tsv")
    _, samples = imported(http, "samples", "samples.tsv")
    accession, group = study["result"]["accession"], samples["result"]["groupAccession"]
    assert http("POST", f"/as-curator/integration/link/sample/group/{group}/to/study/{accession}").status_code == 204
    members = http("GET", f"/as-curator/integration/link/samples/by/study/{accession}").json()["data"]
    return accession, group, [m["genestack:accession"] for m in members]


# --------------------------------------------------------------------------- the behaviours bound


def test_at_least_200_of_the_vendors_operations_have_a_behaviour():
    from odm_dyn.api.load import load_api
    from odm_dyn.server.behaviours import bindings

    bound = bindings(load_api(ODM_API))
    assert len(bound) == 244
    assert sum(1 for b in bound.values() if b is not None) >= 200
    assert bound["getSampleAsCurator"].label() == "read(kind=sample, shape=object, view=curator)"
    assert bound["deleteData"].source == "overlay"
    assert bound["getDataTypesAsUser"].name == "constant"  # a value the overlay declares


def test_the_behaviours_command_lists_every_operation(tmp_path):
    import subprocess
    import sys

    command = [sys.executable, "-m", "odm_dyn", "behaviours", "--spec", str(ODM_API)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 244
    assert any(line.split() == ["deleteData", "delete_data", "[overlay]"] for line in lines)
    assert "of 244 operations have a behaviour" in result.stderr


def test_a_user_overlay_changes_a_behaviour_and_a_bad_one_is_refused(tmp_path):
    from odm_dyn.api.load import load_api
    from odm_dyn.errors import SpecError
    from odm_dyn.server.behaviours import bindings

    api = load_api(ODM_API)
    mine = {
        "overlay": "1.0.0",
        "info": {"title": "t", "version": "1"},
        "actions": [
            {"target": "$.paths['/api/v1/as-user/data-types'].get", "update": {"x-odm-dyn-behaviour": "generated"}},
            {"target": "$.paths['/api/v1/as-user/samples/{id}'].get", "update": {"x-odm-dyn-behaviour": "generated"}},
        ],
    }
    assert bindings(api, mine)["getSampleAsUser"] is None
    unknown = {
        **mine,
        "actions": [
            {"target": "$.paths['/api/v1/as-user/samples/{id}'].get", "update": {"x-odm-dyn-behaviour": "teleport"}}
        ],
    }
    with pytest.raises(SpecError, match="no behaviour named 'teleport'"):
        bindings(api, unknown)
    path = tmp_path / "bad.yaml"
    path.write_text("actions: []\n")
    with pytest.raises(SpecError, match="Overlay"):
        bindings(api, path)


def test_overlay_actions_update_and_remove():
    from odm_dyn.errors import SpecError
    from odm_dyn.spec.overlay import apply_overlay

    document = {"paths": {"/a": {"get": {"operationId": "a", "tags": ["x"]}, "parameters": []}}}
    overlay = {
        "overlay": "1.0.0",
        "actions": [
            {"target": "$.paths[*][?@.operationId]", "update": {"x-new": 1, "tags": ["y"]}},
            {"target": "$.paths['/a'].get.operationId", "remove": True},
        ],
    }
    result = apply_overlay(document, overlay)
    assert result["paths"]["/a"]["get"] == {"tags": ["y"], "x-new": 1}
    assert result["paths"]["/a"]["parameters"] == [] and document["paths"]["/a"]["get"]["operationId"] == "a"
    with pytest.raises(SpecError, match="neither updates nor removes"):
        apply_overlay(document, {"overlay": "1.0.0", "actions": [{"target": "$"}]})
    with pytest.raises(SpecError, match="bad JSONPath"):
        apply_overlay(document, {"overlay": "1.0.0", "actions": [{"target": "$[", "update": {}}]})


# --------------------------------------------------------------------------- reads, 404, 403


def test_unknown_accessions_are_404(http, study_with_samples):
    study, group, samples = study_with_samples
    for path in (
        "/as-curator/samples/GSF0",
        "/as-user/studies/NOPE",
        f"/as-curator/studies/{samples[0]}",
        "/as-curator/samples/NOPE/versions",
        f"/as-curator/samples/{samples[0]}/versions/99",
        "/as-curator/integration/link/samples/by/study/NOPE",
        "/jobs/999999/info",
        "/jobs/abc/output",
    ):
        answer = http("GET", path)
        assert answer.status_code in (404, 400), path  # a non-numeric job id is the spec's 400
        if answer.status_code == 404:
            assert "there is no" in answer.json()["message"] or "no version" in answer.json()["message"]
    assert http("GET", "/jobs/999999/info").status_code == 404


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/as-curator/samples"),
        ("PATCH", "/as-curator/samples/GSF1"),
        ("DELETE", "/manage-data/data?accessions=GSF1"),
        ("POST", "/tasks/publish-versions"),
        ("POST", "/as-curator/integration/studies/GSF1/tasks/publish-versions"),
        ("POST", "/as-curator/integration/link/sample/group/A/to/study/B"),
    ],
)
def test_curator_work_is_403_for_a_user(http, method, path):
    answer = http(method, path, token=USER, json={} if method == "PATCH" else None)
    assert answer.status_code == 403
    assert "ACCESS_ALL_DATA" in answer.json()["message"]


def test_scim_writes_are_403_for_a_user_with_a_scim_body_and_reads_are_allowed(http):
    answer = http(
        "POST", "/scim/Users", token=USER, json={"userName": "u", "displayName": "U", "active": True, "emails": []}
    )
    assert answer.status_code == 403
    assert answer.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert answer.json()["status"] == "403"
    assert http("GET", "/scim/Users", token=USER).status_code == 200


def test_curator_reads_drafts_user_reads_published(http, study_with_samples):
    _, _, samples = study_with_samples
    patched = http("PATCH", f"/as-curator/samples/{samples[0]}", json={"Sex": "unknown", "Age": None})
    assert patched.status_code == 200 and patched.json()["Sex"] == "unknown" and "Age" not in patched.json()
    assert http("GET", f"/as-curator/samples/{samples[0]}").json()["Sex"] == "unknown"
    assert http("GET", f"/as-user/samples/{samples[0]}", token=USER).json()["Sex"] == "female"
    assert (
        http(
            "PATCH", f"/as-curator/samples/{samples[0]}", data="[1]", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )


# --------------------------------------------------------------------------- paging


def test_offset_paging_is_truthful_and_ends(http, study_with_samples):
    study, group, samples = study_with_samples
    path = f"/as-curator/integration/link/samples/by/study/{study}"
    pages = [http("GET", path, params={"pageLimit": 2, "pageOffset": o}).json() for o in (0, 2, 4)]
    assert [p["meta"]["pagination"] for p in pages] == [
        {"total": 3, "offset": 0, "count": 2, "limit": 2},
        {"total": 3, "offset": 2, "count": 1, "limit": 2},
        {"total": 3, "offset": 4, "count": 0, "limit": 2},
    ]
    assert [row["genestack:accession"] for p in pages for row in p["data"]] == samples


@pytest.mark.parametrize("limit", [-1, 2001, 99999])
def test_page_limits_outside_0_to_2000_are_400(http, limit):
    for path in ("/as-curator/samples", "/as-curator/omics/samples"):
        answer = http("GET", path, params={"pageLimit": limit})
        assert answer.status_code == 400 and "pageLimit" in answer.json()["message"]


def test_cursor_paging_ends_with_results_exhausted(http, study_with_samples):
    _, group, samples = study_with_samples
    mine = '"Sample Source ID"="S-1" OR "Sample Source ID"="S-2" OR "Sample Source ID"="S-3"'
    cursor, rows, pages = None, [], 0
    while pages < 10:
        params = {"pageLimit": 1, "sampleFilter": mine, **({"cursor": cursor} if cursor else {})}
        answer = http("GET", "/as-curator/omics/samples", params=params).json()
        pages += 1
        rows += answer["data"]
        if answer["resultsExhausted"]:
            assert "cursor" not in answer
            break
        cursor = answer["cursor"]
    assert len(rows) >= 3 and pages == len(rows)
    assert http("GET", "/as-curator/omics/samples", params={"cursor": "not-ours"}).status_code == 400
    zero = http("GET", "/as-curator/omics/samples", params={"pageLimit": 0}).json()
    assert zero["data"] == [] and zero["resultsExhausted"] is True  # a zero limit cannot loop forever


def test_filters_and_queries(http, root):
    (root / "batch.tsv").write_text("Batch\tID\tSex\nB7\t1\tf\nB7\t2\tm\nB7\t3\tf\n", encoding="utf-8")
    imported(http, "samples", "batch.tsv")
    path = "/as-curator/samples"
    females = http("GET", path, params={"filter": '"Batch"="B7" AND "Sex"="f"'}).json()["data"]
    assert {r["ID"] for r in females} == {"1", "3"}
    either = http("GET", path, params={"filter": '"Batch"="B7" AND "ID"=3 OR "Batch"="B7" AND "ID"="2"'}).json()
    assert {r["ID"] for r in either["data"]} == {"2", "3"}
    assert len(http("GET", path, params={"query": '"Batch"="B7" AND "Sex"="m"'}).json()["data"]) == 1
    for bad in ("Sex=female", '"Sex"="female" AND', '"Sex" ~ "f"', '"Sex"="f" XOR "A"="b"'):
        answer = http("GET", path, params={"filter": bad})
        assert answer.status_code == 400 and "filter" in answer.json()["message"], bad


# --------------------------------------------------------------------------- imports


@pytest.mark.parametrize(
    "link, why",
    [
        ("http://example.org/samples.tsv", "not a local file"),
        ("s3://bucket/samples.tsv", "not a local file"),
        ("../outside.tsv", "outside the server's import root"),
        ("missing.tsv", "no such file"),
        ("empty.tsv", "is empty"),
        ("header.tsv", "no rows"),
        ("ragged.tsv", "line 3: 1 fields where the header has 2"),
        ("noname.tsv", "distinct, non-empty column names"),
    ],
)
def test_each_import_failure_ends_the_job_failed_saying_why(http, link, why):
    info, output = imported(http, "samples", link)
    assert info["status"] == "FAILED" and output["status"] == "FAILED" and "endTime" in info
    assert why in output["errors"][0]["stack"][0]["message"]
    assert "result" not in output


def test_a_server_without_an_import_root_fails_every_import():
    from odm_dyn.server import EmbeddedServer

    with EmbeddedServer(spec=ODM_API, tokens=[CURATOR], task_seconds=0) as server:
        headers = {"Genestack-API-Token": CURATOR}
        job = requests.post(
            server.url + "/api/v1/jobs/import/study", json={"metadataLink": "study.tsv"}, headers=headers, timeout=10
        ).json()
        output = requests.get(server.url + f"/api/v1/jobs/{job['jobExecId']}/output", headers=headers, timeout=10)
        assert "--import-root" in output.json()["errors"][0]["stack"][0]["message"]


def test_a_job_goes_starting_running_completed_and_its_objects_appear_only_then(http):
    job = http("POST", "/jobs/import/libraries", json={"metadataLink": "samples.tsv"}).json()
    assert job["status"] == "STARTING" and "endTime" not in job
    assert http("GET", f"/jobs/{job['jobExecId']}/output").json() == {"status": "STARTING"}
    seen = {wait_job(http, job["jobExecId"])["status"]}
    assert seen == {"COMPLETED"}
    group = http("GET", f"/jobs/{job['jobExecId']}/output").json()["result"]["groupAccession"]
    assert len(http("GET", f"/as-curator/libraries/by/group/{group}").json()["data"]) == 3
    assert http("PUT", f"/jobs/{job['jobExecId']}/stop").status_code == 409  # nothing to stop


def test_stop_hides_the_objects_and_restart_runs_the_job_again(http):
    job = http("POST", "/jobs/import/study", json={"metadataLink": "study.tsv"}).json()
    stopped = http("PUT", f"/jobs/{job['jobExecId']}/stop")
    assert stopped.status_code == 200 and stopped.json()["status"] == "STOPPED"
    time.sleep(0.3)
    output = http("GET", f"/jobs/{job['jobExecId']}/output").json()
    assert output["status"] == "STOPPED" and "result" not in output
    restarted = http("PUT", f"/jobs/{job['jobExecId']}/restart")
    assert restarted.status_code == 200 and restarted.json()["status"] == "STARTING"
    assert wait_job(http, job["jobExecId"])["status"] == "COMPLETED"
    study = http("GET", f"/jobs/{job['jobExecId']}/output").json()["result"]["accession"]
    assert http("GET", f"/as-curator/studies/{study}").status_code == 200
    assert http("PUT", f"/jobs/{job['jobExecId']}/restart").status_code == 409


@pytest.mark.parametrize("ending, status", [("FAILED", "FAILED"), ("KILLED", "STOPPED")])
def test_prefer_task_status_ends_a_job_so(http, ending, status):
    info, output = imported(http, "study", "study.tsv", headers={"Prefer": f"task-status={ending}"})
    assert info["status"] == status and "Prefer" in output["errors"][0]["stack"][0]["message"]


def test_an_unknown_prefer_task_status_is_400(http):
    answer = http(
        "POST", "/jobs/import/study", json={"metadataLink": "study.tsv"}, headers={"Prefer": "task-status=DONE"}
    )
    assert answer.status_code == 400 and "FAILED or KILLED" in answer.json()["message"]


# --------------------------------------------------------------------------- links


def test_links_link_unlink_and_by_reads_follow_them(http, study_with_samples):
    study, group, samples = study_with_samples
    assert (
        http("GET", f"/as-curator/integration/link/study/by/sample/{samples[1]}").json()["genestack:accession"] == study
    )
    assert http("GET", f"/as-curator/samples/group/by/run/{samples[1]}").status_code == 404  # samples are no runs
    assert http("POST", f"/as-curator/integration/link/sample/group/{group}/to/study/NOPE").status_code == 404
    assert http("POST", f"/as-curator/integration/link/sample/group/{samples[0]}/to/study/{study}").status_code == 404
    link = f"/as-curator/integration/link/sample/group/{group}/to/study/{study}"
    assert http("DELETE", link).status_code == 204
    assert http("DELETE", link).status_code == 404
    assert (
        http("GET", f"/as-curator/integration/link/samples/by/study/{study}").json()["meta"]["pagination"]["total"] == 0
    )
    assert http("GET", f"/as-curator/integration/link/study/by/sample/{samples[1]}").status_code == 404


def test_libraries_link_to_samples(http, root, study_with_samples):
    (root / "libraries.tsv").write_text("Library ID\tPrep\nL-1\tpolyA\nL-2\tpolyA\n", encoding="utf-8")
    _, output = imported(http, "libraries", "libraries.tsv")
    libraries = output["result"]["groupAccession"]
    _, group, samples = study_with_samples
    assert (
        http("POST", f"/as-curator/integration/link/library/group/{libraries}/to/sample/group/{group}").status_code
        == 204
    )
    found = http("GET", f"/as-curator/integration/link/library/by/sample/{samples[0]}").json()
    assert [f["Library ID"] for f in found] == ["L-1", "L-2"]  # through the groups' link
    pairs = http("GET", f"/as-curator/integration/link/library/libraries-to-samples/by/group/{libraries}").json()
    assert pairs["meta"]["pagination"]["total"] == 6  # each of 2 libraries reaches the group's 3 samples
    by = http(
        "GET", "/as-curator/integration/link/samples/by/libraries", params={"filter": '"Library ID"="L-2"'}
    ).json()
    assert by["meta"]["pagination"]["total"] == 3


# --------------------------------------------------------------------------- publishing


def test_publishing_a_study_publishes_its_drafts_as_a_named_version(http, study_with_samples):
    study, _, samples = study_with_samples
    http("PATCH", f"/as-curator/samples/{samples[2]}", json={"Age": "51"})
    assert http("POST", "/as-curator/integration/studies/NOPE/tasks/publish-versions").status_code == 404
    task = http(
        "POST", f"/as-curator/integration/studies/{study}/tasks/publish-versions", params={"versionMessage": "fix age"}
    ).json()
    assert task["name"] == "fix age" and task["status"] == "CREATED"
    assert wait_task(http, task["id"])["status"] == "DONE"
    assert http("GET", f"/as-user/samples/{samples[2]}", token=USER).json()["Age"] == "51"
    versions = http("GET", f"/as-user/samples/{samples[2]}/versions", token=USER).json()
    assert [v["message"] for v in versions] == ["Imported", "fix age"]
    assert http("GET", f"/as-user/samples/{samples[2]}/versions/1", token=USER).json()["Age"] == "50"
    assert len(http("GET", f"/as-user/samples/{samples[0]}/versions", token=USER).json()) == 1  # unchanged: no version


@pytest.mark.parametrize("ending", ["FAILED", "KILLED"])
def test_a_failed_publication_publishes_nothing(http, study_with_samples, ending):
    study, _, samples = study_with_samples
    http("PATCH", f"/as-curator/samples/{samples[0]}", json={"Sex": "other"})
    task = http(
        "POST",
        f"/as-curator/integration/studies/{study}/tasks/publish-versions",
        headers={"Prefer": f"task-status={ending}"},
    ).json()
    done = wait_task(http, task["id"])
    assert done["status"] == ending and "endedAt" in done
    assert http("GET", f"/as-user/samples/{samples[0]}", token=USER).json()["Sex"] == "female"


def test_publish_all_studies_publishes_every_draft(http, study_with_samples):
    _, _, samples = study_with_samples
    http("PATCH", f"/as-curator/samples/{samples[1]}", json={"Sex": "published-by-all"})
    task = http("POST", "/tasks/publish-versions", params={"versionMessage": "everything"}).json()
    assert wait_task(http, task["id"])["status"] == "DONE"
    assert http("GET", f"/as-user/samples/{samples[1]}", token=USER).json()["Sex"] == "published-by-all"


# --------------------------------------------------------------------------- manage data


def test_delete_data_removes_objects_and_unknown_ones_are_404(http, study_with_samples):
    study, group, samples = study_with_samples
    assert http("DELETE", "/manage-data/data", params={"accessions": "NOPE"}).status_code == 404
    assert http("DELETE", "/manage-data/data", params={"accessions": group}).status_code == 202
    assert http("GET", f"/as-curator/samples/{samples[0]}").status_code == 404
    assert http("GET", f"/as-curator/studies/{study}").status_code == 200


# --------------------------------------------------------------------------- SCIM


def test_scim_users_created_found_patched_deleted(http):
    body = {"userName": "ada", "displayName": "Ada", "active": True, "emails": [], "externalId": "x-1"}
    made = http("POST", "/scim/Users", json=body)
    assert made.status_code == 201, made.text
    user = made.json()
    assert user["id"] and user["meta"]["resourceType"] == "User"
    assert http("POST", "/scim/Users", json=body).json()["scimType"] == "uniqueness"
    found = http("GET", "/scim/Users", params={"filter": 'userName eq "ADA"'}).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user["id"]
    bad = http("GET", "/scim/Users", params={"filter": "userName == ada"})
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidFilter"
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"displayName": "Countess"}}, {"op": "remove", "path": "externalId"}],
    }
    patched = http("PATCH", f"/scim/Users/{user['id']}", json=patch)
    assert (
        patched.status_code == 200
        and patched.json()["displayName"] == "Countess"
        and "externalId" not in patched.json()
    )
    assert http("GET", f"/scim/Users/{user['id']}").json()["displayName"] == "Countess"
    assert http("DELETE", f"/scim/Users/{user['id']}").status_code == 204
    missing = http("GET", f"/scim/Users/{user['id']}")
    assert missing.status_code == 404 and missing.json()["status"] == "404"
    assert http("DELETE", f"/scim/Users/{user['id']}").status_code == 404


def test_scim_groups_created_patched_found_deleted(http):
    made = http("POST", "/scim/Groups", json={"displayName": "curators", "members": []})
    assert made.status_code == 201, made.text
    group = made.json()
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {
                "op": "add",
                "value": {"members": [{"value": "someone", "$ref": "https://odm.example.com/scim/Users/someone"}]},
            }
        ],
    }
    assert http("PATCH", f"/scim/Groups/{group['id']}", json=patch).status_code == 204
    assert http("GET", f"/scim/Groups/{group['id']}").json()["members"][0]["value"] == "someone"
    assert http("GET", "/scim/Groups", params={"filter": 'displayName sw "cur"'}).json()["totalResults"] == 1
    assert http("DELETE", f"/scim/Groups/{group['id']}").status_code == 204
    assert http("PATCH", f"/scim/Groups/{group['id']}", json=patch).status_code == 404


# --------------------------------------------------------------------------- seed data


def test_seed_data_loads_objects_versions_drafts_and_links(tmp_path):
    from odm_dyn.server import EmbeddedServer

    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "objects:\n"
        "  - {kind: study, accession: GSF2000001, metadata: {Title: one},\n"
        "     versions: [{message: two, metadata: {Title: two}}]}\n"
        "  - {kind: sampleGroup, accession: GSF2000002, metadata: {}}\n"
        "  - {kind: sample, group: GSF2000002, accession: GSF2000003, metadata: {Sex: f}, draft: {Sex: m}}\n"
        "links:\n"
        "  - [GSF2000002, GSF2000001]\n",
        encoding="utf-8",
    )
    with EmbeddedServer(spec=ODM_API, tokens=[CURATOR], data=seed) as server:

        def get(path: str) -> requests.Response:
            return requests.get(server.url + "/api/v1" + path, headers={"Genestack-API-Token": CURATOR}, timeout=10)

        assert get("/as-user/studies/GSF2000001").json()["Title"] == "two"
        assert [v["message"] for v in get("/as-user/studies/GSF2000001/versions").json()] == ["Seeded", "two"]
        assert get("/as-curator/samples/GSF2000003").json()["Sex"] == "m"
        assert get("/as-user/samples/GSF2000003").json()["Sex"] == "f"
        assert get("/as-user/integration/link/samples/by/study/GSF2000001").json()["meta"]["pagination"]["total"] == 1


def test_bad_seed_data_is_refused_naming_the_entry(tmp_path):
    from odm_dyn.server import EmbeddedServer

    seed = tmp_path / "seed.yaml"
    seed.write_text("objects:\n  - {metadata: {}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="seed object 1 needs a `kind`"):
        EmbeddedServer(spec=ODM_API, tokens=[CURATOR], data=seed)
    with pytest.raises(ValueError, match="cannot read the seed data"):
        EmbeddedServer(spec=ODM_API, tokens=[CURATOR], data=tmp_path / "missing.yaml")


# --------------------------------------------------------------------------- the demo


def test_the_demo_imports_curates_publishes_and_reads_the_new_version():
    import argparse
    import io
    import json

    from odm_dyn.cli.demo import add_demo_arguments, demo

    parser = argparse.ArgumentParser()
    add_demo_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    assert demo(parser.parse_args(["--task-seconds", "0.2", "--version-message", "v2"]), out=out, err=err) == 0
    assert json.loads(out.getvalue())["status"] == "DONE"
    log = err.getvalue()
    assert "imported study.tsv: job 1 COMPLETED" in log and "(5 samples)" in log
    assert "now reads Tissue='kidney'" in log and "its versions: 'Imported', 'v2'" in log


# --------------------------------------------------------------------------- runs, groups, reference data


def test_runs_read_their_group_and_groups_list_their_runs(http, root):
    (root / "runs.tsv").write_text("Run\tPlatform\nR-1\tRNA-seq\nR-2\tRNA-seq\n", encoding="utf-8")
    info, output = imported(http, "expression", "runs.tsv", dataLink="runs.gct")
    assert info["status"] == "COMPLETED"
    group = output["result"]["groupAccession"]
    read = http("GET", f"/as-curator/expressions/group/{group}").json()
    assert read == {"itemId": group, "metadata": {"genestack:name": "runs.tsv"}}
    runs = http("GET", f"/as-curator/expressions/runs/by/group/{group}").json()
    assert [r["Run"] for r in runs["data"]] == ["R-1", "R-2"]
    run = runs["data"][0]["genestack:accession"]
    assert http("GET", f"/as-user/expressions/group/by/run/{run}", token=USER).json()["itemId"] == group
    assert http("GET", f"/as-curator/expressions/{run}").json()["metadata"]["Platform"] == "RNA-seq"
    assert http("GET", f"/as-curator/expressions/group/{run}").status_code == 404  # a run is no group


def test_xref_sets_are_read_from_tsv_searched_and_deleted(http, root):
    (root / "xref.tsv").write_text("gene\ttranscript\nG1\tT1\nG1\tT2\nG2\tT3\n", encoding="utf-8")
    made = http("POST", "/xrefsets", json={"dataLink": "xref.tsv", "xrefSetType": "gene-transcript"})
    assert made.status_code in (200, 201), made.text
    accession = made.json()["xrefSetId"]
    assert http("GET", f"/xrefsets/{accession}/metadata").json()["xrefSetId"] == accession
    within = http("GET", f"/xrefsets/{accession}/entries", params={"sourceId": "G1"}).json()
    assert within == {"result": [{"xrefSetId": accession, "sourceId": "G1", "targetIds": ["T1", "T2"]}]}
    first = http("GET", "/xrefsets/entries", params={"targetId": "T3", "pageLimit": 1}).json()
    assert [e["sourceId"] for e in first["result"]] == ["G2"] and "cursor" not in first
    paged = http("GET", f"/xrefsets/{accession}/entries", params={"pageLimit": 1}).json()
    rest = http("GET", f"/xrefsets/{accession}/entries", params={"pageLimit": 1, "cursor": paged["cursor"]}).json()
    assert rest["result"][0]["sourceId"] == "G2" and "cursor" not in rest
    refused = http("POST", "/xrefsets", json={"dataLink": "http://x/y.tsv", "xrefSetType": "gene-transcript"})
    assert refused.status_code == 400 and "not a local file" in refused.json()["message"]
    assert http("DELETE", f"/xrefsets/{accession}").status_code == 204
    assert http("GET", f"/xrefsets/{accession}/metadata").status_code == 404
    assert http("GET", f"/xrefsets/{accession}/entries").status_code == 404


def test_a_database_made_before_task_outcomes_is_migrated(tmp_path):
    import sqlite3

    from odm_dyn.server import Store

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE tasks (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, application TEXT NOT NULL,"
            " created_by TEXT NOT NULL, created_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL)"
        )
        db.execute(
            "INSERT INTO tasks(name, application, created_by, created_ms, duration_ms) VALUES ('n', 'a', 'c', 1, 0)"
        )
    store = Store(path)
    try:
        assert store.task("GSF000001").outcome == "DONE"
    finally:
        store.close()


@pytest.mark.parametrize(
    "flag, content, said",
    [
        ("--data", "objects: [{metadata: {}}]\n", "seed object 1 needs a `kind`"),
        ("--overlay", "overlay: 1.0.0\nactions: [{target: '$'}]\n", "neither updates nor removes"),
    ],
)
def test_serve_refuses_bad_seed_data_and_overlays_with_exit_2(tmp_path, capsys, flag, content, said):
    import argparse

    from odm_dyn.exit_codes import EXIT_USAGE
    from odm_dyn.server import add_serve_arguments, serve

    given = tmp_path / "given.yaml"
    given.write_text(content, encoding="utf-8")
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args(["--port", "0", "--db", ":memory:", flag, str(given)])
    assert serve(args) == EXIT_USAGE
    assert said in capsys.readouterr().err


# --------------------------------------------------------------------------- the overlay's generic behaviours


def test_data_types_are_the_overlays_constants(http):
    kinds = http("GET", "/as-user/data-types", token=USER).json()
    assert "sample" in kinds and "study" in kinds
    pairs = http("GET", "/as-curator/data-types/links").json()
    assert {"firstType": "sample", "secondType": "study"} in pairs


def test_the_generic_links_endpoints_share_the_links(http, study_with_samples):
    study, group, samples = study_with_samples
    found = http("GET", "/as-curator/links", params={"firstId": group}).json()
    assert found["data"] == [{"firstId": group, "firstType": "sampleGroup", "secondId": study, "secondType": "study"}]
    assert http("GET", "/as-curator/links", params={"firstId": "NOPE"}).status_code == 404
    assert http("GET", "/as-curator/links", params={"firstId": group, "limit": 2001}).status_code == 400
    saved = http("POST", "/as-curator/links", json=[{"firstId": samples[0], "secondId": study}])
    assert saved.status_code in (200, 201)
    refused = http("POST", "/as-curator/links", json=[{"firstId": samples[0], "secondId": "NOPE"}])
    assert refused.status_code == 400
    batch = http("POST", "/as-curator/links/get-batch", json={"firstType": "sample", "firstIds": [samples[0]]})
    assert batch.status_code == 200, batch.text
    batch = batch.json()
    assert batch["data"][0]["secondId"] == study
    params = {"firstId": samples[0], "secondId": study}
    assert http("DELETE", "/as-curator/links", params=params).status_code == 204
    assert http("DELETE", "/as-curator/links", params=params).status_code == 404


def test_detached_objects_are_groups_linked_to_nothing(http, root):
    (root / "lonely.tsv").write_text("X\n1\n", encoding="utf-8")
    _, output = imported(http, "preparations", "lonely.tsv")
    group = output["result"]["groupAccession"]
    detached = http("GET", "/manage-data/detached-objects").json()["data"]
    assert [d["detachedObjectType"] for d in detached if d["genestack:accession"] == group] == ["PREPARATION_GROUP"]
    assert http("GET", "/manage-data/detached-objects", token=USER).status_code == 403


def test_full_text_study_search_and_the_validation_summary(http, root, study_with_samples):
    study, group, _ = study_with_samples
    (root / "unique.tsv").write_text("Study Source\tStudy Title\nZ\tZebrafish fins 4711\n", encoding="utf-8")
    _, output = imported(http, "study", "unique.tsv")
    body = {"filters": [{"type": "FULL_TEXT", "match": "zebrafish FINS"}], "page": {"offset": 0, "limit": 10}}
    found = http("POST", "/as-user/integration/fulltext/search/studies", token=USER, json=body).json()
    assert found["objectsPage"]["filteredCount"] == 1
    assert found["objectsPage"]["content"][0]["accession"] == output["result"]["accession"]
    select = {"filters": [{"type": "SELECT", "filterOptionId": "x"}]}
    assert http("POST", "/as-curator/integration/fulltext/search/studies", json=select).status_code == 400
    summary = http("GET", f"/as-curator/integration/studies/{study}/validation-summary").json()
    assert summary == {"samples": [{"groupAccession": group, "attributes": []}]}
    assert http("GET", "/as-curator/integration/studies/NOPE/validation-summary").status_code == 404


def test_streamed_data_is_the_groups_runs_as_csv(http, root):
    (root / "variants.tsv").write_text("Run\tCaller\nV-1\tgatk\nV-2\tgatk\n", encoding="utf-8")
    _, output = imported(http, "variant", "variants.tsv", dataLink="variants.vcf")
    group = output["result"]["groupAccession"]
    answer = http("GET", "/as-user/omics/variant/streamed-data", token=USER, params={"groupAccession": group})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/tab-separated-values")
    lines = answer.text.splitlines()
    assert lines[0] == "genestack:accession\tCaller\tRun" and [line.split("\t")[2] for line in lines[1:]] == [
        "V-1",
        "V-2",
    ]
    missing = http("GET", "/as-curator/omics/variant/streamed-data", params={"groupAccession": "NOPE"})
    assert missing.status_code == 404


def test_reference_genomes_are_uploaded_read_and_searched(http):
    body = {
        "name": "Test genome R9",
        "species": "Danio_rerio",
        "assembly": "GRCz11",
        "release": "9",
        "annotationUrl": "https://example.org/a.gtf",
    }
    made = http("POST", "/reference-genomes", json=body)
    assert made.status_code == 201, made.text
    accession = made.json()["genestack:accession"]
    read = http("GET", f"/reference-genomes/{accession}", token=USER).json()
    assert read["genestack:accession"] == accession and read["assembly"] == "GRCz11"
    found = http("GET", "/reference-genomes", token=USER, params={"filter": '"assembly"="GRCz11"'})
    assert found.status_code == 200 and found.json()["meta"]["pagination"]["total"] >= 1
    assert http("GET", "/reference-genomes/NOPE").status_code == 404


def test_a_stopped_imports_objects_never_appear_and_a_restart_shows_them(http, root):
    (root / "stopped.tsv").write_text("Batch\tID\nSTOP-9\t1\n", encoding="utf-8")
    job = http("POST", "/jobs/import/samples", json={"metadataLink": "stopped.tsv"}).json()
    assert http("PUT", f"/jobs/{job['jobExecId']}/stop").status_code == 200
    time.sleep(0.3)  # past the job's time: had it not been stopped, its sample would show now
    mine = {"filter": '"Batch"="STOP-9"'}
    assert http("GET", "/as-curator/samples", params=mine).json()["meta"]["pagination"]["total"] == 0
    http("PUT", f"/jobs/{job['jobExecId']}/restart")
    assert wait_job(http, job["jobExecId"])["status"] == "COMPLETED"
    assert http("GET", "/as-curator/samples", params=mine).json()["meta"]["pagination"]["total"] == 1


# --------------------------------------------------------------------------- every answer fits the spec

SWEEP_SEED = {
    "objects": [
        {"kind": "study", "accession": "GSF3000001", "metadata": {"Study Title": "sweep"}},
        *[
            entry
            for n, kind in enumerate(["sample", "library", "preparation", "expression", "variant", "flowCytometry"])
            for entry in (
                {"kind": kind + "Group", "accession": f"GSF30001{n}0", "metadata": {"genestack:name": kind}},
                {
                    "kind": kind,
                    "group": f"GSF30001{n}0",
                    "accession": f"GSF30001{n}1",
                    "metadata": {"ID": "a"},
                    "versions": [{"message": "two", "metadata": {"ID": "b"}}],
                    "draft": {"ID": "c"},
                },
            )
        ],
    ],
    "links": [["GSF3000100", "GSF3000001"], *[[f"GSF30001{n}0", "GSF3000100"] for n in range(1, 6)]],
}


def test_every_read_answers_within_the_spec_for_every_object():
    """Each GET with a behaviour, for each seeded object as its id: a 200 the spec allows (the server
    turns an answer that breaks the spec into a 500), or a 400/404; never a 500."""
    from odm_dyn.server import EmbeddedServer
    from odm_dyn.server.behaviours import bindings

    with EmbeddedServer(spec=ODM_API, tokens=[CURATOR], data=SWEEP_SEED) as server:
        session = requests.Session()
        session.headers["Genestack-API-Token"] = CURATOR
        accessions = [o["accession"] for o in SWEEP_SEED["objects"]]
        statuses: dict[int, int] = {}
        for op_id, binding in bindings(server.api).items():
            plan = server.api.plans[op_id]
            if binding is None or plan.op.method.lower() != "get":
                continue
            for accession in accessions:
                path = plan.op.path.replace("{id}", accession).replace("{version}", "2")
                if "{" in path:
                    continue
                params = {p.name: accession for p in plan.op.parameters if p.required and p.location == "query"}
                answer = session.get(server.url + path, params=params, timeout=10)
                assert answer.status_code != 500, (op_id, accession, answer.text)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        session.close()
    assert statuses.get(200, 0) > 300 and set(statuses) <= {200, 400, 404}, statuses


def test_seed_data_with_a_taken_accession_is_a_value_error_naming_the_entry():
    from odm_dyn.server import EmbeddedServer

    seed = {"objects": [{"kind": "study", "accession": "GSF1"}, {"kind": "sample", "accession": "GSF1"}]}
    with pytest.raises(ValueError, match="seed object 2: the accession 'GSF1' is taken already"):
        EmbeddedServer(data=seed)
