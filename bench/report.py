"""The results of one run as a Markdown report (targets first) and a PNG chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .percall import paired_ratio

ODM = "odm_dyn"


def markdown(results: dict[str, Any], before: dict[str, Any] | None = None) -> str:
    """All the tables; ``before``: the results of a run on the code before issue 19's changes."""
    machine = results["machine"]
    lines = [
        "# odm_dyn benchmarks",
        "",
        f"One run of `make bench`, {results['started']}; Python {machine['python']}, {machine['cpus']} CPUs. "
        "Per call: `getTaskInfo` against the embedded server in its own process, on a kept-alive "
        "connection; CPU is the calling thread's time; ratios are to bare `requests` in the same run.",
        "",
        "## Targets (issue 19)",
        "",
        *issue_table(results, before),
        "",
        *_pairing_note(results),
        "## Targets (issue 6)",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *[f"| {target} | {measured} | {'yes' if met else '**no**'} |" for target, measured, met in targets(results)],
        "",
        *_per_call_table(results["per_call"]),
        *_cold_table(results["cold_start"]),
        *_load_table(results["spec_load"]),
        *_large_table(results.get("large_spec")),
        *_throughput(results["throughput"], results.get("throughput_bare")),
        *_report_figure(results.get("contract_report")),
        *(_async_section(results["async"]) if "async" in results else []),
    ]
    return "\n".join(lines) + "\n"


VENDOR = "vendor API (244 ops)"


def issue_figures(results: dict[str, Any]) -> dict[str, Any]:
    """The figures issue 19 sets targets for, from one run (``None``: not measured)."""
    vendor = results.get("spec_load", {}).get(VENDOR, {})
    served, bare = results.get("throughput", {}), results.get("throughput_bare") or {}
    pooled = _pooled_ratios(results)
    paired_cpu = _paired(results.get("per_call", {}).get("clients", {}), ODM, "bare urllib3")
    paired_cold = (results.get("cold_start_paired") or {}).get("odm_dyn x bare requests")
    return {  # a ratio to a peer: the median of the rounds' own ratios (a run before them: the pooled one)
        "cpu_x_urllib3": paired_cpu if paired_cpu is not None else pooled["cpu_x_urllib3"],
        "cold_x_requests": paired_cold if paired_cold is not None else pooled["cold_x_requests"],
        "vendor_first_s": vendor.get("first", {}).get("seconds"),
        "vendor_warm_s": vendor.get("cached", {}).get("seconds"),
        "server_x_bare": _ratio(served.get("per_second"), bare.get("per_second")),
        "server_per_s": served.get("per_second"),
        "report_s": (results.get("contract_report") or {}).get("seconds"),
        "large_first": _largest_load(results.get("large_spec")),
    }


def _pooled_ratios(results: dict[str, Any]) -> dict[str, float | None]:
    """The ratios of the pooled medians (every call, or every process, of the run at once)."""
    clients = results.get("per_call", {}).get("clients", {})
    cold = results.get("cold_start", {})
    return {
        "cpu_x_urllib3": _ratio(clients.get(ODM, {}).get("cpu_ms"), clients.get("bare urllib3", {}).get("cpu_ms")),
        "cold_x_requests": _ratio(cold.get(ODM, {}).get("wall_s"), cold.get("bare requests", {}).get("wall_s")),
    }


def _paired(clients: dict[str, Any], ours: str, theirs: str) -> float | None:
    """Per-call CPU of one client over another's, as the median of the rounds' own ratios
    (``None`` for a run that kept no rounds)."""
    mine, other = clients.get(ours, {}).get("round_cpu_ms"), clients.get(theirs, {}).get("round_cpu_ms")
    return paired_ratio(mine, other) if mine and other else None


def _largest_load(large: dict[str, Any] | None) -> dict[str, Any] | None:
    """The first load at the largest size measured, with how the cost per operation grew to it."""
    sizes = [row for row in (large or {}).get("sizes", {}).values() if "error" not in row]
    growth = (large or {}).get("growth")
    if not sizes or not growth:
        return None
    return {**sizes[-1], **growth}


def _large_met(value: dict[str, Any]) -> bool:
    """20,000 operations or more, the targets' time and memory, and marginal costs per operation
    that do not grow with the size (within a third, for a shared machine's noise)."""
    linear = value["cpu_per_op"] <= 1.33 and value["memory_per_op"] <= 1.33
    return value["operations"] >= 20000 and value["wall_s"] <= 10 and value["peak_MB"] <= 300 and linear


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours is not None and theirs else None


