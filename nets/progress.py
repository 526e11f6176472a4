"""Console output shared by the nets pipelines: plain lines and a throttled progress line."""

from __future__ import annotations

import sys
import time


def log(msg: str) -> None:
    """A line on stderr."""
    print(msg, file=sys.stderr, flush=True)


def progress(msg: str) -> None:
    """A progress line on stderr: overwritten on a terminal, one line each in a log."""
    tty = sys.stderr.isatty()
    print(("\r" if tty else "") + msg, end="" if tty else "\n", file=sys.stderr, flush=True)


class Throttle:
    """Says when a progress line is due: every 2 s on a terminal, every 30 s into a log file."""

    def __init__(self) -> None:
        self.every = 2.0 if sys.stderr.isatty() else 30.0
        self.last = 0.0

    def due(self) -> bool:
        """True at most once per interval."""
        now = time.time()
        if now - self.last > self.every:
            self.last = now
            return True
        return False
