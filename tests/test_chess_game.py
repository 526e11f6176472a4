"""ChessState's repetition keys are exact."""

from __future__ import annotations

from tabula.engine.games.chess_game import ChessState


def test_rook_on_a1_is_not_the_rook_on_f8():
    # Python hashes 1 << 61 like 1: a hashed key took Rf8 and Ra1 for the same position
    state = ChessState("5R2/8/7k/8/8/7K/8/8 w - - 0 1")
    start_key = state.key()
    for uci in ("f8f1", "h6g7", "f1a1", "g7h6"):
        state.push(state.parse_move(uci))
    assert state.repetitions[-1] == 0
    assert state.terminal() is None
    assert state.key() != start_key


def test_a_real_repetition_is_still_seen():
    state = ChessState("5R2/8/7k/8/8/7K/8/8 w - - 0 1")
    for uci in ("f8f1", "h6g7", "f1f8", "g7h6"):
        state.push(state.parse_move(uci))
    assert state.repetitions[-1] == 1
    assert state.terminal() == 0.0


def test_two_fold_draw_needs_the_earlier_position_inside_the_search():
    # lc0's TwoFoldDraws: one repetition of a position from before the search root is not a draw
    state = ChessState("5R2/8/7k/8/8/7K/8/8 w - - 0 1")
    state.push(state.parse_move("f8f1"))
    state.set_search_root()
    for uci in ("h6g7", "f1f8", "g7h6"):  # back to the FEN's position, first seen before the root
        state.push(state.parse_move(uci))
    assert state.repetitions[-1] == 1
    assert state.terminal() is None
    for uci in ("f8f1", "h6g7", "f1f8", "g7h6"):  # a third time: a draw wherever the others were
        state.push(state.parse_move(uci))
    assert state.repetitions[-1] == 2
    assert state.terminal() == 0.0


def test_two_fold_inside_the_search_is_a_draw():
    state = ChessState("5R2/8/7k/8/8/7K/8/8 w - - 0 1")
    state.push(state.parse_move("f8f1"))
    state.set_search_root()
    for uci in ("h6g7", "f1f8", "g7h6", "f8f1"):  # the root's own position again
        state.push(state.parse_move(uci))
    assert state.repetitions[-1] == 1 and state.terminal() == 0.0
    assert state.copy().terminal() == 0.0
