"""``make bench`` writes the README's figures from the run it has just made (bench/readme.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from bench import readme

LATEST = "# odm_dyn benchmarks\n\nOne run of `make bench`, DAY.\n\n## Targets (issue 19)\n\n| a | b |\n"
README_TEXT = f"# Project\n\n## Performance\n\nBy hand.\n\n{readme.BEGIN}\nold figures\n{readme.END}\n\nAfter.\n"


def test_the_run_replaces_what_is_between_the_markers_and_nothing_else(tmp_path: Path) -> None:
    file = tmp_path / "README.md"
    file.write_text(README_TEXT)
    assert readme.update(file, LATEST)
    text = file.read_text()
    assert "old figures" not in text
    assert "By hand." in text and text.endswith("After.\n")
    assert "One run of `make bench`, DAY." in text
    assert "### Targets (issue 19)" in text  # a subsection of the README's Performance section
    assert not readme.update(file, LATEST)  # the same run again changes nothing


@pytest.mark.parametrize(
    "text",
    ["no markers at all\n", f"{readme.END}\n{readme.BEGIN}\n", f"{readme.BEGIN}\n{readme.END}\n{readme.BEGIN}\n"],
    ids=["missing", "out of order", "twice"],
)
def test_a_readme_without_one_pair_of_markers_is_refused_and_left_as_it_was(tmp_path: Path, text: str) -> None:
    file = tmp_path / "README.md"
    file.write_text(text)
    with pytest.raises(readme.MarkersMissing, match="needs one line"):
        readme.update(file, LATEST)
    assert file.read_text() == text


def test_the_project_readme_has_its_markers() -> None:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert text.count(readme.BEGIN) == 1 and text.count(readme.END) == 1


def _results(cpu: float, server: float) -> dict:
    return {
        "per_call": {"clients": {"odm_dyn": {"cpu_ms": cpu}, "bare urllib3": {"cpu_ms": 1.0}}},
        "cold_start": {"odm_dyn": {"wall_s": 1.0}, "bare requests": {"wall_s": 1.0}},
        "spec_load": {"vendor API (244 ops)": {"first": {"seconds": 0.6}, "cached": {"seconds": 0.5}}},
        "throughput": {"per_second": server},
        "throughput_bare": {"per_second": server * 2},
        "contract_report": {"seconds": 0.5},
    }


@pytest.mark.parametrize("cpu, server", [(1.05, 4000.0), (1.2, 3000.0)])
def test_the_charts_target_bars_and_the_tables_verdicts_agree(cpu: float, server: float) -> None:
    from bench import report

    results = _results(cpu, server)
    figures, shares = report.issue_figures(results), report.target_shares(results)
    verdicts = {key: met(figures[key]) for key, _, _, _, met in report.ISSUE_ROWS if key in report.TARGETS}
    assert set(verdicts) == set(report.TARGETS)
    for key, (_, _, name) in report.TARGETS.items():
        assert verdicts[key] == (shares[name] <= 1), key
    assert verdicts["cpu_x_urllib3"] is (cpu <= 1.10) and verdicts["server_per_s"] is (server >= 3700)


def _sizes(cpu_of: Callable[[int], float]) -> dict[str, dict[str, float]]:
    return {
        str(n): {"operations": n, "cpu_s": cpu_of(n), "load_MB": 9.0 * n / 1000} for n in (2500, 5000, 10000, 20000)
    }


@pytest.mark.parametrize(
    ("cpu_of", "linear"),
    [
        (lambda n: 0.05 + 0.18 * n / 1000, True),
        (lambda n: 0.05 + 0.18 * n / 1000 + (0.2 if n == 2500 else 0), True),  # one slow first size
        (lambda n: 0.05 + 0.18 * n / 1000 + (0.25 if n == 20000 else 0), True),  # one slow largest size
        (lambda n: 0.05 + 0.18 * n / 1000 * (n / 5000), False),  # an operation costs more in a larger spec
    ],
)
def test_the_growth_of_a_large_spec_load_tells_linear_from_not_through_a_slow_moment(
    cpu_of: Callable[[int], float], linear: bool
) -> None:
    from bench import large_spec, report

    growth = large_spec._growth(_sizes(cpu_of))
    assert growth is not None and growth["memory_per_op"] == 1.0
    assert (
        (growth["cpu_per_op"] <= 1.33)
        is linear
        == report._large_met({"operations": 20000, "wall_s": 4, "peak_MB": 209, **growth})
    )


def test_a_slow_spell_on_one_clients_rounds_moves_the_pooled_ratio_not_the_paired_one() -> None:
    from bench.percall import paired_ratio

    ours = [1.0, 1.0, 1.3, 1.3, 1.3]  # the machine slow in the last three rounds, for both
    theirs = [1.0, 1.0, 1.3, 1.3, 1.3]
    later = [1.3, 1.3, 1.3, 1.0, 1.0]  # ours measured as before, but the slow rounds fell elsewhere
    assert paired_ratio(ours, theirs) == 1.0
    assert paired_ratio(later, [1.3, 1.3, 1.3, 1.0, 1.0]) == 1.0
    with pytest.raises(ValueError):
        paired_ratio(ours, theirs[:-1])  # rounds that do not pair up are no ratio
