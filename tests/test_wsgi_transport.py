"""The transports: the same calls give the same results over HTTP and in-process (WsgiTransport).

Each test taking ``connect`` runs twice: against the embedded server over loopback HTTP, and
against the same server's WSGI app called in-process. Off-spec answers come from a small WSGI
app, served over HTTP by wsgiref for the HTTP run.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from pathlib import Path
from typing import Any, Callable, Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

import odm_dyn
from odm_dyn.client.retry import RetryPolicy
from odm_dyn.client.transport import Transport
from odm_dyn.client.wsgi import WsgiTransport
from odm_dyn.secrets import LogFilter
from odm_dyn.server import make_app
from odm_dyn.wire.messages import Request
from tests.conftest import CURATOR_TOKEN

FEATURES = Path(__file__).parent / "data" / "features30.yaml"
TRANSPORTS = ["http", "wsgi"]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:  # wsgiref logs every request to stderr
        pass


@pytest.fixture
def served() -> Iterator[Callable[[Any], str]]:
    """Serves a WSGI app over loopback HTTP (wsgiref); returns its URL."""
    servers = []

    def serve(app: Any) -> str:
        server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=TRANSPORTS)
def connect(request, embedded_server, served) -> Callable[..., odm_dyn.Client]:
    """``connect(app=None, **options)``: a client of ``app`` (default: the session's embedded
    server) over HTTP or in-process; ``retries`` goes to the transport in-process."""

    def make(app: Any = None, **options: Any) -> odm_dyn.Client:
        retries = options.pop("retries", None)
        if request.param == "http":
            url = embedded_server.url if app is None else served(app)
            return odm_dyn.Client(url, retries=retries, **options)
        policy = RetryPolicy() if retries is None else RetryPolicy(total=retries)
        transport = WsgiTransport(embedded_server.app if app is None else app, retries=policy)
        return odm_dyn.Client("http://testserver", transport=transport, **options)

    return make


# --------------------------------------------------------------------------- the same calls, both transports


def test_a_task_is_published_read_and_waited_for(connect):
    with connect(token=CURATOR_TOKEN) as client:
        task = client.publish_all_studies()
        assert client.get_task_info(task.id).id == task.id
        assert client.wait_for_task(task.id, timeout=10).status == "DONE"


def test_with_http_info_gives_status_headers_and_the_raw_body(connect):
    with connect(token=CURATOR_TOKEN) as client:
        task = client.publish_all_studies()
        info = client.get_task_info_with_http_info(task.id)
    assert info.status_code == 200 and info.headers["Content-Type"].startswith("application/json")
    assert json.loads(info.raw_data)["id"] == task.id == info.data.id


@pytest.mark.parametrize(
    ("token", "task_id", "error", "needle"),
    [
        (None, "GSF000001", odm_dyn.UnauthorizedException, "token"),
        (CURATOR_TOKEN, "GSF999999", odm_dyn.NotFoundException, "no task"),
    ],
)
def test_error_answers_raise_the_same_exception(connect, token, task_id, error, needle):
    with connect(token=token) as client, pytest.raises(error, match=needle) as caught:
        client.get_task_info(task_id)
    assert caught.value.status in (401, 404)


def test_a_retried_status_is_retried_by_both(connect, monkeypatch):
    monkeypatch.setattr("odm_dyn.client.retry._sleep", lambda seconds: None)
    hits: list[str] = []

    def busy(environ: dict, start_response: Any) -> list[bytes]:
        hits.append(environ["REQUEST_METHOD"])
        start_response("503 Service Unavailable", [("Content-Type", "application/json"), ("Retry-After", "0")])
        return [b'{"message": "busy"}']

    with connect(app=busy, retries=2) as client:
        with pytest.raises(odm_dyn.ServiceException) as caught:
            client.get_task_info("GSF000001")
        assert caught.value.status == 503 and hits == ["GET"] * 3
        hits.clear()
        with pytest.raises(odm_dyn.ServiceException):
            client.publish_all_studies()  # a POST: not retried unless asked
        assert hits == ["POST"]


def test_observers_see_every_exchange_redacted(connect):
    seen: list[Any] = []
    also: list[Any] = []
    with connect(token=CURATOR_TOKEN, on_exchange=[seen.append, also.append]) as client:
        client.get_task_info(client.publish_all_studies().id)
    assert [e.operation_id for e in seen] == ["publishAllStudies", "getTaskInfo"] and len(also) == 2
    assert seen[1].request_headers["Genestack-API-Token"] == "[redacted]" and seen[1].verdict == "ok"


def test_a_bad_argument_sends_nothing(connect):
    seen: list[Any] = []
    with connect(token=CURATOR_TOKEN, on_exchange=seen.append) as client:
        with pytest.raises(odm_dyn.RequestValidationError, match="nothing was sent"):
            client.get_task_info("")
    assert seen == []


def _off_spec(environ: dict, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"id": 12, "status": "DONE"}']  # id must be a string


@pytest.mark.parametrize("mode", ["strict", "warn", "off"])
def test_every_validation_mode_reads_an_off_spec_answer_alike(connect, mode, caplog):
    with connect(app=_off_spec, validate_responses=mode, retries=0) as client, caplog.at_level(logging.WARNING):
        if mode == "strict":
            with pytest.raises(odm_dyn.ResponseValidationError, match="id"):
                client.get_task_info("GSF000001")
            return
        task = client.get_task_info("GSF000001")
    assert task.status == "DONE"
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("odm_dyn")]
    assert bool(warned) == (mode == "warn")


def test_a_download_streams_to_a_file_on_both(connect, tmp_path):
    app = make_app(spec=FEATURES)
    try:
        with connect(app=app, spec=FEATURES, token=app.token) as client:
            assert client.get_blob(_stream_to=tmp_path / "blob.bin") == tmp_path / "blob.bin"
            sink = io.BytesIO()
            client.get_blob(_stream_to=sink)
    finally:
        app.store.close()
    assert (tmp_path / "blob.bin").read_bytes() == sink.getvalue() != b""


# --------------------------------------------------------------------------- the in-process transport itself


def test_an_app_that_raises_is_a_transport_error():
    def broken(environ: dict, start_response: Any) -> list[bytes]:
        raise RuntimeError("the app broke")

    client = odm_dyn.Client("http://testserver", transport=WsgiTransport(broken, retries=RetryPolicy(total=0)))
    with pytest.raises(odm_dyn.TransportError, match="RuntimeError: the app broke"):
        client.get_task_info("GSF000001")


def test_an_app_whose_body_breaks_off_is_a_transport_error():
    def broken(environ: dict, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        yield b'{"id": '
        raise OSError("the body broke off")

    client = odm_dyn.Client("http://testserver", transport=WsgiTransport(broken, retries=RetryPolicy(total=0)))
    with pytest.raises(odm_dyn.TransportError, match="OSError: the body broke off"):
        client.get_task_info("GSF000001")


def test_the_app_sees_the_target_as_sent_and_the_headers(embedded_server):
    got: dict[str, Any] = {}

    def spy(environ: dict, start_response: Any) -> Any:
        got.update(environ)
        return embedded_server.app(environ, start_response)

    client = odm_dyn.Client("http://testserver", token=CURATOR_TOKEN, transport=WsgiTransport(spy))
    with pytest.raises(odm_dyn.NotFoundException):
        client.get_task_info("a/b c")
    assert got["RAW_URI"] == "/api/v1/tasks/a%2Fb%20c" and got["PATH_INFO"] == "/api/v1/tasks/a/b c"
    assert got["HTTP_GENESTACK_API_TOKEN"] == CURATOR_TOKEN and got["REQUEST_METHOD"] == "GET"


def test_transport_settings_beside_a_transport_are_refused():
    with pytest.raises(odm_dyn.RequestTypeError, match="settings of the transport"):
        odm_dyn.Client("http://testserver", transport=WsgiTransport(_off_spec), timeout=3)


def test_make_app_makes_a_token_when_given_none():
    app = make_app()
    try:
        client = odm_dyn.Client("http://testserver", token=app.token, transport=WsgiTransport(app))
        assert client.publish_all_studies().status == "CREATED"
    finally:
        app.store.close()


# --------------------------------------------------------------------------- the Request value and observers


def test_a_request_cannot_be_changed_once_made():
    request = Request.make("get", "/x?a=1", {"Accept": "application/json"})
    assert request.method == "GET" and request.path == "/x"
    with pytest.raises(AttributeError):
        request.target = "/y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        request.headers["Accept"] = "text/plain"  # type: ignore[index]


@pytest.mark.parametrize(
    ("given", "value"),
    [(None, None), (2.5, (2.5, 2.5)), ((1, None), (1, 60.0)), ((None, 3), (10.0, 3)), ([4, 5], (4, 5))],
)
def test_a_timeout_is_checked_and_normalised_once_into_a_value(given, value):
    from odm_dyn.client.options import check_timeout
    from odm_dyn.types import DEFAULT_TIMEOUT, Timeout

    made = check_timeout(given, "timeout", None)
    assert made == value and (made is None or isinstance(made, Timeout))
    assert Timeout.of(made, DEFAULT_TIMEOUT) == (value or DEFAULT_TIMEOUT)


def test_assigning_on_exchange_adds_an_observer_and_none_removes_them():
    first, second = [].append, [].append
    client = odm_dyn.Client("http://127.0.0.1:9", on_exchange=first)
    client.on_exchange = second
    assert client.observers == [first, second] and client.on_exchange is first
    client.on_exchange = None
    assert client.observers == [] and client.on_exchange is None


# --------------------------------------------------------------------------- the log filter belongs to its transport


def _filters() -> list[LogFilter]:
    return [f for f in logging.getLogger("urllib3.connectionpool").filters if isinstance(f, LogFilter)]


def test_a_transports_log_filter_is_released_on_close():
    before = _filters()
    transport = Transport("http://127.0.0.1:9", secrets=["s3cr3t-value"])
    own = [f for f in _filters() if f not in before]
    assert len(own) == 1 and "s3cr3t-value" in own[0].forms
    transport.close()
    assert own[0] not in _filters() and own[0].forms == ()


def test_a_closed_clients_query_credential_is_no_longer_held(tmp_path):
    spec = tmp_path / "query_key.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nsecurity: [{Q: []}]\npaths: {}\n"
        "components: {securitySchemes: {Q: {type: apiKey, in: query, name: api_key}}}\n"
    )
    client = odm_dyn.Client("http://127.0.0.1:9", spec=spec, credentials={"Q": "held-k3y-value"})
    assert any("held-k3y-value" in f.forms for f in _filters())
    client.close()
    assert not any("held-k3y-value" in f.forms for f in _filters())
