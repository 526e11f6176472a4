"""The pass and resign rules around the search: which root moves to search, when to pass, when to resign.

* **No pass while behind**: when the Tromp–Taylor score of the board says the side
  to move would lose, pass is taken out of the root moves as long as some legal
  move does not fill one of its own eyes.
* **Pass to end a won game**: when the opponent just passed and the game is won as
  :func:`wins_as_scored` judges it, pass at once, without a search.
* **Pass veto**: when the search picks pass but :func:`wins_as_scored` says the game
  is not won (the score with estimated dead stones removed says we lose, or the net
  rates the position after our pass above :data:`PASS_VETO_VALUE` for the opponent),
  search again without pass and without our own eyes.
* **Cleanup** (``kgs-genmove_cleanup``): no pass while the dead-stone estimate still
  sees dead opponent stones or neutral points remain; own eyes are never searched.
* **Resign** when the best move's winrate is below the threshold (per mille) after at
  least the minimum root visits; never in cleanup.

The search itself is a callback, so the front end keeps its own limits and output:

>>> from tabula.engine.controller import Engine
>>> from tabula.engine.games.go import GoState
>>> s = GoState(9, 7.5); s.push(s.nn)  # Black passed; White leads by komi
>>> choose_move(s, GoNetwork(Engine("go")), lambda moves: (None, None), cleanup=False, aside_s=0.05).move
81
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tabula.engine.controller import Report
from tabula.engine.games.go import BLACK, GoState

from .eyes import useful_moves
from .network import GoNetwork
from .playouts import dead_stones, score_without

#: no pass when the net rates the position after it above this for the opponent
PASS_VETO_VALUE = 0.25

#: runs one search over the given root moves ([]: all legal moves); returns (best move, final report)
SearchFn = Callable[[list[int]], "tuple[int | None, Report | None]"]


@dataclass
class MoveChoice:
    """The move to play (pass is ``N*N``), or ``None`` to resign, with the search's final report."""

    move: int | None
    report: Report | None = None


def winrate(q: float) -> float:
    """Winrate in [0, 1] of a mean value ``q`` in [−1, 1]."""
    return min(1.0, max(0.0, (1.0 + q) / 2.0))


def opponent_passed(state: GoState) -> bool:
    """The last move was the opponent's pass, so a pass now ends the game."""
    hist = state.move_history()
    return bool(hist) and hist[-1][1] == state.nn and hist[-1][0] != state.turn


def wins_as_scored(state: GoState, network: GoNetwork, seconds: float) -> bool:
    """Passing is safe for the side to move: it wins by area as the board stands, with the
    estimated dead stones removed, and the net does not give the game to the opponent after
    the pass (a net trained on scored games sees dead stones that random playouts miss)."""
    sign = 1.0 if state.turn == BLACK else -1.0
    if sign * state.score() <= 0:
        return False
    after = state.copy()
    after.push(state.nn)
    v = network.value(after)
    if v is not None and v > PASS_VETO_VALUE:
        return False
    dead, _ = dead_stones(state, network.ownership(state, seconds))
    return sign * score_without(state, dead) > 0


def root_moves(state: GoState, network: GoNetwork, cleanup: bool, seconds: float) -> list[int]:
    """Moves to search ([] for all legal moves) under the no-pass-while-behind and cleanup rules."""
    legal = list(state.legal_moves())
    nn = state.nn
    stone = state.turn + 1
    board = state.board_list()
    useful = useful_moves(state)
    if not useful:
        return []
    if cleanup:
        dead, _ = dead_stones(state, network.ownership(state, seconds))
        opp_dead = any(board[g[0]] == 3 - stone for g in dead)
        tt = state.area_ownership()
        dame = any(tt[m] == 0 for m in useful)
        return useful if opp_dead or dame else useful + [nn]
    margin = state.score() if state.turn == BLACK else -state.score()
    if margin < 0:
        return [m for m in legal if m != nn]
    return []


def resigns(report: Report | None, threshold_permille: int, min_visits: int) -> bool:
    """The best move's winrate is below ``threshold_permille`` (0: never) after ``min_visits`` root visits."""
    if report is None or not report.lines or threshold_permille <= 0:
        return False
    w = winrate(report.lines[0].q)
    return report.stats.nodes >= min_visits and 1000 * w < threshold_permille


def choose_move(state: GoState, network: GoNetwork, search: SearchFn, *, cleanup: bool, aside_s: float,
                resign_permille: int = 0, resign_min_visits: int = 1) -> MoveChoice:
    """The move for the side to move of ``state`` under the rules above (``state`` is left as it is).

    ``aside_s`` bounds the net-free playouts of each dead-stone estimate; ``search`` runs
    the searches (at most two: the second without pass after a veto).
    """
    nn = state.nn
    report: Report | None = None
    best: int | None
    if not cleanup and opponent_passed(state) and wins_as_scored(state, network, aside_s):
        best = nn
    else:
        moves = root_moves(state, network, cleanup, aside_s)
        if moves == [nn] or (not moves and list(state.legal_moves()) == [nn]):
            best = nn
        else:
            best, report = search(moves)
            if best == nn and report is not None and not cleanup and not wins_as_scored(state, network, aside_s):
                useful = useful_moves(state)  # search again without pass (and own eyes)
                if useful:
                    best, report = search(useful)
    if best is None:
        best = nn
    if not cleanup and resigns(report, resign_permille, resign_min_visits):
        return MoveChoice(None, report)
    return MoveChoice(best, report)


__all__ = ["MoveChoice", "PASS_VETO_VALUE", "SearchFn", "choose_move", "opponent_passed", "resigns",
           "root_moves", "wins_as_scored", "winrate"]
