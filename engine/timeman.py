"""Time management: turn a clock into a per-move budget that never flags.

Works for UCI (wtime/btime/winc/binc/movestogo), USI (plus byoyomi) and GTP
(main time + Canadian byo-yomi, given as the same fields). All times in ms.

The budget is ``soft`` (aim: stop here, earlier if the best move is settled) and
``hard`` (never think past this). The move overhead — GUI and pipe latency plus
our own reaction time — is kept in reserve on every move.

>>> b = allocate(Clock(time_ms=60_000, inc_ms=0), overhead_ms=100)
>>> 0 < b.soft_ms <= b.hard_ms < 60_000
True
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    """The side to move's clock."""

    time_ms: float
    inc_ms: float = 0.0
    moves_to_go: int | None = None
    byoyomi_ms: float = 0.0


@dataclass(frozen=True)
class Budget:
    """How long to think on this move, in ms."""

    soft_ms: float
    hard_ms: float


#: moves assumed left in sudden death when the game's ply is unknown
DEFAULT_MOVES_LEFT = 20
#: the moves-left curve (lc0's "legacy" time manager: midpoint 51.5, steepness 7): ``mid`` moves
#: left at the start, counting down through the middlegame and levelling off late. Chess only
#: for now; shogi keeps DEFAULT_MOVES_LEFT until the curve is measured there
MOVES_LEFT_MIDPOINT = {"chess": 51.5}
MOVES_LEFT_STEEPNESS = 7.0
#: never plan to use more than this fraction of the remaining main time on one move
MAX_FRACTION = 0.25
#: the soft budget may stretch by this much when the search is unstable (hard cap)
HARD_OVER_SOFT = 3.0
#: below this much usable time, move almost at once
MIN_THINK_MS = 5.0


def estimated_moves_left(ply: int, midpoint: float, steepness: float = MOVES_LEFT_STEEPNESS) -> float:
    """Moves the side to move still expects to play, from the game's ply.

    ``midpoint`` at the start; it falls by about a move per move early and levels off
    late, so a long game never plans on its last move.

    >>> round(estimated_moves_left(0, 40.0), 1), round(estimated_moves_left(80, 40.0), 1)
    (40.0, 6.8)
    """
    moves = ply / 2.0
    return midpoint * (1.0 + 2.0 * (moves / midpoint) ** steepness) ** (1.0 / steepness) - moves


def allocate(clock: Clock, *, overhead_ms: float, moves_left: float | None = None) -> Budget:
    """Budget for one move from the side to move's clock.

    The plan spreads the main time (less the overhead) plus the increments still to come over
    ``moves_left`` moves (``clock.moves_to_go`` when the control has one).
    """
    left = max(1.0, clock.moves_to_go or moves_left or DEFAULT_MOVES_LEFT)
    usable = max(0.0, clock.time_ms - overhead_ms)
    byo = max(0.0, clock.byoyomi_ms - overhead_ms) if clock.byoyomi_ms > 0 else 0.0
    if clock.moves_to_go == 1:
        # the control ends with this move: use most of what is there, keep the overhead
        soft = usable * 0.8 + clock.inc_ms * 0.5
        hard = usable * 0.9
    else:
        # the increments of the moves after this one are time we will have; this one's comes late
        soft = (usable + clock.inc_ms * (left - 1)) / left + clock.inc_ms * 0.75
        hard = min(usable * MAX_FRACTION + clock.inc_ms * 0.75, soft * HARD_OVER_SOFT)
    # never plan past the main time still there (the increment arrives after the move)
    cap = max(0.0, usable - overhead_ms)
    soft, hard = min(soft, cap), min(hard, cap)
    if byo > 0:
        # byoyomi is lost if unused: think at least that long, never past main time + byoyomi
        soft = max(soft, byo)
        hard = max(hard, byo)
        hard = min(hard, usable + byo)
        soft = min(soft, hard)
    soft = max(soft, min(MIN_THINK_MS, hard)) if hard > 0 else 0.0
    return Budget(soft_ms=soft, hard_ms=max(hard, soft))


def movetime_budget(movetime_ms: float, overhead_ms: float) -> Budget:
    """``go movetime``: exact, less the overhead (and at least a token amount)."""
    t = max(1.0, movetime_ms - overhead_ms)
    return Budget(soft_ms=t, hard_ms=t)
