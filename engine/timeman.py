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


#: moves assumed left in sudden death; lower means more time per move early
DEFAULT_MOVES_LEFT = 20
#: never plan to use more than this fraction of the remaining main time on one move
MAX_FRACTION = 0.25
#: the soft budget may stretch by this much when the search is unstable (hard cap)
HARD_OVER_SOFT = 3.0
#: below this much usable time, move almost at once
MIN_THINK_MS = 5.0


def allocate(clock: Clock, *, overhead_ms: float, moves_left: int | None = None) -> Budget:
    """Budget for one move from the side to move's clock."""
    left = clock.moves_to_go or moves_left or DEFAULT_MOVES_LEFT
    left = max(1, left)
    usable = max(0.0, clock.time_ms - overhead_ms)
    byo = max(0.0, clock.byoyomi_ms - overhead_ms) if clock.byoyomi_ms > 0 else 0.0
    if clock.moves_to_go == 1:
        # the control ends with this move: use most of what is there, keep the overhead
        soft = usable * 0.8 + clock.inc_ms * 0.5
        hard = usable * 0.9
    else:
        soft = usable / left + clock.inc_ms * 0.75
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
