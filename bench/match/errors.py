"""The match's two errors: a match that cannot be set up, and an engine that broke a game."""

from __future__ import annotations


class MatchError(RuntimeError):
    """The match cannot be set up (bad engine spec, engine does not start, bad openings…)."""


class EngineFailure(RuntimeError):
    """An engine broke the game: crash, timeout, illegal move, protocol error.

    ``kind`` is one of ``crash``, ``time``, ``illegal``, ``protocol``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
