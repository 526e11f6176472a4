"""The rules every referee shares: score and length adjudication, move timeouts, how a game ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .errors import EngineFailure
from .openings import Opening
from .player import Player
from .records import Clock, GameRecord, MoveRecord


@dataclass(frozen=True)
class Adjudication:
    """Ending games by score and length (off by default).

    * resign: a side whose own score stays at or below ``-resign_score`` centipawns for
      ``resign_moves`` of its consecutive moves loses;
    * draw: from move ``draw_movenumber`` on, when both sides' scores stay within
      ``±draw_score`` for ``draw_moves`` consecutive moves each, the game is drawn;
    * max_moves: the game is drawn after that many moves (chess: full moves; shogi: plies,
      as each game counts them).
    """

    resign_moves: int = 0
    resign_score: int = 1000
    draw_movenumber: int = 40
    draw_moves: int = 0
    draw_score: int = 10
    max_moves: int = 0


def _score_cp(m: MoveRecord) -> float | None:
    if m.book:
        return None
    if m.mate is not None:
        return 100_000.0 if m.mate > 0 else -100_000.0
    return None if m.score_cp is None else float(m.score_cp)


def adjudicate(moves: Sequence[MoveRecord], rules: Adjudication, move_number: int) -> tuple[str, int | None] | None:
    """Check the last moves: ``("resign", loser_offset)`` or ``("draw", None)`` or None.

    ``loser_offset`` is 0 when the side that just moved resigns, 1 for its opponent (never:
    only a mover's own scores count). ``move_number`` is the game's current move number.
    """
    if rules.resign_moves > 0 and len(moves) >= 2 * rules.resign_moves - 1:
        own = [_score_cp(m) for m in moves[::-1][::2][: rules.resign_moves]]
        if len(own) == rules.resign_moves and all(s is not None and s <= -rules.resign_score for s in own):
            return "resign", 0
    if rules.draw_moves > 0 and move_number >= rules.draw_movenumber and len(moves) >= 2 * rules.draw_moves:
        last = [_score_cp(m) for m in moves[-2 * rules.draw_moves:]]
        if all(s is not None and abs(s) <= rules.draw_score for s in last):
            return "draw", None
    return None


@dataclass
class GameSetup:
    """What a referee needs besides the two players."""

    number: int
    pair: int
    opening: Opening
    engine_of_side: tuple[int, int]
    adjudication: Adjudication
    margin: float = 0.1          #: seconds over the clock tolerated (pipe latency)
    move_timeout: float = 60.0   #: seconds per move when no clock bounds it


def timeout_for(player: Player, clock: Clock, setup: GameSetup) -> float:
    lim = player.limits
    if lim.tc.clocked:
        return clock.available() + setup.margin
    if lim.movetime is not None:
        return lim.movetime + setup.margin + min(setup.move_timeout, 5.0 + lim.movetime)
    return setup.move_timeout


def finish(rec: GameRecord, winner_side: int | None, reason: str, termination: str) -> GameRecord:
    rec.winner_side = winner_side
    rec.reason = reason
    rec.termination = termination
    if winner_side is None:
        rec.result = "1/2-1/2"
    else:
        # PGN/CSA results are from the first side's (White/Sente) view
        first_won = winner_side == 0
        rec.result = "1-0" if first_won else "0-1"
    return rec


def failure_result(rec: GameRecord, side: int, names: tuple[str, str], exc: EngineFailure) -> GameRecord:
    what = {"crash": "crashed", "time": "loses on time", "illegal": "makes an illegal move",
            "protocol": "breaks the protocol"}[exc.kind]
    term = {"crash": "abandoned", "time": "time forfeit", "illegal": "rules infraction",
            "protocol": "rules infraction"}[exc.kind]
    return finish(rec, 1 - side, f"{names[side]} {what}: {exc}", term)
