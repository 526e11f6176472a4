"""Tests for the shogi rules adapter (engine/games/shogi_game.py)."""

from __future__ import annotations

import random

import cshogi
import pytest

from tabula.engine.games.base import DRAW, LOSS, WIN, IllegalMoveError, InvalidPositionError
from tabula.engine.games.shogi_game import REPETITION_RESULTS, STARTING_SFEN, ShogiState

#: A quiet Static Rook vs. Double-Wing-ish middlegame reached by the moves below (Black to move).
MIDGAME_MOVES = (
    "7g7f 3c3d 2g2f 8c8d 2f2e 8d8e 6i7h 4a3b 2e2d 2c2d 2h2d P*2c 2d2f 8e8f 8g8f 8b8f P*8g 8f8d "
    "3i3h 7a7b 5i5h 5a5b 3g3f 7c7d 1g1f 1c1d 4g4f 6a6b 3h4g 5c5d 7i6h 6c6d 4i4h 7b6c 6g6f 8a7c "
    "8h7g 2b3c 2i3g 3a2b 4g5f 4c4d").split()
MIDGAME_SFEN = "l6nl/3gk1gs1/p1ns2bp1/1rppppp1p/9/2PPSPPRP/PPB1P1N2/2GSKG3/LN6L b Pp 43"
MATED_SFEN = "4k4/4G4/4P4/9/9/9/9/9/4K4 w - 1"  # White king 5a under a protected gold: mate
#: Black's king in White's camp with 10 pieces there and 28 points (20 on board + 2 pawns in hand).
NYUGYOKU_SFEN = "RRBBGGGGK/SS7/9/9/9/9/9/9/4k4 b 2P 1"


def play(state: ShogiState, moves: str | list[str]) -> ShogiState:
    for text in (moves.split() if isinstance(moves, str) else moves):
        state.push(state.parse_move(text))
    return state


def random_states(n_games: int = 12, plies: int = 120, seed: int = 1):
    """Positions along seeded random games (yields the live state: copy it to keep it)."""
    rng = random.Random(seed)
    for _ in range(n_games):
        s = ShogiState(max_moves=0)
        for _ in range(plies):
            moves = s.legal_moves()
            if not moves:
                break
            yield s
            s.push(rng.choice(moves))


# -- construction ------------------------------------------------------------------------
def test_startpos():
    s = ShogiState()
    assert s.game == "shogi"
    assert s.sfen() == STARTING_SFEN == s.start_sfen
    assert len(s.legal_moves()) == 30
    assert s.turn == 0 and s.ply == 0
    assert s.terminal() is None and not s.in_check() and not s.declaration_win()


def test_sfen_round_trip_and_midgame():
    s = play(ShogiState(), MIDGAME_MOVES)
    assert s.sfen() == MIDGAME_SFEN
    t = ShogiState(MIDGAME_SFEN)
    assert t.sfen() == MIDGAME_SFEN and t.key() == s.key()
    assert sorted(t.legal_moves()) == sorted(s.legal_moves())
    assert ShogiState("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b -").sfen() == STARTING_SFEN


@pytest.mark.parametrize("sfen, reason", [
    ("garbage", "3 or 4 fields"),
    ("lnsgkgsnl/9/9 b - 1", "9 ranks"),
    ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL x - 1", "side to move"),
    ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSN b - 1", "has 8 squares"),
    ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNLL b - 1", "more than 9"),
    ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNX b - 1", "unknown piece"),
    ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNS+GKGSNL b - 1", "promotable"),
    ("lnsg1gsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b - 1", "one king per side"),
    ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKKSNL b - 1", "one king per side"),
    ("4k4/9/9/9/9/9/4P4/4P4/4K4 b - 1", "nifu"),
    ("4k4/9/9/9/9/9/9/9/4K4 b 19P 1", "at most 18"),
    ("4k4/9/9/9/9/9/9/9/4K4 b 5G 1", "at most 4"),
    ("4k4/9/9/9/9/9/9/9/4K4 b 2x 1", "hand"),
    ("P3k4/9/9/9/9/9/9/9/4K4 b - 1", "can never move"),
    ("4k4/9/9/9/9/9/9/9/n3K4 b - 1", "can never move"),
    ("4k4/9/9/9/9/9/9/9/4K4 b - 0", "move number"),
    ("4k4/4R4/9/9/9/9/9/9/4K4 b - 1", "not to move) is in check"),
])
def test_bad_sfen_messages(sfen, reason):
    with pytest.raises(InvalidPositionError) as exc:
        ShogiState(sfen)
    assert repr(sfen) in str(exc.value) and reason in str(exc.value)


