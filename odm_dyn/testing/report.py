"""The contract report: operations × declared statuses, what was exercised, every violation.

:func:`build_report` turns a :class:`~odm_dyn.contract.Recorder` into one plain dict (the JSON
report as it is written); the terminal lines and the HTML page are both rendered from that dict,
so the three never disagree.

It must read at a glance on a 244-operation spec: a headline (operations and statuses exercised
of those declared, the tests' outcomes, violations), then operations grouped by tag, exercised
first, the never-exercised collapsed. The terminal summary stays under :data:`TERMINAL_LINES`
lines and points to the HTML page for the rest.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from .. import __version__
from ..api.plans import Api
from ..secrets import scrubber
from .recorder import Record, Recorder

BODY_CHARS = 20_000  # enough for any TaskInfo; keeps a report readable when a server answers a page
TERMINAL_LINES = 40  # the terminal summary's budget; the HTML page has everything
TERMINAL_OPERATIONS = 15  # exercised operations listed in the terminal
TERMINAL_VIOLATIONS = 8
TERMINAL_WIDTH = 160  # a violation line is cut here; the HTML page has it whole
NEVER_NAMED = 6  # never-exercised statuses named in the terminal before "and N more"
UNTAGGED = "(no tag)"


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
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **meta,
        "summary": {
            "exchanges": len(records),
            "violations": len(violations),
            "declared_operations": len(operations),
            "exercised_operations": sum(1 for op in operations if op["exercised"]),
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
    return {
        "operation_id": op.operation_id,
        "method": op.method.upper(),
        "path": op.path,
        "tag": op.tags[0] if op.tags else UNTAGGED,
        "exercised": any(row["exchanges"] for row in statuses.values()),
        "statuses": statuses,
    }


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
    """Both halves as sent and received; credential headers were redacted by name when recorded,
    and every header value is scrubbed by value here (a server may echo a token in any header)."""
    exchange = record.exchange
    return {
        "request": {
            "method": exchange.method,
            "url": scrub(exchange.url),
            "headers": _headers(exchange.request_headers, scrub),
            "body": _text(exchange.request_body, scrub),
        },
        "response": {
            "status": exchange.status,
            "reason": scrub(exchange.response.reason or ""),
            "headers": _headers(exchange.response_headers, scrub),
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


def _headers(headers: Any, scrub: Any) -> dict[str, str]:
    return {str(name): scrub(str(value)) for name, value in dict(headers or {}).items()}


def _text(content: bytes | None, scrub: Any) -> str | None:
    """The body's first ``BODY_CHARS`` characters, scrubbed *before* the cut: a token the cut
    went through would leave a fragment no scrubber recognises."""
    if content is None:
        return None
    text = scrub(content[: BODY_CHARS * 4].decode("utf-8", "replace"))
    more = f"... ({len(content)} bytes in all)" if len(text) > BODY_CHARS else ""
    return text[:BODY_CHARS] + more


# --------------------------------------------------------------------------- terminal


def headline(report: dict[str, Any]) -> str:
    """One line: operations and statuses exercised of those declared, tests, violations."""
    summary = report["summary"]
    text = (
        f"operations exercised: {summary.get('exercised_operations', 0)} of {summary.get('declared_operations', 0)}"
        f" | statuses exercised: {summary['exercised_statuses']} of {summary['declared_statuses']}"
    )
    tests = report.get("tests")
    if tests:
        text += f" | tests: {tests['passed']} passed, {tests['failed']} failed, {tests['skipped']} skipped"
    return text + f" | violations: {summary['violations']}"


def terminal_lines(report: dict[str, Any], written: list[str] | None = None) -> list[str]:
    """The terminal summary: under TERMINAL_LINES lines whatever the spec's size."""
    summary = report["summary"]
    lines = [
        f"spec: {', '.join(report.get('spec') or [])} | server: {report.get('server', '?')}"
        f" | {report.get('generated_at', '')} | {summary['exchanges']} exchanges",
        headline(report),
    ]
    lines += _exercised_lines(report["operations"])
    lines += _never_lines(report)
    if report["violations"]:
        lines.append(f"violations ({summary['violations']}):")
        lines += [_cut(_violation_line(v)) for v in report["violations"][:TERMINAL_VIOLATIONS]]
        if len(report["violations"]) > TERMINAL_VIOLATIONS:
            lines.append(f"  ... and {len(report['violations']) - TERMINAL_VIOLATIONS} more")
    return lines + [_where(written or [])]


