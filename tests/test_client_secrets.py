"""Credentials sent in a query or a cookie never reach a log line or an exception message."""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

import odm_dyn
from odm_dyn.client.transport import _reason
from tests.scripted import Answer, ScriptedServer

TOKEN = "s3cr3t/t0ken+value"  # with characters that are percent-encoded in the query

SPEC = """\
openapi: 3.0.3
info: {title: a key in the query, version: "1"}
security: [{QueryKey: []}]
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: a thing
          content:
            application/json: {schema: {type: object}}
components:
  securitySchemes:
    QueryKey: {type: apiKey, in: query, name: api_key}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "query_key.yaml"
    path.write_text(SPEC)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_query_credential_never_reaches_urllib3s_debug_log(make_client, spec, caplog):
    with ScriptedServer() as server:
        server.answer(200, "{}")
        with make_client(server.url, spec=spec, credentials={"QueryKey": TOKEN}, retries=0) as client:
            with caplog.at_level(logging.DEBUG):
                client.get_thing("A")
        assert "api_key=" in server.received[0].target  # it was sent, in the query
    logged = caplog.text
    assert "/things/A" in logged  # urllib3's request line was logged
    assert TOKEN not in logged and "s3cr3t%2Ft0ken%2Bvalue" not in logged


def test_a_query_credential_never_reaches_an_exception_message(make_client, spec, caplog):
    url = f"http://127.0.0.1:{_free_port()}"  # nobody listens
    with make_client(url, spec=spec, credentials={"QueryKey": TOKEN}, retries=0) as client:
        with caplog.at_level(logging.DEBUG), pytest.raises(odm_dyn.ApiConnectionError) as caught:
            client.get_thing("A")
    assert "s3cr3t" not in str(caught.value) and "s3cr3t" not in caplog.text


def test_reasons_never_show_a_urls_query():
    error = ValueError("Failed to parse: http://h:1/things/A?api_key=abc123&x=1 for a reason")
    assert _reason(error) == "ValueError: Failed to parse: http://h:1/things/A for a reason"


# --------------------------------------------------------------------------- a server echoing credentials

ECHO_TOKEN = "echo-tok/3141+59"  # percent-encoded, it reads echo-tok%2F3141%2B59


def _echo_handler(status: int):
    def handle(request):
        sent = request.headers.get("Genestack-API-Token") or request.headers.get("Authorization") or ""
        body = f'{{"message": "bad token {sent} ({quote(sent, safe="")})"}}'.encode()
        return Answer(status, body, {"Content-Type": "application/json"})

    return handle


@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("how", ["token", "access_token"])
def test_an_echoed_token_never_reaches_an_api_exceptions_texts(make_client, status, how):
    with ScriptedServer() as server:
        server.handler = _echo_handler(status)
        with make_client(server.url, retries=0, **{how: ECHO_TOKEN}) as client:
            with pytest.raises(odm_dyn.ApiException) as caught:
                client.get_task_info("A")
    error = caught.value
    assert ECHO_TOKEN.encode() in error.raw_body  # the raw body is kept as received
    for text in (str(error), repr(error), error.reason or "", error.body or ""):  # the text body is scrubbed
        assert "echo-tok" not in text and "3141" not in text
    assert "[redacted]" in str(error) and f"HTTP {status}" in str(error)


def test_an_echoed_token_never_reaches_a_reason_phrase(make_client):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            token = self.headers.get("Genestack-API-Token", "")
            self.send_response(401, f"no such token {token}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with make_client(f"http://127.0.0.1:{httpd.server_address[1]}", token=ECHO_TOKEN, retries=0) as client:
            with pytest.raises(odm_dyn.UnauthorizedException) as caught:
                client.get_task_info("A")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert caught.value.reason == "no such token [redacted]" and "echo-tok" not in str(caught.value)


def test_an_echoed_token_never_reaches_a_response_validation_errors_texts(make_client, caplog):
    with ScriptedServer() as server:
        # The token comes back in the Content-Type, which the violation names.
        server.handler = lambda request: Answer(
            200, ECHO_TOKEN.encode(), {"Content-Type": "text/" + request.headers["Genestack-API-Token"]}
        )
        with make_client(server.url, token=ECHO_TOKEN, retries=0) as client:
            with pytest.raises(odm_dyn.ResponseValidationError) as caught:
                client.get_task_info("A")
        with make_client(server.url, token=ECHO_TOKEN, retries=0, validate_responses="warn") as client:
            with caplog.at_level(logging.WARNING, logger="odm_dyn"):
                client.get_task_info("A")
    error = caught.value
    assert ECHO_TOKEN.encode() in error.body
    shown = [str(error), repr(error), *error.errors, caplog.text]
    assert "[redacted]" in str(error) and not any("echo-tok" in text for text in shown)


# --------------------------------------------------------------------------- on_exchange and declared names

ODD_NAMES = """\
openapi: 3.0.3
info: {title: credentials under odd names, version: "1"}
security: [{HeaderKey: [], QuerySig: []}]
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: page, in: query, schema: {type: string}}
      responses:
        "200":
          description: a thing
          content:
            application/json: {schema: {type: object}}
components:
  securitySchemes:
    HeaderKey: {type: apiKey, in: header, name: X-Auth}
    QuerySig: {type: apiKey, in: query, name: sig}
"""


def test_on_exchange_redacts_credentials_sent_under_the_names_the_schemes_declare(make_client, tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text(ODD_NAMES)
    seen = []
    with ScriptedServer() as server:
        server.answer(200, "{}", headers={"X-Auth": "echoed-hdr-value"})
        credentials = {"HeaderKey": "hdr-value-1", "QuerySig": "sig-value-2"}
        with make_client(server.url, spec=spec, credentials=credentials, on_exchange=seen.append) as client:
            client.get_thing("A", page="3")
        assert "sig=sig-value-2" in server.received[0].target  # sent as declared
    (exchange,) = seen
    assert exchange.request_headers["X-Auth"] == "[redacted]"
    assert exchange.response_headers["X-Auth"] == "[redacted]"
    assert "sig=%5Bredacted%5D" in exchange.url or "sig=[redacted]" in exchange.url
    assert "page=3" in exchange.url and "sig-value" not in exchange.url