def test_unusual_but_legal_sfens_accepted():
    ShogiState("4k4/9/9/9/9/9/9/9/4K4 w 18P4L4N4S4G2B2R 1")  # all pieces in hand
    ShogiState("+P3k4/9/9/9/9/9/9/9/4K4 b - 1")  # promoted pawn on the last rank
    ShogiState("4k4/9/9/9/9/9/9/9/4K4 w - 1")


# -- push / pop / copy -------------------------------------------------------------------
def test_push_pop_restores_position():
    rng = random.Random(7)
    s = ShogiState(max_moves=0)
    trail = []
    for _ in range(150):
        moves = s.legal_moves()
        if not moves:
            break
        trail.append((s.sfen(), s.key(), list(moves)))
        s.push(rng.choice(moves))
    assert s.ply == len(trail)
    for sfen, key, moves in reversed(trail):
        s.pop()
        assert (s.sfen(), s.key(), list(s.legal_moves())) == (sfen, key, moves)
    assert s.ply == 0 and s.sfen() == STARTING_SFEN
    with pytest.raises(IndexError):
        s.pop()


def test_pop_returns_move_and_cache_invalidated():
    s = ShogiState()
    first = list(s.legal_moves())
    m = s.parse_move("7g7f")
    s.push(m)
    assert list(s.legal_moves()) != first
    assert s.pop() == m
    assert list(s.legal_moves()) == first


def test_copy_is_independent_and_keeps_history():
    s = play(ShogiState(), "5i5h 5a5b 5h5i")
    c = s.copy()
    assert c.sfen() == s.sfen() and c.ply == 3 and c.moves_played() == s.moves_played()
    play(c, "5b5a")
    assert c.terminal() == DRAW  # repetition seen through the copied history
    assert s.ply == 3 and s.terminal() is None
    c.pop(); c.pop(); c.pop(); c.pop()
    assert c.sfen() == STARTING_SFEN and s.ply == 3


# -- terminal ----------------------------------------------------------------------------
def test_repetition_is_a_draw_inside_a_push_sequence():
    s = ShogiState()
    for text in "5i5h 5a5b 5h5i".split():
        play(s, text)
        assert s.terminal() is None
    play(s, "5b5a")  # start position again, Black to move
    assert s.terminal() == DRAW
    play(s, "2g2f")
    assert s.terminal() is None
    s.pop()
    assert s.terminal() == DRAW


def test_repetition_window():
    s = play(ShogiState(repetition_plies=2), "5i5h 5a5b 5h5i 5b5a")
    assert s.terminal() is None  # a window under 4 plies can never see a repetition
    tour = "5i5h 5a5b 5h4h 5b4b 4h5h 4b5b 5h5i 5b5a"  # the kings walk a loop: start again after 8 plies
    assert play(ShogiState(repetition_plies=6), tour).terminal() is None
    assert play(ShogiState(repetition_plies=8), tour).terminal() == DRAW
    assert play(ShogiState(), tour).terminal() == DRAW


def test_perpetual_check_loses_for_the_checker():
    # Black's rook checks along files 1 and 2 while White's king steps between 1a and 2b.
    s = ShogiState("8k/9/9/9/9/9/9/9/K6R1 b - 1")
    play(s, "2i1i 1a2b 1i2i")
    assert s.terminal() is None
    play(s, "2b1a")  # Black to move, position repeated, Black checked throughout
    assert s.terminal() == LOSS
    play(s, "2i1i")  # White to move, in check, same position as after the first move
    assert s.in_check() and s.terminal() == WIN


def test_repetition_codes_mapping():
    assert REPETITION_RESULTS == {
        cshogi.REPETITION_DRAW: DRAW, cshogi.REPETITION_WIN: WIN, cshogi.REPETITION_LOSE: LOSS,
        cshogi.REPETITION_SUPERIOR: WIN, cshogi.REPETITION_INFERIOR: LOSS}


def test_checkmate_is_a_loss():
    s = ShogiState(MATED_SFEN)
    assert s.in_check() and list(s.legal_moves()) == [] and s.terminal() == LOSS


def test_mate_search():
    s = ShogiState("4k4/9/4P4/9/9/9/9/9/4K4 b G 1")
    m = s.mate_move(1)
    assert m is not None and s.move_to_text(m) == "G*5b" and m in s.legal_moves()
    m3 = s.mate_move(3)
    assert m3 is not None and m3 in s.legal_moves()
    s.push(m)
    assert s.terminal() == LOSS
    assert ShogiState().mate_move(1) is None and ShogiState().mate_move(3) is None
    with pytest.raises(ValueError):
        ShogiState().mate_move(2)