def _where(written: list[str]) -> str:
    pages = [path for path in written if path.lower().endswith(".html")]
    others = [path for path in written if path not in pages]
    if pages:
        return f"full report: {pages[0]}" + (f" (JSON: {', '.join(others)})" if others else "")
    if others:
        return f"report: {', '.join(others)} (a PATH without .json also writes the HTML page)"
    return "the full report: --odm-report PATH writes PATH.json and PATH.html"


def _never_lines(report: dict[str, Any]) -> list[str]:
    """One line: the operations never called when there are any, else the statuses never seen."""
    never = report["never_exercised"]
    if not never:
        return []
    idle = [op["operation_id"] for op in report["operations"] if not op.get("exercised", True)]
    names = idle or never
    named = ", ".join(names[:NEVER_NAMED]) + (
        f", and {len(names) - NEVER_NAMED} more" if len(names) > NEVER_NAMED else ""
    )
    if idle:
        text = (
            f"never exercised: {len(idle)} of {len(report['operations'])} operations ({named}); {len(never)} statuses"
        )
    else:
        text = f"never exercised: {named} ({len(never)} statuses)"
    return [_cut(text)]


def _exercised_lines(operations: list[dict[str, Any]]) -> list[str]:
    """The exercised operations, by tag, each with its statuses; at most TERMINAL_OPERATIONS."""
    exercised = [op for op in operations if op.get("exercised", True)]
    if not exercised:
        return ["no operation was exercised"]
    shown = exercised[:TERMINAL_OPERATIONS]
    width = max(len(op["operation_id"]) for op in shown)
    path_width = max(len(op["path"]) for op in shown)
    lines: list[str] = []
    for tag, ops in _by_tag(shown):
        lines.append(f"  {tag}")
        for op in ops:
            cells = "  ".join(_cell(status, row) for status, row in op["statuses"].items())
            lines.append(f"    {op['operation_id']:<{width}}  {op['method']:<6} {op['path']:<{path_width}}  {cells}")
    if len(exercised) > len(shown):
        lines.append(f"  ... and {len(exercised) - len(shown)} more exercised operations")
    return lines