# figure key -> (target, True when a higher figure is better, the chart's short name): the numbers
# of ISSUE_ROWS' targets
TARGETS: dict[str, tuple[float, bool, str]] = {
    "cpu_x_urllib3": (1.10, False, "CPU per call × urllib3"),
    "cold_x_requests": (1.1, False, "cold start × requests"),
    "vendor_first_s": (0.6, False, "vendor API, first load"),
    "vendor_warm_s": (0.12, False, "vendor API, warm cache"),
    "server_x_bare": (0.6, True, "server × bare WSGI app"),
    "server_per_s": (3700, True, "server answers/s"),  # the issue's figure before the stateful double
    "report_s": (1.0, False, "contract report"),
}


def _meets(key: str) -> Any:
    """The test of one figure against its number in TARGETS."""
    target, higher_is_better, _ = TARGETS[key]
    return (lambda v: v >= target) if higher_is_better else (lambda v: v <= target)


# figure key, label, format, target text, test of the target (None: a figure without one)
ISSUE_ROWS: list[tuple[str, str, str, str, Any]] = [
    (
        "cpu_x_urllib3",
        "CPU per call, validating both ways, × bare urllib3",
        "{:.2f}×",
        "≤ 1.10×",
        _meets("cpu_x_urllib3"),
    ),
    (
        "cold_x_requests",
        "cold start, Tasks spec, warm cache, × bare requests",
        "{:.2f}×",
        "≤ 1.1×",
        _meets("cold_x_requests"),
    ),
    ("vendor_first_s", "vendor API, first load in a fresh process", "{:.2f} s", "≤ 0.6 s", _meets("vendor_first_s")),
    ("vendor_warm_s", "vendor API, fresh process, warm cache", "{:.3f} s", "≤ 0.12 s", _meets("vendor_warm_s")),
    (
        "server_x_bare",
        "embedded server, getTaskInfo answers/s × a bare WSGI app on the same server",
        "{:.2f}×",
        "≥ 0.6×",
        _meets("server_x_bare"),
    ),
    (
        "server_per_s",
        "embedded server, answers/s, 8 client threads in another process",
        "{:,.0f}/s",
        "≥ 3,700/s (no lower after the stateful double)",
        _meets("server_per_s"),
    ),
    (
        "large_first",
        "20,000-operation spec (JSON), first load",
        "{0[operations]:,} ops: {0[wall_s]:.1f} s, {0[peak_MB]:.0f} MB; marginal cost per op, the top size "
        "step × the span below it: CPU {0[cpu_per_op]:.2f}×, memory {0[memory_per_op]:.2f}×",
        "≤ 10 s, ≤ 300 MB, linear in size",
        _large_met,
    ),
    (
        "report_s",
        "contract report for the vendor's spec (JSON + HTML, 1,000 exchanges)",
        "{:.2f} s",
        "≤ 1 s",
        _meets("report_s"),
    ),
]


