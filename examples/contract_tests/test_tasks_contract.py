"""Contract tests for the ODM Tasks API: copy this file and run it against your server.

    pytest examples/contract_tests                                   # the embedded server
    pytest examples/contract_tests --odm-url https://odm.example.com --odm-token "$ODM_TOKEN" \
        --odm-report contract-report                                 # yours, with a report

The fixtures come from odm_dyn's pytest plugin (installed with the package):
``odm_client`` validates every request and answer against the spec, strictly, and records
them for the contract report; ``odm_server`` is a fresh embedded server per test unless
``--odm-url`` names a real one. Tests marked ``odm_embedded`` drive the embedded server's
``Prefer: code=NNN`` header to get each declared error status; they are skipped against a
real server, which ignores that header. The embedded server honours ``Prefer`` only on an
authenticated request: with no or a bad token the answer is a 401, as on a real server.
"""

from __future__ import annotations

import uuid

import pytest

import odm_dyn

TERMINAL = {"DONE", "FAILED", "BLOCKED_BY_DEPENDENCY_FAILURE", "KILLED"}
TASK_TIMEOUT = 600  # seconds: a real server's publishing can take minutes

# Every error status the Tasks API declares, and the exception odm_dyn raises for it.
ERROR_STATUSES = [
    ("getTaskInfo", 401, odm_dyn.UnauthorizedException),
    ("getTaskInfo", 404, odm_dyn.NotFoundException),
    ("getTaskInfo", 500, odm_dyn.ServiceException),
    ("publishAllStudies", 401, odm_dyn.UnauthorizedException),
    ("publishAllStudies", 403, odm_dyn.ForbiddenException),
    ("publishAllStudies", 500, odm_dyn.ServiceException),
]
ARGUMENTS = {"getTaskInfo": ("GSF000123",), "publishAllStudies": ()}


# --------------------------------------------------------------------------- flows on any server


def test_publish_then_poll_to_done(odm_client):
    """publishAllStudies starts a task; getTaskInfo follows it to DONE. Every answer is checked."""
    task = odm_client.publish_all_studies(version_message=f"contract test {uuid.uuid4().hex[:8]}")
    assert task.id, "the publishing task has no id"
    assert task.status in {"CREATED", "QUEUEING", "QUEUED", "STARTING", "RUNNING"} | TERMINAL

    done = odm_client.wait_for_task(task.id, timeout=TASK_TIMEOUT)

    assert done.status == "DONE"
    assert done.id == task.id
    again = odm_client.get_task_info(task.id)
    assert again.status == "DONE"
    if again.started_at is not None and again.ended_at is not None:
        assert again.started_at <= again.ended_at


def test_unknown_task_is_404(odm_client):
    with pytest.raises(odm_dyn.NotFoundException):
        odm_client.get_task_info(f"GSF-no-such-task-{uuid.uuid4().hex[:8]}")


@pytest.mark.odm_expect(401)  # the 401 is the point: the plugin's credentials guard stands down
def test_wrong_token_is_401(odm_client_factory):
    stranger = odm_client_factory(token="not-a-valid-token", access_token=None)
    with pytest.raises(odm_dyn.UnauthorizedException):
        stranger.get_task_info("GSF000123")


def test_no_token_is_401(odm_client_factory):
    anonymous = odm_client_factory(token=None, access_token=None)
    with anonymous.expect_status(401), pytest.raises(odm_dyn.UnauthorizedException):
        anonymous.publish_all_studies()


def test_publish_without_access_all_data_is_403(odm_server, odm_client_factory):
    if odm_server.user_token is None:
        pytest.skip("needs a token without ACCESS_ALL_DATA: --odm-user-token T (or ODM_USER_TOKEN) on a real server")
    user = odm_client_factory(token=odm_server.user_token)
    with pytest.raises(odm_dyn.ForbiddenException):
        user.publish_all_studies()


# --------------------------------------------------------------------------- each declared error status


@pytest.mark.odm_embedded
@pytest.mark.parametrize(("operation", "status", "exception"), ERROR_STATUSES)
def test_declared_error_status(odm_client, operation, status, exception):
    """The embedded server answers any declared status on request: the client must map it."""
    with odm_client.expect_status(status), pytest.raises(exception) as raised:
        odm_client.call(operation, *ARGUMENTS[operation], _headers={"Prefer": f"code={status}"})
    assert raised.value.status == status


@pytest.mark.odm_embedded
@pytest.mark.odm_expect(401)
def test_prefer_does_not_bypass_authentication(odm_client_factory):
    """A wrong token gets its 401 even when it prefers another status: a suite whose credentials
    fail cannot pass on answers it asked for."""
    stranger = odm_client_factory(token="not-a-valid-token", access_token=None)
    with pytest.raises(odm_dyn.UnauthorizedException):
        stranger.get_task_info("GSF000123", _headers={"Prefer": "code=200"})
