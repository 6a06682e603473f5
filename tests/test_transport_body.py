"""Reading an answer's body: the whole-body deadline holds in memory and when streamed to a file;
a small body read in one piece is still decoded and capped."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from pathlib import Path

import pytest

import odm_dyn
from tests import faults
from tests.scripted import ScriptedServer

FEATURES = Path(__file__).parent / "data" / "features30.yaml"


def test_a_trickling_download_stops_at_the_body_deadline(tmp_path):
    with faults.FaultServer(faults.trickling_body) as server:
        with odm_dyn.Client(server.url, spec=FEATURES, retries=0, timeout=5) as client:
            client.transport.body_seconds = 0.3
            with pytest.raises(odm_dyn.ApiTimeoutError, match="longer than"):
                client.get_blob(_stream_to=tmp_path / "blob.bin")
    assert not (tmp_path / "blob.bin").exists() and not (tmp_path / "blob.bin.part").exists()


# --------------------------------------------------------------------------- small bodies in one read (issue 19)

TASK = {"id": "GSF000001", "name": "n", "status": "DONE", "application": "a", "startedAt": 1, "createdBy": "c"}


def test_a_small_compressed_answer_is_decoded():
    """A small body is read in one read only when sent as it is; a gzip one is still decoded."""
    with ScriptedServer() as server:
        server.answer(200, gzip.compress(json.dumps(TASK).encode()), headers={"Content-Encoding": "gzip"})
        with odm_dyn.Client(server.url, retries=0) as client:
            assert client.get_task_info("GSF000001").id == "GSF000001"


_ZEROS = zlib.compress(b"\0" * (16 << 20), 9)  # 16 MiB of zeros in a few kilobytes: one small read


_deflated_zeros = faults.deflated("application/json", _ZEROS)


def test_a_small_compressed_answer_is_capped_by_its_decoded_size_without_inflating_it_whole():
    with faults.FaultServer(_deflated_zeros) as server:
        with odm_dyn.Client(server.url, retries=0) as client:
            client.transport.max_response_bytes = 1 << 20
            tracemalloc.start()
            try:
                with pytest.raises(odm_dyn.TransportError, match=f"larger than {1 << 20} bytes"):
                    client.get_task_info("GSF000001")
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert peak < 8 << 20, f"{peak} bytes held at once: the 16 MiB were inflated in one piece"


def test_a_small_answer_over_the_cap_is_refused():
    with ScriptedServer() as server:
        server.default.body = json.dumps({**TASK, "name": "x" * 500}).encode()
        with odm_dyn.Client(server.url, retries=0) as client:
            client.transport.max_response_bytes = 100
            with pytest.raises(odm_dyn.TransportError, match="larger than 100 bytes"):
                client.get_task_info("GSF000001")
            client.transport.max_response_bytes = 1000
            assert client.get_task_info("GSF000001").name == "x" * 500  # the refused answer broke nothing
