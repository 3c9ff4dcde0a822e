"""Progress of a sweep: a tqdm bar on a terminal, plain lines in logs (``sweep.progress``).

Both show runs done of the total, failures, throughput (runs/s) and the time left; runs found
done when resuming count as done but not toward the throughput.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from tqdm import tqdm

#: Seconds between plain progress lines.
LINE_INTERVAL_SECONDS = 10.0


class Progress:
    def __init__(self, total: int, already_done: int, failed: int, mode: str = "auto",
                 stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "plain"
        self.mode, self.total, self.done, self.failed = mode, total, already_done, failed
        self.start_done, self.started, self.last_line = already_done, time.monotonic(), 0.0
        # the terminal's width, or 80 columns when it reports none (some ptys and CI consoles)
        width = shutil.get_terminal_size().columns
        self.bar = tqdm(total=total, initial=already_done, unit="run", file=self.stream,
                        ncols=width, smoothing=0.1) if mode == "bar" else None
        if self.bar is not None:
            self.bar.set_postfix(failed=failed)

    def update(self, runs: int, failed: int) -> None:
        self.done += runs
        self.failed += failed
        if self.bar is not None:
            self.bar.update(runs)
            self.bar.set_postfix(failed=self.failed, refresh=False)
        elif self.mode == "plain" and time.monotonic() - self.last_line >= LINE_INTERVAL_SECONDS:
            self.print_line()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.mode == "plain":
            self.print_line()

    def print_line(self) -> None:
        self.last_line = time.monotonic()
        elapsed = self.last_line - self.started
        rate = (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 else "?"
        print(f"sweep: {self.done}/{self.total} runs ({100 * self.done / max(self.total, 1):.0f}%)"
              f", {self.failed} failed, {rate:.1f} runs/s, ETA {eta}", file=self.stream,
              flush=True)