def issue_table(results: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    after = issue_figures(results)
    earlier = issue_figures(before) if before else {}
    lines = ["| figure | before | after | target | met |", "|---|---|---|---|---|"]
    for key, label, form, target, met in ISSUE_ROWS:
        now, then = after.get(key), earlier.get(key)
        shown = form.format(now) if now is not None else "not measured"
        verdict = "" if met is None or now is None else ("yes" if met(now) else "**no**")
        lines.append(f"| {label} | {form.format(then) if then is not None else '—'} | {shown} | {target} | {verdict} |")
    return lines


def _pairing_note(results: dict[str, Any]) -> list[str]:
    pooled = _pooled_ratios(results)
    kept_rounds = "round_cpu_ms" in results.get("per_call", {}).get("clients", {}).get(ODM, {})
    if not kept_rounds or None in pooled.values():
        return []  # a run without rounds kept: its ratios are the pooled ones
    return [
        "Ratios between clients are medians of the rounds' own ratios (each round measures every "
        "client within about a second, so a slow spell of the machine falls on both of a pair); the "
        f"ratios of the pooled medians: per call {pooled['cpu_x_urllib3']:.2f}×, cold start "
        f"{pooled['cold_x_requests']:.2f}×.",
        "",
    ]


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    clients = results["per_call"]["clients"]
    ours = clients[ODM]
    rows = [
        (
            "CPU per call, validating both ways: ≤ 0.6× bare requests",
            f"{ours['cpu_ratio']:.2f}×",
            ours["cpu_ratio"] <= 0.6,
        )
    ]
    for name, row in clients.items():
        if name.startswith(f"{ODM} ("):
            paired = _paired(clients, name, ODM)
            change = (paired if paired is not None else row["cpu_ms"] / ours["cpu_ms"]) - 1
            rows.append(
                (
                    f"per call with the {name[len(ODM) + 2 : -1]}: within 10% of the Tasks spec",
                    f"{change:+.0%}",
                    abs(change) <= 0.10,
                )
            )
    cold = results["cold_start"].get(ODM, {})
    if "wall_s" in cold:
        rows.append(
            ("cold start, Tasks spec, cache filled: ≤ 0.45 s", f"{cold['wall_s']:.2f} s", cold["wall_s"] <= 0.45)
        )
        rows.append(("cold start peak memory: ≤ 45 MiB", f"{cold['peak_mib']:.1f} MiB", cold["peak_mib"] <= 45))
    vendor = results["spec_load"].get("vendor API (244 ops)")
    if vendor and "seconds" in vendor.get("first", {}):
        rows.append(
            (
                "vendor API load+build, first: ≤ 3 s",
                f"{vendor['first']['seconds']:.2f} s",
                vendor["first"]["seconds"] <= 3,
            )
        )
        rows.append(
            (
                "vendor API load+build, cached: ≤ 0.3 s",
                f"{vendor['cached']['seconds']:.2f} s",
                vendor["cached"]["seconds"] <= 0.3,
            )
        )
    rate = results["throughput"]["per_second"]
    rows.append(("embedded server, 8 threads: ≥ 1,500 getTaskInfo/s", f"{rate:,.0f}/s", rate >= 1500))
    return rows


def _per_call_table(per_call: dict[str, Any]) -> list[str]:
    lines = [
        "## CPU and wall time per call",
        "",
        "| client | CPU median | CPU p90 | CPU ratio | wall median | wall p90 | wall ratio | calls |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in per_call["clients"].items():
        lines.append(
            f"| {name} | {row['cpu_ms']:.3f} ms | {row['cpu_p90_ms']:.3f} ms | {row['cpu_ratio']:.2f}× | "
            f"{row['wall_ms']:.3f} ms | {row['wall_p90_ms']:.3f} ms | {row['wall_ratio']:.2f}× | {row['calls']} |"
        )
    for name, why in per_call.get("not_measured", {}).items():
        lines.append(f"| {name} | not measured: {why} | | | | | | |")
    return lines + [""]


def _cold_table(cold: dict[str, Any]) -> list[str]:
    lines = [
        "## Cold start (a whole process: import, load, build, one call)",
        "",
        "| client | wall | peak memory |",
        "|---|---|---|",
    ]
    for name, row in cold.items():
        if "error" in row:
            lines.append(f"| {name} | failed: {row['error']} | |")
        else:
            lines.append(f"| {name} | {row['wall_s']:.2f} s | {row['peak_mib']:.1f} MiB |")
    return lines + [""]


def _load_table(loads: dict[str, Any]) -> list[str]:
    lines = [
        "## Spec load and build (fresh process; import included)",
        "",
        "| spec | operations | first | cached | heavy modules on the cached path |",
        "|---|---|---|---|---|",
    ]
    for name, row in loads.items():
        first, cached = row.get("first", {}), row.get("cached", {})
        if "seconds" not in first or "seconds" not in cached:
            lines.append(f"| {name} | failed: {first.get('error') or cached.get('error')} | | | |")
            continue
        heavy = ", ".join(cached["heavy"]) or "none"
        lines.append(
            f"| {name} | {first['operations']} | {first['seconds']:.2f} s | {cached['seconds']:.3f} s | {heavy} |"
        )
    return lines + [""]


def _large_table(large: dict[str, Any] | None) -> list[str]:
    if not large:
        return []
    lines = [
        "## First load of generated JSON specs (fresh process, empty cache)",
        "",
        "Peak: the process's own high-water mark, imports included; load: what the load added to it. "
        "Per 1,000 operations: on average, and at the margin from the size before (linear: a margin that "
        "does not grow).",
        "",
        "| operations | spec | wall | CPU | peak | load | CPU / 1,000 ops (margin) | load MB / 1,000 ops (margin) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for count, row in large["sizes"].items():
        if "error" in row:
            lines.append(f"| {int(count):,} | failed: {row['error']} | | | | | | |")
            continue
        lines.append(
            f"| {row['operations']:,} | {row['spec_MB']:.1f} MB | {row['wall_s']:.2f} s | {row['cpu_s']:.2f} s | "
            f"{row['peak_MB']:.0f} MB | {row['load_MB']:.0f} MB | {row['cpu_s_per_1000']:.3f} s "
            f"({_margin(row, 'cpu_s_margin_per_1000', '{:.3f} s')}) | {row['load_MB_per_1000']:.1f} MB "
            f"({_margin(row, 'load_MB_margin_per_1000', '{:.1f} MB')}) |"
        )
    return lines + [""]


def _margin(row: dict[str, Any], key: str, form: str) -> str:
    return form.format(row[key]) if key in row else "—"


def _async_section(result: dict[str, Any]) -> list[str]:
    from .asyncbench import markdown as async_markdown

    return async_markdown(result)


def _throughput(result: dict[str, Any], bare: dict[str, Any] | None = None) -> list[str]:
    lines = ["## Embedded server throughput", ""]
    for label, row in (("the embedded server", result), ("a bare WSGI app, served the same way", bare)):
        if not row:
            continue
        cost = row.get("server_cpu_ms_per_answer")
        rounds = f", median of {row['rounds']} rounds" if row.get("rounds") else ""
        lines.append(
            f"- {label}: {row['per_second']:,.0f} `getTaskInfo` answers/s from {row['threads']} threads "
            f"({row['answers']} answers, {row['errors']} errors, {row['seconds']:.1f} s{rounds}); "
            + (f"server CPU {cost:.2f} ms per answer." if cost else "server CPU not read.")
        )
    return lines + [""]


def _report_figure(result: dict[str, Any] | None) -> list[str]:
    if not result:
        return []
    if "error" in result:
        return ["## Contract report", "", f"failed: {result['error']}", ""]
    return [
        "## Contract report (the vendor's spec)",
        "",
        f"Built and written (JSON {result['bytes']['json']:,} bytes, HTML {result['bytes']['html']:,} bytes) in "
        f"{result['seconds']:.3f} s from {result['exchanges']:,} exchanges over {result['exercised_operations']} "
        f"of {result['declared_operations']} operations (median of 3).",
        "",
    ]


def chart(results: dict[str, Any], out: Path) -> None:
    """CPU per call, cold start and peak memory, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clients = results["per_call"]["clients"]
    cold = {k: v for k, v in results["cold_start"].items() if "wall_s" in v and "first ever" not in k}
    figure, grid = plt.subplots(2, 2, figsize=(15, 9))
    axes = grid.flatten()
    _bars(axes[0], {k: v["cpu_ms"] for k, v in clients.items()}, "CPU per getTaskInfo call (ms, median)")
    _bars(axes[1], {k: v["wall_s"] for k, v in cold.items()}, "cold start (s): import, load, 1 call")
    _bars(axes[2], {k: v["peak_mib"] for k, v in cold.items()}, "cold start peak memory (MiB)")
    _target_bars(axes[3], target_shares(results))
    figure.suptitle("odm_dyn and its peers, one run side by side (lower is better)")
    figure.tight_layout()
    figure.savefig(out, dpi=90)
    plt.close(figure)


def _bars(axis: Any, values: dict[str, float], title: str) -> None:
    names = list(values)
    colours = ["tab:green" if name.startswith(ODM) else "tab:gray" for name in names]
    axis.barh(names, [values[n] for n in names], color=colours)
    axis.invert_yaxis()
    axis.set_title(title, fontsize=10)
    axis.tick_params(axis="y", labelsize=8)
    for index, name in enumerate(names):
        axis.text(values[name], index, f" {values[name]:.2f}", va="center", fontsize=8)


def target_shares(results: dict[str, Any]) -> dict[str, float]:
    """Each issue-19 figure measured as a share of its target, turned so that ≤ 1 meets it."""
    figures = issue_figures(results)
    shares = {}
    for key, (target, higher_is_better, name) in TARGETS.items():
        value = figures.get(key)
        if value:
            shares[name] = target / value if higher_is_better else value / target
    large = figures.get("large_first")
    if large:  # several targets at once: the one furthest from being met
        shares["20,000-op spec, first load"] = max(large["wall_s"] / 10, large["peak_MB"] / 300)
    return shares


def _target_bars(axis: Any, shares: dict[str, float]) -> None:
    names = list(shares)
    colours = ["tab:green" if shares[name] <= 1 else "tab:red" for name in names]
    axis.barh(names, [shares[n] for n in names], color=colours)
    axis.axvline(1.0, color="black", linewidth=1)
    axis.invert_yaxis()
    axis.set_title("issue 19: each figure ÷ its target (≤ 1 meets it)", fontsize=10)
    axis.tick_params(axis="y", labelsize=8)
    for index, name in enumerate(names):
        axis.text(shares[name], index, f" {shares[name]:.2f}", va="center", fontsize=8)
