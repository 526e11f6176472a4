"""What a game leaves behind and runs on: move and game records, and each side's clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from .openings import Opening
from .spec import TimeControl


@dataclass
class MoveRecord:
    """One move as played: text, time used, the mover's reported score and depth."""

    move: str
    seconds: float
    score_cp: int | None = None
    mate: int | None = None
    depth: int | None = None
    book: bool = False


@dataclass
class GameRecord:
    """A finished game. ``players[0]`` moved first from the opening's start position."""

    number: int
    pair: int
    players: tuple[str, str]
    engine_of_side: tuple[int, int]  #: index of the engine (0 = first --engine) playing each side
    opening: Opening
    moves: list[MoveRecord] = field(default_factory=list)
    result: str = "*"                #: "1-0", "0-1", "1/2-1/2" (first side's view, PGN style)
    winner_side: int | None = None   #: 0/1 = side that won, None = draw
    reason: str = ""                 #: what ended it, in words ("White mates", "Black loses on time", …)
    termination: str = "normal"      #: normal | adjudication | time forfeit | rules infraction | abandoned
    start_time: str = ""
    start_side: int = 0              #: whose move it was at the start position (0 white/black-sente)
    native: object = None            #: the game as another referee recorded it (go: gtp_referee.Game)

    @property
    def score_first_engine(self) -> float:
        """The game's score for the first engine (``--engine`` #1)."""
        if self.winner_side is None:
            return 0.5
        return 1.0 if self.engine_of_side[self.winner_side] == 0 else 0.0


class Clock:
    """One side's clock under a :class:`TimeControl`, in seconds."""

    def __init__(self, tc: TimeControl) -> None:
        self.tc = tc
        self.remaining = tc.base or 0.0

    def available(self) -> float:
        """Seconds the side may use for this move."""
        return self.remaining + self.tc.byoyomi

    def spend(self, seconds: float, margin: float) -> bool:
        """Charge a move; False when it ran over (flag fell)."""
        if seconds > self.available() + margin:
            return False
        if seconds > self.remaining:
            self.remaining = 0.0
        else:
            self.remaining -= seconds
        self.remaining += self.tc.inc
        return True
