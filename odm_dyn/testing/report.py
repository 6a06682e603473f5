"""The contract report: operations × declared statuses, what was exercised, every violation.

:func:`build_report` turns a :class:`~odm_dyn.contract.Recorder` into one plain dict (the JSON
report as it is written); the terminal lines and the HTML page are both rendered from that dict,
so the three never disagree.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Iterable

from .. import __version__
from ..api.plans import Api
from ..secrets import scrubber
from .recorder import Record, Recorder

BODY_CHARS = 20_000  # enough for any TaskInfo; keeps a report readable when a server answers a page


def build_report(recorder: Recorder, apis: Iterable[Api], meta: dict[str, Any]) -> dict[str, Any]:
    """The report as a JSON-ready dict; ``meta`` (spec, server) is copied in as it is."""
    records = list(recorder.records)
    scrub = scrubber(recorder.secrets)
    operations = [_operation_entry(plan, records) for api in _unique(apis) for plan in api.plans.values()]
    declared = [(op["operation_id"], s) for op in operations for s, row in op["statuses"].items() if row["declared"]]
    exercised = [(o, s) for o, s in declared if _row(operations, o, s)["exchanges"]]
    violations = [_violation_entry(r, v, scrub) for r in records for v in r.exchange.violations]
    return {
        "odm_dyn_version": __version__,
        **meta,
        "summary": {
            "exchanges": len(records),
            "violations": len(violations),
            "declared_statuses": len(declared),
            "exercised_statuses": len(exercised),
            "unexpected_401": sum(1 for r in records if r.exchange.status == 401 and not r.expected),
        },
        "operations": operations,
        "never_exercised": [f"{o} {s}" for o, s in declared if (o, s) not in exercised],
        "violations": violations,
        "exchanges": [_exchange_summary(r, scrub) for r in records],
    }


def _unique(apis: Iterable[Api]) -> list[Api]:
    seen: dict[int, Api] = {}
    for api in apis:
        seen.setdefault(id(api), api)
    return list(seen.values())


def _operation_entry(plan: Any, records: list[Record]) -> dict[str, Any]:
    op = plan.op
    statuses: dict[str, dict[str, Any]] = {
        status: {"declared": True, "exchanges": 0, "violations": 0} for status in plan.responses
    }
    for record in records:
        exchange = record.exchange
        if exchange.plan.op.operation_id != op.operation_id:
            continue
        declared = plan.response_for(exchange.status)
        key = declared.status if declared is not None else str(exchange.status)
        row = statuses.setdefault(key, {"declared": False, "exchanges": 0, "violations": 0})
        row["exchanges"] += 1
        row["violations"] += len(exchange.violations)
    return {"operation_id": op.operation_id, "method": op.method.upper(), "path": op.path, "statuses": statuses}


def _row(operations: list[dict[str, Any]], op_id: str, status: str) -> dict[str, Any]:
    return next(op for op in operations if op["operation_id"] == op_id)["statuses"][status]


def _violation_entry(record: Record, violation: Any, scrub: Any) -> dict[str, Any]:
    exchange = record.exchange
    return {
        "test": record.test,
        "operation": exchange.operation_id,
        "status": exchange.status,
        "path": violation.path,
        "rule": violation.rule,
        "message": violation.message,
        "exchange": raw_exchange(record, scrub),
    }


def raw_exchange(record: Record, scrub: Any) -> dict[str, Any]:
    """Both halves as sent and received; credential headers were redacted when recorded."""
    exchange = record.exchange
    return {
        "request": {
            "method": exchange.method,
            "url": scrub(exchange.url),
            "headers": exchange.request_headers,
            "body": _text(exchange.request_body, scrub),
        },
        "response": {
            "status": exchange.status,
            "reason": exchange.response.reason,
            "headers": exchange.response_headers,
            "body": _text(exchange.response.content, scrub),
        },
    }


def _exchange_summary(record: Record, scrub: Any) -> dict[str, Any]:
    exchange = record.exchange
    return {
        "test": record.test,
        "operation": exchange.operation_id,
        "method": exchange.method,
        "url": scrub(exchange.url),
        "status": exchange.status,
        "verdict": exchange.verdict,
        "expected": record.expected,
    }


def _text(content: bytes | None, scrub: Any) -> str | None:
    if content is None:
        return None
    text = content[: BODY_CHARS * 4].decode("utf-8", "replace")
    more = f"... ({len(content)} bytes in all)" if len(text) > BODY_CHARS else ""
    return scrub(text[:BODY_CHARS]) + more


# --------------------------------------------------------------------------- terminal


def terminal_lines(report: dict[str, Any]) -> list[str]:
    """The report as the lines of the terminal summary section."""
    summary = report["summary"]
    lines = [
        f"spec: {', '.join(report.get('spec') or [])} | server: {report.get('server', '?')} | "
        f"{summary['exchanges']} exchanges | {summary['violations']} violations"
    ]
    width = max((len(op["operation_id"]) for op in report["operations"]), default=0)
    path_width = max((len(op["path"]) for op in report["operations"]), default=0)
    for op in report["operations"]:
        cells = "  ".join(_cell(status, row) for status, row in op["statuses"].items())
        lines.append(f"  {op['operation_id']:<{width}}  {op['method']:<6} {op['path']:<{path_width}}  {cells}")
    lines.append(f"exercised {summary['exercised_statuses']} of {summary['declared_statuses']} declared statuses")
    if report["never_exercised"]:
        lines.append("never exercised: " + ", ".join(report["never_exercised"]))
    if report["violations"]:
        lines.append(f"violations ({summary['violations']}):")
        lines += [_violation_line(v) for v in report["violations"]]
    return lines


def _cell(status: str, row: dict[str, Any]) -> str:
    if not row["declared"]:
        return f"{status} UNDECLARED x{row['exchanges']}"
    if not row["exchanges"]:
        return f"{status} never"
    return f"{status} x{row['exchanges']}" + (f" ({row['violations']} violations)" if row["violations"] else "")


def _violation_line(violation: dict[str, Any]) -> str:
    request = violation["exchange"]["request"]
    return (
        f"  {violation['test']}: {violation['operation']} {request['method']} {request['url']} "
        f"-> {violation['status']}: {violation['path']}: {violation['message']}"
    )


# --------------------------------------------------------------------------- files


def report_paths(path: str | Path) -> list[Path]:
    """``report.json`` or ``report.html`` writes that one; any other name writes both."""
    path = Path(path)
    if path.suffix.lower() in (".json", ".html"):
        return [path]
    return [path.with_name(path.name + ".json"), path.with_name(path.name + ".html")]


def write_report(report: dict[str, Any], path: str | Path) -> list[Path]:
    written = []
    for target in report_paths(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report, indent=2) if target.suffix.lower() == ".json" else render_html(report)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def render_html(report: dict[str, Any]) -> str:
    """One self-contained page: the coverage table, then each violation with its exchange."""
    e = html.escape
    summary = report["summary"]
    rows = []
    for op in report["operations"]:
        cells = "".join(
            f'<td class="{_css(row)}">{e(status)}<br>{e(_cell(status, row).split(" ", 1)[1])}</td>'
            for status, row in op["statuses"].items()
        )
        rows.append(f"<tr><th>{e(op['operation_id'])}</th><td>{e(op['method'])} {e(op['path'])}</td>{cells}</tr>")
    violations = "".join(_html_violation(v) for v in report["violations"])
    never = e(", ".join(report["never_exercised"]) or "none")
    return _PAGE.format(
        title=e(f"odm_dyn contract report: {summary['violations']} violations"),
        meta=e(f"spec: {', '.join(report.get('spec') or [])} | server: {report.get('server', '?')}"),
        summary=e(
            f"{summary['exchanges']} exchanges; exercised {summary['exercised_statuses']} of "
            f"{summary['declared_statuses']} declared statuses; {summary['violations']} violations"
        ),
        rows="".join(rows),
        never=never,
        violations=violations or "<p>none</p>",
    )


def _html_violation(violation: dict[str, Any]) -> str:
    e = html.escape
    exchange = e(json.dumps(violation["exchange"], indent=2))
    return (
        f"<section><h3>{e(violation['test'])}</h3><p>{e(violation['operation'])} &rarr; HTTP {violation['status']}: "
        f"<code>{e(violation['path'])}</code> {e(violation['message'])}</p><pre>{exchange}</pre></section>"
    )


def _css(row: dict[str, Any]) -> str:
    if not row["declared"] or row["violations"]:
        return "bad"
    return "ok" if row["exchanges"] else "never"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
.ok {{ background: #dfd; }} .never {{ background: #eee; color: #666; }} .bad {{ background: #fdd; }}
pre {{ background: #f6f6f6; padding: 8px; overflow-x: auto; }}
</style></head><body>
<h1>{title}</h1><p>{meta}</p><p>{summary}</p>
<h2>Operations &times; declared statuses</h2><table>{rows}</table>
<h2>Never exercised</h2><p>{never}</p>
<h2>Violations</h2>{violations}
</body></html>
"""