def _by_tag(operations: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for op in operations:
        groups.setdefault(op.get("tag", UNTAGGED), []).append(op)
    return list(groups.items())


def _cut(line: str) -> str:
    return line if len(line) <= TERMINAL_WIDTH else line[: TERMINAL_WIDTH - 1] + "…"


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
    """One self-contained page: the headline, operations by tag (exercised first, the rest
    collapsed), then each violation with its exchange as formatted JSON."""
    e = html.escape
    summary = report["summary"]
    tests = report.get("tests") or {}
    return _PAGE.format(
        title=e(f"odm_dyn contract report: {summary['violations']} violations"),
        meta=e(
            f"{report.get('generated_at', '')} | spec: {', '.join(report.get('spec') or [])} | "
            f"server: {report.get('server', '?')} | odm_dyn {report.get('odm_dyn_version', '')} | "
            f"{summary['exchanges']} exchanges"
        ),
        cards="".join(_cards(summary, tests)),
        tags=_html_tags(report["operations"]),
        violations="".join(_html_violation(v) for v in report["violations"]) or "<p>none</p>",
    )


def _cards(summary: dict[str, Any], tests: dict[str, int]) -> list[str]:
    """The headline as four cards; each number also in a data attribute, for tools and tests."""
    cards = [
        (
            "operations",
            f"{summary.get('exercised_operations', 0)} / {summary.get('declared_operations', 0)}",
            "operations exercised",
            "ok" if summary.get("exercised_operations") else "never",
        ),
        (
            "statuses",
            f"{summary['exercised_statuses']} / {summary['declared_statuses']}",
            "declared statuses exercised",
            "ok" if summary["exercised_statuses"] else "never",
        ),
    ]
    if tests:
        cards.append(
            (
                "tests",
                f"{tests['passed']} / {tests['failed']} / {tests['skipped']}",
                "tests passed / failed / skipped",
                "bad" if tests["failed"] else "ok",
            )
        )
    cards.append(("violations", str(summary["violations"]), "violations", "bad" if summary["violations"] else "ok"))
    return [
        f'<div class="card {css}" id="headline-{key}" data-value="{html.escape(value)}">'
        f"<b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>"
        for key, value, label, css in cards
    ]


def _html_tags(operations: list[dict[str, Any]]) -> str:
    """A section per tag: exercised tags first and open; tags never exercised in one fold."""
    groups = _by_tag(operations)
    active = [(tag, ops) for tag, ops in groups if any(op.get("exercised") for op in ops)]
    idle = [(tag, ops) for tag, ops in groups if not any(op.get("exercised") for op in ops)]
    parts = [_html_tag(tag, ops, open_=True) for tag, ops in active]
    if idle:
        count = sum(len(ops) for _, ops in idle)
        inner = "".join(_html_tag(tag, ops, open_=False) for tag, ops in idle)
        parts.append(
            f"<details><summary>{len(idle)} tags never exercised ({count} operations)</summary>{inner}</details>"
        )
    return "".join(parts) or "<p>no operations</p>"


def _html_tag(tag: str, ops: list[dict[str, Any]], open_: bool) -> str:
    e = html.escape
    done = [op for op in ops if op.get("exercised")]
    rest = [op for op in ops if not op.get("exercised")]
    body = _html_table(done) if done else ""
    if rest:
        body += f"<details><summary>{len(rest)} never exercised</summary>{_html_table(rest)}</details>"
    head = f"{e(tag)} <small>{len(done)} of {len(ops)} operations exercised</small>"
    return f"<details class=tag{' open' if open_ else ''}><summary>{head}</summary>{body}</details>"


def _html_table(ops: list[dict[str, Any]]) -> str:
    e = html.escape
    rows = []
    for op in ops:
        cells = "".join(
            f'<td class="{_css(row)}">{e(status)} {e(_cell(status, row).split(" ", 1)[1])}</td>'
            for status, row in op["statuses"].items()
        )
        rows.append(f"<tr><th>{e(op['operation_id'])}</th><td>{e(op['method'])} {e(op['path'])}</td>{cells}</tr>")
    return f"<table>{''.join(rows)}</table>"


def _html_violation(violation: dict[str, Any]) -> str:
    e = html.escape
    exchange = e(json.dumps(_with_json_bodies(violation["exchange"]), indent=2, ensure_ascii=False))
    return (
        f"<section><h3>{e(violation['test'])}</h3><p>{e(violation['operation'])} &rarr; HTTP {violation['status']}: "
        f"<code>{e(violation['path'])}</code> {e(violation['message'])}</p><pre>{exchange}</pre></section>"
    )


def _with_json_bodies(exchange: dict[str, Any]) -> dict[str, Any]:
    """The exchange with each body that is JSON shown as JSON, not as an escaped string."""
    out = {}
    for half, part in exchange.items():
        part = dict(part)
        body = part.get("body")
        if isinstance(body, str):
            try:
                part["body"] = json.loads(body)
            except ValueError:
                pass
        out[half] = part
    return out


def _css(row: dict[str, Any]) -> str:
    if not row["declared"] or row["violations"]:
        return "bad"
    return "ok" if row["exchanges"] else "never"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }} table {{ border-collapse: collapse; margin: 4px 0 8px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; font-size: 13px; }}
.ok {{ background: #dfd; }} .never {{ background: #f3f3f3; color: #777; }} .bad {{ background: #fdd; }}
.cards {{ display: flex; gap: 12px; margin: 12px 0 20px; }}
.card {{ padding: 10px 16px; border-radius: 6px; min-width: 150px; border: 1px solid #ccc; }}
.card b {{ display: block; font-size: 26px; }} .card span {{ font-size: 13px; color: #444; }}
details {{ margin: 4px 0 4px 8px; }} details.tag > summary {{ font-weight: bold; font-size: 15px; margin-top: 8px; }}
summary small {{ font-weight: normal; color: #666; }}
pre {{ background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; }}
</style></head><body>
<h1>{title}</h1><p>{meta}</p>
<div class="cards">{cards}</div>
<h2>Operations by tag</h2>{tags}
<h2>Violations</h2>{violations}
</body></html>
"""
