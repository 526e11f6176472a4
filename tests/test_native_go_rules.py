"""The compiled go rules (engine/native/go_rules.py via NativeGoState) against go.py."""

from __future__ import annotations

import numpy as np
import pytest

from tabula.bench.go_lockstep import run
from tabula.engine.games.base import IllegalMoveError
from tabula.engine.games.go import WHITE, GoState, handicap_points, parse_vertex
from tabula.engine.native import go_rules as gr
from tabula.engine.native.go_state import NativeGoState

KO = [
    ". . . . .",
    ". X O . .",
    "X O . O .",
    ". X O . .",
    ". . . . .",
]


def diagram(rows: list[str], komi: float = 0.0) -> GoState:
    """Rows top (row N) first: X black, O white."""
    n = len(rows)
    black, white = [], []
    for i, line in enumerate(rows):
        r = n - 1 - i
        for c, ch in enumerate(line.split()):
            (black if ch == "X" else white if ch == "O" else []).append(r * n + c)
    return GoState(n, komi, black=black, white=white)


def play_both(ref: GoState, nat: NativeGoState, text: str) -> None:
    for v in text.split():
        m = ref.parse_move(v)
        assert nat.parse_move(v) == m
        ref.push(m)
        nat.push(m)
        assert list(ref.legal_moves()) == list(nat.legal_moves())
        assert ref.board_list() == nat.board_list() and ref.position_hash == nat.position_hash


@pytest.mark.parametrize("sizes,games,seed", [
    ([2, 3, 4, 5, 6, 7], 150, 1),
    pytest.param([9, 13, 19], 24, 2, marks=pytest.mark.slow),  # 3 s of the reference rules' Python
])
def test_lockstep_random_games(sizes, games, seed):
    tally = run(games, sizes, seed)
    assert tally.games == games and tally.captures > 0
    if sizes[0] == 2:
        assert tally.superko_refusals > 0


def test_superko_cycle_and_non_capturing_repeat_2x2():
    ref = GoState(2, 0.0)
    nat = NativeGoState.from_state(ref)
    play_both(ref, nat, "A1 B2 B1 A2 A1 B1")
    assert nat.legal_moves() == [nat.PASS]
    with pytest.raises(IllegalMoveError, match="superko"):
        nat.parse_move("A1")
    ref, nat = GoState(2, 0.0), NativeGoState(2, 0.0)
    play_both(ref, nat, "A2 B1 A1 B2 A1 A2 A1 B1")
    assert parse_vertex("A2", 2) not in nat.legal_moves()


def test_ko_threats_passes_and_out_of_turn():
    ref = diagram(KO)
    nat = NativeGoState.from_state(ref)
    play_both(ref, nat, "C3")
    b3 = parse_vertex("B3", 5)
    assert b3 not in nat.legal_moves()
    k_banned = nat.key()
    play_both(ref, nat, "E5 E4 B3")
    for _ in range(3):
        assert nat.pop() == ref.pop()
    assert b3 not in nat.legal_moves() and nat.key() == k_banned
    play_both(ref, nat, "pass pass")
    assert nat.turn == WHITE and b3 not in nat.legal_moves()
    nat.set_turn("b")
    assert b3 in nat.legal_moves()
    with pytest.raises(IllegalMoveError, match="superko"):
        nat.play_color("w", b3)


def test_suicide_and_capture_that_looks_like_suicide():
    ref = diagram([
        ". X . . .",
        "X . . . .",
        "O . . . .",
        "O X . . .",
        ". O X . .",
    ])
    nat = NativeGoState.from_state(ref)
    a5, a1 = parse_vertex("A5", 5), parse_vertex("A1", 5)
    assert a5 in nat.legal_moves() and a1 in nat.legal_moves()  # own eye; a capture
    nat.push(a1)
    ref.push(a1)
    assert nat.board_list() == ref.board_list() and nat.board_list()[1] == 0  # B1 taken
    assert a5 not in nat.legal_moves() and not nat.is_legal(a5)  # White's suicide
    with pytest.raises(IllegalMoveError, match="suicide"):
        nat.parse_move("A5")
    assert list(ref.legal_moves()) == list(nat.legal_moves())


def test_setup_handicap_turns_and_round_trip():
    ref = GoState(9, 6.5, black=handicap_points(9, 4), to_move=WHITE)
    ref.push(ref.parse_move("E5"))
    ref.set_turn("w")
    ref.play_color("w", parse_vertex("D6", 9))
    nat = NativeGoState.from_state(ref)
    assert (nat.turn, nat.ply, nat.komi) == (ref.turn, ref.ply, ref.komi)
    assert nat.move_history() == ref.move_history()
    back = nat.to_state()
    assert back.board_list() == ref.board_list() and back.move_history() == ref.move_history()
    assert back.turn == ref.turn and back.hash_history() == ref.hash_history()
    nat.pop()
    ref.pop()
    assert nat.turn == ref.turn and list(nat.legal_moves()) == list(ref.legal_moves())


def test_copy_is_independent_and_history_grows():
    nat = NativeGoState(5, 0.5)
    for _ in range(3):
        nat.push(nat.legal_moves()[0])
    other = nat.copy()
    other.push(other.legal_moves()[0])
    assert nat.ply == 3 and other.ply == 4
    small = NativeGoState.from_state(GoState(3, 0.0), room=1)
    ref = GoState(3, 0.0)
    for _ in range(40):  # past the room: the history grows
        m = ref.legal_moves()[len(ref.legal_moves()) // 2]
        ref.push(m)
        small.push(m)
    assert small.board_list() == ref.board_list() and list(small.legal_moves()) == list(ref.legal_moves())


def test_scores_and_terminal():
    ref = GoState.from_moves(9, 7.5, ["C3", "pass", "pass"])
    nat = NativeGoState.from_state(ref)
    assert nat.terminal() == ref.terminal() == -1.0
    assert nat.final_score() == ref.final_score() and nat.score() == ref.score() == 73.5
    assert np.array_equal(nat.area_ownership(), ref.area_ownership())
