"""Progress: a bar with runs, failures, rate and ETA on a terminal; plain lines otherwise."""

from __future__ import annotations

import io

from sim.sweep.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_failures_rate_and_eta():
    stream = Terminal()
    progress = Progress(total=10, already_done=2, failed=1, stream=stream)
    progress.update(3, 1)
    progress.close()
    text = stream.getvalue()
    assert progress.mode == "bar"
    assert "5/10" in text and "failed=2" in text and "run/s" in text and "<" in text


def test_logs_get_plain_lines():
    stream = io.StringIO()
    progress = Progress(total=10, already_done=0, failed=0, stream=stream)
    progress.update(4, 1)  # the first update prints a line; later ones every 10 s
    progress.update(6, 0)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("sweep: 4/10 runs (40%), 1 failed, ")
    assert lines[-1].startswith("sweep: 10/10 runs (100%), 1 failed, ")
    assert "runs/s, ETA" in lines[-1]


def test_quiet_mode_prints_nothing():
    stream = Terminal()
    progress = Progress(total=3, already_done=0, failed=0, mode="none", stream=stream)
    progress.update(3, 0)
    progress.close()
    assert stream.getvalue() == ""
