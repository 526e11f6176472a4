"""A stand-in for stdout that protocol tests read back, line by line, across threads."""

from __future__ import annotations

import threading
import time


class Sink:
    """Collects written lines; waits for one that starts with a prefix."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cond = threading.Condition()

    def write(self, text: str) -> None:
        with self.cond:
            self.lines.extend(text.splitlines())
            self.cond.notify_all()

    def flush(self) -> None:
        pass

    def starting(self, prefix: str) -> list[str]:
        with self.cond:
            return [ln for ln in self.lines if ln.startswith(prefix)]

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = [ln for ln in self.lines if ln.startswith(prefix)]
                if len(hits) >= count:
                    return hits
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {prefix!r} in {self.lines[-20:]}")
                self.cond.wait(left)
