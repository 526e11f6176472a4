"""The interface every engine client implements: one engine process for one board, and its answer."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from .spec import EngineSpec, Limits


@dataclass
class MoveAnswer:
    """An engine's answer: move text (or ``resign``/``win``), score, depth, time."""

    move: str | None
    seconds: float
    score_cp: int | None = None
    mate: int | None = None
    depth: int | None = None


class Player:
    """One engine process for one board; restarted after it breaks."""

    def __init__(self, spec: EngineSpec, limits: Limits, *, start_timeout: float = 30.0,
                 stderr: int | None = subprocess.DEVNULL) -> None:
        self.spec = spec
        self.limits = limits
        self.start_timeout = start_timeout
        self.stderr = stderr
        self.starts = 0

    @property
    def name(self) -> str:
        """The engine's display name."""
        return self.spec.name

    def ensure_started(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def kill(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def quit(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError
