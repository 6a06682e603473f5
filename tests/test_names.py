"""The one did-you-mean: every spelling of a name matches, then look-alikes."""

from __future__ import annotations

from odm_dyn.names import close_names, did_you_mean


def test_another_spelling_of_a_name_is_found_first() -> None:
    known = ["version_message", "verbose", "id"]
    assert close_names("versionMessage", known)[0] == "version_message"
    assert close_names("--version-mesage".lstrip("-"), ["version-message", "wait"]) == ["version-message"]


def test_within_one_name_the_spelling_asked_for_is_shown() -> None:
    assert close_names("get-task-inf", ["getTaskInfo", "get_task_info", "get-task-info"], n=1) == ["get-task-info"]


def test_nothing_close_gives_no_hint() -> None:
    assert did_you_mean("zzz", ["version_message"]) == ""
    assert did_you_mean("idd", ["id"], quote=True) == "; did you mean 'id'?"
