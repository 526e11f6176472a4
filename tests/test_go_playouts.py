"""tabula.engine.go.eyes and engine.go.playouts: the eye test, net-free ownership, dead stones, score without them."""

from __future__ import annotations

import doctest

import numpy as np

import tabula.engine.go.eyes as eyes_mod
import tabula.engine.go.playouts as playouts_mod
from tabula.engine.games.go import GoState, parse_vertex
from tabula.engine.go.eyes import is_eye, useful_moves
from tabula.engine.go.playouts import dead_stones, estimate_ownership, score_without


def test_doctests():
    assert doctest.testmod(eyes_mod).failed == 0 and doctest.testmod(playouts_mod).failed == 0


def test_is_eye():
    n = 9
    b = [0] * 81
    for v in ("B1", "A2", "C2", "B3", "C1", "A3"):
        b[parse_vertex(v, n)] = 1
    assert is_eye(b, parse_vertex("B2", n), 1, n)
    b[parse_vertex("C3", n)] = 2  # one bad diagonal in the middle is fine
    assert is_eye(b, parse_vertex("B2", n), 1, n)
    b[parse_vertex("A1", n)] = 2
    assert not is_eye(b, parse_vertex("B2", n), 1, n)


def endgame(dead_black: bool = True) -> GoState:
    """9×9, Black to move: Black owns A–E (eyes B2, B8), White F–J (eyes H2, H8); a dead White
    stone at C5 and, with ``dead_black``, a dead Black stone at H5 (as tests/test_gtp.py's endgame_sgf)."""
    n = 9
    black, white = [], []
    holes = {"B2", "B8", "C4", "H2", "H8"} | ({"H4"} if dead_black else set())
    for row in range(1, 10):
        for col in "ABCDEFGHJ":
            v = f"{col}{row}"
            if v in holes:
                continue
            if v == "C5" or (col not in "ABCDE" and not (v == "H5" and dead_black)):
                white.append(parse_vertex(v, n))
            else:
                black.append(parse_vertex(v, n))
    return GoState(n, 7.5, black=black, white=white)


def test_dead_stones_and_the_score_without_them():
    for dead_black, tt in ((False, -1.5), (True, 1.5)):
        s = endgame(dead_black)
        assert s.score() == tt
        dead, alive = dead_stones(s)
        assert sorted(p for g in dead for p in g) == sorted(
            parse_vertex(v, 9) for v in (["C5", "H5"] if dead_black else ["C5"]))
        assert len(alive) == 2 and score_without(s, dead) == 1.5


def test_ownership_is_deterministic_and_leaves_the_state_alone():
    s = endgame()
    before = (s.board_list(), s.ply)
    a, b = estimate_ownership(s, 16), estimate_ownership(s, 16)
    assert np.array_equal(a, b) and a.shape == (81,) and (s.board_list(), s.ply) == before
    assert a[parse_vertex("A1", 9)] == 1.0 and a[parse_vertex("J9", 9)] == -1.0


def test_useful_moves_leave_out_pass_and_own_eyes():
    moves = useful_moves(endgame())
    assert 81 not in moves and parse_vertex("B2", 9) not in moves and parse_vertex("C4", 9) in moves