def test_entering_king_declaration():
    s = ShogiState(NYUGYOKU_SFEN)
    assert s.declaration_win() and s.terminal() == WIN
    short = ShogiState(NYUGYOKU_SFEN.replace("2P", "P"))  # 27 points: Black needs 28
    assert not short.declaration_win() and short.terminal() is None


def test_max_moves_draw():
    s = ShogiState(max_moves=4)
    play(s, "7g7f 3c3d 2g2f")
    assert s.terminal() is None
    play(s, "8c8d")
    assert s.terminal() == DRAW
    s = ShogiState(STARTING_SFEN.replace(" 1", " 10"), max_moves=10)  # 9 moves already played
    assert s.terminal() is None
    play(s, "7g7f")
    assert s.terminal() == DRAW
    assert play(ShogiState(max_moves=0), "7g7f 3c3d 2g2f 8c8d").terminal() is None
    # a mate on the last move still counts as a mate
    assert ShogiState(MATED_SFEN.replace(" 1", " 600")).terminal() == LOSS


# -- notation ----------------------------------------------------------------------------
def test_usi_round_trip_on_random_positions():
    for s in random_states(6, 100):
        for m in s.legal_moves():
            text = s.move_to_text(m)
            assert s.parse_move(text) == m
            assert s.is_legal(m)


def test_usi_notation_examples():
    s = play(ShogiState(), "7g7f 3c3d")
    promo, plain = s.parse_move("8h2b+"), s.parse_move("8h2b")
    assert promo != plain and s.move_to_text(promo) == "8h2b+" and s.move_to_text(plain) == "8h2b"
    play(s, "8h2b+ 3a2b B*4e")
    assert s.move_to_text(s.board.peek()) == "B*4e"
    assert s.parse_move(" 5c5d ") == s.parse_move("5c5d")


@pytest.mark.parametrize("sfen, text, reason", [
    (STARTING_SFEN, "7g7e", "not a legal move"),
    (STARTING_SFEN, "e2e4", "not USI notation"),
    (STARTING_SFEN, "7g7f++", "not USI notation"),
    (STARTING_SFEN, "p*5e", "not USI notation"),
    (STARTING_SFEN, "", "not USI notation"),
    (STARTING_SFEN, "P*5e", "no P in hand"),
    (STARTING_SFEN, "5e5d", "no piece on 5e"),
    (STARTING_SFEN, "5c5d", "belongs to the opponent"),
    (STARTING_SFEN, "7g7f+", "not a legal move"),
    ("kn7/9/1G7/9/9/9/9/9/8K b P 1", "P*9b", "uchifuzume"),
    ("4k4/9/9/9/9/9/4P4/9/4K4 b P 1", "P*5e", "nifu"),
    ("4k4/9/9/9/9/9/9/9/4K4 b P 1", "P*1a", "last rank"),
    ("4k4/9/9/9/9/9/9/9/4K4 b P 1", "P*5i", "occupied"),
    ("4k4/9/9/9/9/9/9/4r4/4K4 b G 1", "G*3e", "does not answer the check"),
    ("4k4/9/9/9/4r4/9/9/9/4K4 b G 1", "5i5h", "does not answer the check"),
    ("4k4/9/9/9/9/9/9/9/4K4 b N 1", "N*5b", "not a legal drop"),
])
def test_illegal_move_messages(sfen, text, reason):
    s = ShogiState(sfen)
    with pytest.raises(IllegalMoveError) as exc:
        s.parse_move(text)
    msg = str(exc.value)
    assert repr(text) in msg and s.sfen() in msg and reason in msg, msg


def test_pawn_drop_check_that_is_not_mate_is_legal():
    s = ShogiState("kn7/9/9/9/9/9/9/9/8K b P 1")  # no gold guarding 9b: the king can take
    m = s.parse_move("P*9b")
    assert s.move_to_text(m) == "P*9b"


# -- hashing -----------------------------------------------------------------------------
def test_key_follows_position_not_path():
    a = play(ShogiState(), "7g7f 3c3d 2g2f")
    b = play(ShogiState(), "2g2f 3c3d 7g7f")
    assert a.key() == b.key() and a.sfen().split()[:3] == b.sfen().split()[:3]
    assert a.key() != ShogiState().key()
    assert ShogiState("4k4/9/9/9/9/9/9/9/4K4 b - 1").key() != ShogiState("4k4/9/9/9/9/9/9/9/4K4 w - 1").key()
    assert ShogiState("4k4/9/9/9/9/9/9/9/4K4 b P 1").key() != ShogiState("4k4/9/9/9/9/9/9/9/4K4 b - 1").key()
