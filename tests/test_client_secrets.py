"""Credentials sent in a query or a cookie never reach a log line or an exception message."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

import odm_dyn
from odm_dyn.transport import _reason
from tests.scripted import ScriptedServer

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


def test_a_query_credential_never_reaches_urllib3s_debug_log(spec, caplog):
    with ScriptedServer() as server:
        server.answer(200, "{}")
        with odm_dyn.Client(server.url, spec=spec, credentials={"QueryKey": TOKEN}, retries=0) as client:
            with caplog.at_level(logging.DEBUG):
                client.get_thing("A")
        assert "api_key=" in server.received[0].target  # it was sent, in the query
    logged = caplog.text
    assert "/things/A" in logged  # urllib3's request line was logged
    assert TOKEN not in logged and "s3cr3t%2Ft0ken%2Bvalue" not in logged


def test_a_query_credential_never_reaches_an_exception_message(spec, caplog):
    url = f"http://127.0.0.1:{_free_port()}"  # nobody listens
    with odm_dyn.Client(url, spec=spec, credentials={"QueryKey": TOKEN}, retries=0) as client:
        with caplog.at_level(logging.DEBUG), pytest.raises(odm_dyn.ApiConnectionError) as caught:
            client.get_thing("A")
    assert "s3cr3t" not in str(caught.value) and "s3cr3t" not in caplog.text


def test_reasons_never_show_a_urls_query():
    error = ValueError("Failed to parse: http://h:1/things/A?api_key=abc123&x=1 for a reason")
    assert _reason(error) == "Failed to parse: http://h:1/things/A for a reason"
