"""The progress bar: only on a terminal, only after the delay, erased at the end."""

from __future__ import annotations

import io
import time

from kds_iac.output.progress import ProgressBar, wanted


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_wanted_only_on_a_terminal(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    assert wanted(Terminal())
    assert not wanted(io.StringIO())
    assert not wanted(Terminal(), disabled=True)
    monkeypatch.setenv("TERM", "dumb")
    assert not wanted(Terminal())


def test_nothing_before_the_delay_then_a_bar():
    stream, clock = Terminal(), Clock()
    bar = ProgressBar(stream, delay=1.0, clock=clock, use_timer=False, width=80)
    bar(0, 4, "infra/a")
    clock.now += 0.5
    bar(1, 4, "infra/b")
    assert stream.getvalue() == ""
    clock.now += 0.6
    bar(2, 4, "infra/c")
    assert stream.getvalue() == "\r\x1b[K[##########----------] 2/4 infra/c"
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[K")
    bar(3, 4, "late")  # after close: ignored
    assert stream.getvalue().endswith("\r\x1b[K")


def test_fast_scan_leaves_no_trace():
    stream = Terminal()
    with ProgressBar(stream, delay=1.0, use_timer=False) as bar:
        bar(0, 1, "main.tf")
        bar(1, 1, "")
    assert stream.getvalue() == ""


def test_timer_shows_a_slow_single_unit():
    stream = Terminal()
    bar = ProgressBar(stream, delay=0.05, width=80)
    bar(0, 1, "big-module")
    deadline = time.monotonic() + 2
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    bar.close()
    assert "[--------------------] 0/1 big-module" in stream.getvalue()


def test_long_names_fit_the_terminal():
    stream = Terminal()
    bar = ProgressBar(stream, delay=0, use_timer=False, width=40)
    bar(1, 2, "x" * 100)
    line = stream.getvalue().split("\x1b[K")[-1]
    assert len(line) == 39 and line.endswith("…")
