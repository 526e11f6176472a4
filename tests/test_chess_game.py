"""ChessState's repetition keys are exact."""

from __future__ import annotations

from engine.games.chess_game import ChessState


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
