"""The status line of --wait and of the demo."""

from __future__ import annotations

import io
import re
import time

import pytest

from odm_dyn.cli.progress import StatusLine


class Task:
    def __init__(self, status: str) -> None:
        self.id, self.status = "GSF1", status


def running_times(tty: io.StringIO) -> list[float]:
    """The elapsed times the RUNNING frames showed so far."""
    frames = tty.getvalue().split("\r")[1:]
    return [float(re.search(r"([\d.]+)s", f).group(1)) for f in frames if "RUNNING" in f]


def test_on_a_terminal_one_line_is_rewritten_and_keeps_ticking_between_polls():
    tty = io.StringIO()
    line = StatusLine(tty, is_tty=lambda: True, tick=0.01)
    line(Task("RUNNING"), 1.0)
    deadline = time.monotonic() + 5  # the ticker draws every 0.01 s; a busy machine may delay it
    while not (len(running_times(tty)) >= 3 and running_times(tty)[-1] > 1.0) and time.monotonic() < deadline:
        time.sleep(0.01)
    line(Task("DONE"), 2.0)
    line.close()
    frames = tty.getvalue().split("\r")[1:]
    assert frames[0].startswith("task GSF1: RUNNING") and frames[-1].rstrip().endswith("2.0s")
    running = running_times(tty)
    assert len(running) >= 3 and running == sorted(running) and running[-1] > 1.0  # time moved on
    assert tty.getvalue().endswith("\n") and "\n" not in tty.getvalue()[:-1]


def test_elsewhere_a_line_per_status_change_and_no_ticking():
    log = io.StringIO()
    line = StatusLine(log, is_tty=lambda: False, tick=0.01)
    for status in ("QUEUED", "RUNNING", "RUNNING", "RUNNING", "DONE"):
        line(Task(status), 0.5)
    time.sleep(0.05)
    line.close()
    assert [row.split(":")[1].split()[0] for row in log.getvalue().splitlines()] == ["QUEUED", "RUNNING", "DONE"]
    assert "\r" not in log.getvalue()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wait_ends_its_status_line_however_the_wait_ends(monkeypatch):
    from odm_dyn.cli.commands import follow_task

    class Interrupted:
        def wait_for_task(self, task_id, timeout, on_poll):
            on_poll(Task("RUNNING"), 1.0)
            raise KeyboardInterrupt  # Ctrl-C, or any error of the poll itself

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert follow_task(Interrupted(), Task("QUEUED"), timeout=None) == 130  # Ctrl-C: the resume command, then 130
    text = terminal.getvalue()
    assert (
        "RUNNING" in text and "\nodm-dyn: interrupted: task GSF1 may still be running" in text
    )  # on a line of its own
    assert text.endswith("odm-dyn tasks-api get-task-info GSF1 --wait\n")


def test_the_status_line_is_a_context_manager():
    terminal = Terminal()
    with pytest.raises(RuntimeError), StatusLine(terminal, tick=0.01) as line:
        line(Task("RUNNING"), 1.0)
        raise RuntimeError("the poll failed")
    assert terminal.getvalue().startswith("\rtask GSF1: RUNNING") and terminal.getvalue().endswith("\n")
