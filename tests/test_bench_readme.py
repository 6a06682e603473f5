"""``make bench`` writes the README's figures from the run it has just made (bench/readme.py)."""

from __future__ import annotations

from pathlib import Path

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
