"""Issue 15: paged lists followed to the end, in both styles, against a scripted server (the
embedded server's own paging is another issue's), and ``--all`` on the command line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import odm_dyn
from odm_dyn.client.paging import PageState, Paging, advance, paging_of
from tests.scripted import Answer, Received, ScriptedServer

PAGING_SPEC = str(Path(__file__).parent / "data" / "paging.yaml")
VENDOR_API = Path(__file__).resolve().parents[1] / ".." / "shared" / "vendor" / "genestack-openapi-v1" / "odmApi.yaml"
TOKEN = "paging-token-4b2a"
ITEMS = [{"n": i} for i in range(23)]


def lists(request: Received, items: list = ITEMS, default_size: int = 10) -> Answer:
    """The three paged operations of tests/data/paging.yaml, over ``items``."""
    url = urlsplit(request.target)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    if url.path == "/api/v1/samples":
        offset, size = int(query.get("pageOffset", 0)), int(query.get("pageLimit", default_size))
        page = items[offset : offset + size]
        pagination = {"total": len(items), "offset": offset, "count": len(page), "limit": size}
        body: dict = {"meta": {"pagination": pagination}, "data": page}
    elif url.path == "/api/v1/expressions":
        start, size = int(query.get("cursor", 0)), int(query.get("pageLimit", default_size))
        end = start + size
        body = {"data": items[start:end], "cursor": str(end), "resultsExhausted": end >= len(items)}
    else:  # /api/v1/things: x-odm-dyn-pagination names start, size, results, paging.total
        start, size = int(query.get("start", 0)), int(query.get("size", default_size))
        body = {"results": items[start : start + size], "paging": {"total": len(items)}}
    return Answer(200, json.dumps(body).encode())


@pytest.fixture
def server():
    with ScriptedServer() as scripted:
        scripted.handler = lists
        yield scripted


@pytest.fixture
def client(server, make_client):
    """Client, then AsyncClient (``async for`` behind tests.both): every test below runs for both."""
    with make_client(server.url, token=TOKEN, spec=PAGING_SPEC) as client:
        yield client


def queries(server: ScriptedServer) -> list[dict[str, str]]:
    return [{k: v[0] for k, v in parse_qs(urlsplit(r.target).query).items()} for r in server.received]


# --------------------------------------------------------------------------- to the end


def test_offset_pages_followed_to_the_end(client, server):
    assert list(client.paginate(client.search_samples, page_size=5, filter="x")) == ITEMS
    assert queries(server) == [
        {"filter": "x", "pageLimit": "5"},
        {"filter": "x", "pageLimit": "5", "pageOffset": "5"},
        {"filter": "x", "pageLimit": "5", "pageOffset": "10"},
        {"filter": "x", "pageLimit": "5", "pageOffset": "15"},
        {"filter": "x", "pageLimit": "5", "pageOffset": "20"},
    ]  # the total (23) is reached on the fifth page: no sixth request


def test_cursor_pages_followed_to_the_end(client, server):
    assert list(client.paginate("searchExpressions", page_size=10)) == ITEMS
    assert [q.get("cursor") for q in queries(server)] == [None, "10", "20"]  # resultsExhausted on the third


def test_a_declared_paging_with_other_names_is_followed(client, server):
    assert list(client.paginate(client.list_things, page_size=4)) == ITEMS
    assert queries(server)[1] == {"start": "4", "size": "4"}


def test_pages_yields_the_answers_as_models(client):
    pages = list(client.paginate(client.search_samples, page_size=10).pages())
    assert [len(p.data) for p in pages] == [10, 10, 3]
    assert pages[0].meta["pagination"]["total"] == 23 and type(pages[0]).__name__ == "ListResponse"


def test_limit_stops_after_that_many_items_and_asks_for_no_more(client, server):
    assert list(client.paginate(client.search_samples, page_size=5, limit=7)) == ITEMS[:7]
    assert [q["pageLimit"] for q in queries(server)] == ["5", "2"]  # the last page cut to what is needed
    assert list(client.paginate(client.search_samples, limit=0)) == [] and len(server.received) == 2


def test_a_start_given_by_the_caller_is_where_the_walk_begins(client):
    assert list(client.paginate(client.search_samples, page_offset=20)) == ITEMS[20:]


def test_an_empty_page_ends_the_walk(server, client):
    server.handler = lambda request: lists(request, items=[])
    assert list(client.paginate(client.search_expressions)) == [] and len(server.received) == 1


# --------------------------------------------------------------------------- never an endless loop


def test_a_cursor_that_does_not_advance_is_an_error(client, server):
    server.handler = lambda request: Answer(
        200, json.dumps({"data": [{"n": len(server.received)}], "cursor": "same", "resultsExhausted": False}).encode()
    )
    with pytest.raises(odm_dyn.PaginationError) as caught:
        list(client.paginate(client.search_expressions))
    assert "the cursor 'same' came back again" in str(caught.value)
    assert isinstance(caught.value, odm_dyn.ResponseValidationError) and caught.value.status == 200
    assert len(server.received) == 2


def test_a_server_that_ignores_the_offset_is_caught(client, server):
    first_page = {"meta": {"pagination": {"total": 100}}, "data": [{"n": 1}, {"n": 2}]}
    server.handler = lambda request: Answer(200, json.dumps(first_page).encode())
    with pytest.raises(odm_dyn.PaginationError, match="repeats the one before"):
        list(client.paginate(client.search_samples))
    assert len(server.received) == 2


def test_the_advance_decision_is_a_plain_function():
    paging = Paging("cursor", cursor_param="cursor", limit_param="page_limit")
    state = PageState()
    assert advance(paging, {}, {"data": [1], "cursor": "a"}, state) == ([1], True, None)
    assert advance(paging, {"cursor": "a"}, {"data": [2], "cursor": "b"}, state) == ([2], True, None)
    assert advance(paging, {"cursor": "b"}, {"data": [3], "cursor": "a"}, state)[2] == "the cursor 'a' came back again"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("options", [{"page_size": 0}, {"page_size": "5"}, {"page_size": True}, {"limit": -1}])
def test_bad_page_sizes_and_limits_are_refused_before_anything_is_sent(client, server, options):
    with pytest.raises(ValueError, match="paginate: (page_size|limit) must be an integer"):
        client.paginate(client.search_samples, **options)
    assert server.received == []


def test_an_operation_that_is_not_paged_is_refused(client, server):
    with pytest.raises(ValueError, match="getCursorInfo is not paged"):
        client.paginate(client.get_cursor_info)  # x-odm-dyn-pagination: false, though it has a cursor
    assert server.received == []


def test_a_bad_pagination_extension_is_a_spec_error_naming_where(tmp_path):
    spec = tmp_path / "bad.yaml"
    text = Path(PAGING_SPEC).read_text().replace("x-odm-dyn-pagination: false", "x-odm-dyn-pagination: sideways")
    spec.write_text(text)
    client = odm_dyn.Client("http://127.0.0.1:9", spec=str(spec))
    with pytest.raises(odm_dyn.SpecError, match="must be offset, cursor, false") as caught:
        client.paginate(client.get_cursor_info)
    assert caught.value.pointer.endswith("/x-odm-dyn-pagination") and caught.value.file.endswith("bad.yaml")


@pytest.mark.skipif(not VENDOR_API.exists(), reason="the vendor's spec files are not here")
def test_the_vendor_api_paging_styles_come_from_the_conventions():
    api = odm_dyn.load_api(str(VENDOR_API))
    styles = {op_id: paging_of(op) for op_id, op in api.operations.items()}
    paged = {op_id: p.style for op_id, p in styles.items() if p}
    assert paged["getExpressionDataAsCurator"] == "cursor"
    assert paged["searchExpressionGroupsAsCurator"] == "offset"
    assert styles["getDetachedObjects"].limit_param == "limit"  # its page size is `limit`
    assert sum(s == "cursor" for s in paged.values()) >= 10 and sum(s == "offset" for s in paged.values()) >= 50


# --------------------------------------------------------------------------- progress and the command line


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_paginate_progress_is_plain_lines_off_a_terminal_and_a_bar_on_one(client):
    plain = io.StringIO()
    list(client.paginate(client.search_samples, page_size=10, progress=plain))
    assert plain.getvalue().splitlines() == [
        "search_samples: page 1, 10 of 23 items",
        "search_samples: page 2, 20 of 23 items",
        "search_samples: page 3, 23 of 23 items",
    ]
    terminal = Terminal()
    list(client.paginate(client.search_samples, page_size=10, progress=terminal))
    assert "23/23" in terminal.getvalue() and "3 pages" in terminal.getvalue()


def odm(server: ScriptedServer, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "odm_dyn", "--spec", PAGING_SPEC, "--host", server.url, "--token", TOKEN, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ.copy())


def test_cli_all_streams_every_item_as_a_json_line(server):
    result = odm(server, "samples", "search-samples", "--all", "--page-limit", "10")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == ITEMS
    assert len(server.received) == 3


def test_cli_all_on_a_cursor_list_and_a_repeated_cursor_exits_6(server):
    result = odm(server, "samples", "search-expressions", "--all")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 23
    server.handler = lambda request: Answer(
        200, json.dumps({"data": [{"n": len(server.received)}], "cursor": "x", "resultsExhausted": False}).encode()
    )
    result = odm(server, "samples", "search-expressions", "--all")
    assert result.returncode == 6 and "do not advance" in result.stderr
    assert result.stdout.splitlines() == ['{"n":4}']  # the first page (the 4th request) printed as it came


def test_cli_all_is_offered_only_on_paged_operations(server):
    result = odm(server, "samples", "get-cursor-info", "--all")
    assert result.returncode == 2 and "--all" in result.stderr and server.received == []
