"""Reading an answer's body: the whole-body deadline holds in memory and when streamed to a file."""

from __future__ import annotations

from pathlib import Path

import pytest

import odm_dyn
from tests import faults

FEATURES = Path(__file__).parent / "data" / "features30.yaml"


def test_a_trickling_download_stops_at_the_body_deadline(tmp_path):
    with faults.FaultServer(faults.trickling_body) as server:
        with odm_dyn.Client(server.url, spec=FEATURES, retries=0, timeout=5) as client:
            client.transport.body_seconds = 0.3
            with pytest.raises(odm_dyn.ApiTimeoutError, match="longer than"):
                client.get_blob(_stream_to=tmp_path / "blob.bin")
    assert not (tmp_path / "blob.bin").exists() and not (tmp_path / "blob.bin.part").exists()
