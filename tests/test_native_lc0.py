"""The compiled lc0 encoder (engine/native/lc0_encoder.py) and NativeChessState
(engine/native/chess_state.py) against their Python references, engine/codecs/lc0.py and
ChessState: at every ply of seeded random games (standard and Chess960, from the start
position and from FENs, with forced repetitions and en-passant chances) the 112 planes must be
bit-identical, the policy indices equal, and legal moves, terminal() and the key-equality
structure must agree."""

from __future__ import annotations

import random
from collections import Counter

import chess
import numpy as np
import pytest

from tabula.engine.codecs import lc0 as ref
from tabula.engine.codecs.base import NetSignature
from tabula.engine.games.base import IllegalMoveError, InvalidPositionError
from tabula.engine.games.chess_game import ChessState, encode_move
from tabula.engine.native import chess_rules as cr
from tabula.engine.native import lc0_encoder as nl
from tabula.engine.native.chess_state import NativeChessState

CODEC = ref.Lc0Codec(NetSignature(
    "maia.onnx", {"/input/planes": ("batch", 112, 8, 8)},
    {"/output/policy": ("batch", 1858), "/output/wdl": ("batch", 3)}))
STARTPOS_OTHER_COUNTERS = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 7 31"


# -- seeded random games -----------------------------------------------------------------------
def _pick(rng: random.Random, board: chess.Board, moves: list[int], played: list[int]) -> int:
    """A random move, biased towards repetitions (take back one's own last move: knights and
    others shuffling back and forth), en passant (double pushes and ep captures) and captures."""
    r = rng.random()
    if r < 0.3 and len(played) >= 2 and played[-2] >> 12 == 0:
        m = played[-2]
        back = ((m >> 6) & 63) | ((m & 63) << 6)
        if back in moves:
            return back
    if r < 0.4:
        knights = [m for m in moves if board.piece_type_at(m & 63) == chess.KNIGHT]
        if knights:
            return rng.choice(knights)
    if r < 0.55:
        ep = board.ep_square
        pawn = [m for m in moves if board.piece_type_at(m & 63) == chess.PAWN
                and (abs((m >> 6 & 63) - (m & 63)) == 16 or (m >> 6 & 63) == ep)]
        if pawn:
            return rng.choice(pawn)
    if r < 0.75:
        theirs = board.occupied_co[not board.turn]
        forcing = [m for m in moves if m >> 12 or theirs >> ((m >> 6) & 63) & 1]
        if forcing:
            return rng.choice(forcing)
    return rng.choice(moves)


def _start(rng: random.Random, share_960: float, share_fen: float) -> ChessState:
    """A start position: standard or Chess960, from startpos or from a FEN reached by a short
    random game (the FEN's en-passant square written always or only when legal)."""
    chess960 = rng.random() < share_960
    fen = chess.Board.from_chess960_pos(rng.randrange(960)).fen() if chess960 else None
    if rng.random() < share_fen:
        if not chess960 and rng.random() < 0.1:
            return ChessState(STARTPOS_OTHER_COUNTERS)
        state = ChessState(fen, chess960=chess960)
        played: list[int] = []
        for _ in range(rng.randrange(1, 60)):
            moves = state.legal_moves()
            if not moves:
                break
            played.append(_pick(rng, state.board, list(moves), played))
            state.push(played[-1])
        fen = state.board.fen(en_passant=rng.choice(["legal", "fen"]))
    return ChessState(fen, chess960=chess960)


def play_and_compare(n_games: int, seed: int, max_plies: int, share_960: float,
                     share_fen: float) -> Counter:
    """Lockstep games ChessState / NativeChessState; asserts at every ply, returns coverage."""
    rng = random.Random(seed)
    seen: Counter = Counter()
    batch = np.full((3, 112, 8, 8), 7.0, np.float32)    # rows 0, 2 must stay untouched
    ref_to_native: dict[int, int] = {}
    native_to_ref: dict[int, int] = {}
    roots = random.Random(seed + 1)  # where the search root moves (the two-fold rule), apart from the games
    for _ in range(n_games):
        state = _start(rng, share_960, share_fen)
        native = NativeChessState.from_state(state)
        played: list[int] = []
        for _ply in range(max_plies):
            if roots.random() < 0.1:
                state.set_search_root()
                native.set_search_root()
            moves = list(state.legal_moves())
            where = state.fen()
            assert native.legal_moves() == moves, where
            batch[1] = np.nan
            native.encode_lc0(batch[1])
            planes = ref.encode_planes(state)
            assert np.array_equal(batch[1], planes), (where, _diff(batch[1], planes))
            assert np.array_equal(native.lc0_policy_indices(moves),
                                  CODEC.policy_indices(state, moves)), where
            verdict = state.terminal()
            assert native.terminal() == verdict, where
            k_ref, k_nat = state.key(), native.key()
            assert ref_to_native.setdefault(k_ref, k_nat) == k_nat, where
            assert native_to_ref.setdefault(k_nat, k_ref) == k_ref, where
            _count(seen, state, planes)
            if not moves or (verdict is not None and not state.repetitions[-1]):
                break
            played.append(_pick(rng, state.board, moves, played))
            state.push(played[-1])
            native.push(played[-1])
        # take back a few moves: the history (and so the planes) must come back exactly
        for _ in range(min(len(played), rng.randrange(1, 6))):
            assert native.pop() == state.pop()
        native.encode_lc0(batch[1])
        assert np.array_equal(batch[1], ref.encode_planes(state))
        assert native.copy().legal_moves() == list(state.legal_moves())
    assert not np.any(batch[[0, 2]] != 7.0)
    seen["distinct keys"] = len(ref_to_native)
    return seen


def _diff(a: np.ndarray, b: np.ndarray) -> list[int]:
    """The planes that differ (for assertion messages)."""
    return sorted({int(p) for p in np.nonzero(a != b)[0]})


def _count(seen: Counter, state: ChessState, planes: np.ndarray) -> None:
    """Tally what the position exercises, so the tests can show the games reached it."""
    board = state.board
    seen["positions"] += 1
    seen["black to move"] += board.turn == chess.BLACK
    seen["repetition plane"] += bool(planes[12:104:13].any())
    seen["repetition now"] += state.repetitions[-1] > 0
    seen["en passant flag in history"] += any(state.ep_flags[-8:])
    seen["some castling lost"] += 0 < chess.popcount(board.clean_castling_rights()) < 4
    seen["chess960 castling plane"] += board.chess960 and bool(planes[104:108].any())
    seen["fen start"] += not state.from_startpos
    seen["history fill"] += not state.from_startpos and state.ply < 7
    seen["fill with ep pawn"] += not state.from_startpos and state.ply < 7 and state.ep_flags[0] > 0
    seen["promotion move"] += any(m >> 12 for m in state.legal_moves())


REQUIRED = ["black to move", "repetition plane", "repetition now", "en passant flag in history",
            "some castling lost", "chess960 castling plane", "fen start", "history fill",
            "fill with ep pawn", "promotion move"]


def test_random_games_match_reference() -> None:
    # 60 games meet every required case at least 14 times; the slow test below plays 2,500
    seen = play_and_compare(60, seed=11, max_plies=60, share_960=0.3, share_fen=0.4)
    assert all(seen[k] > 0 for k in REQUIRED), seen
    assert seen["distinct keys"] < seen["positions"]     # equal keys occur (transpositions)


@pytest.mark.slow
def test_random_games_match_reference_10000_positions() -> None:
    seen = play_and_compare(2500, seed=12, max_plies=160, share_960=0.4, share_fen=0.4)
    assert seen["positions"] >= 10_000, seen
    assert all(seen[k] >= 20 for k in REQUIRED), seen


# -- directed cases ------------------------------------------------------------------------------
def _encode(state: NativeChessState) -> np.ndarray:
    out = np.empty((112, 8, 8), np.float32)
    state.encode_lc0(out)
    return out


def _pair(fen: str | None, ucis: list[str], chess960: bool = False
          ) -> tuple[ChessState, NativeChessState]:
    state = ChessState(fen, chess960=chess960)
    for u in ucis:
        state.push(state.parse_move(u))
    return state, NativeChessState.from_moves(fen, ucis, chess960=chess960)


def test_fen_en_passant_square_counts_in_repetitions_as_in_chess_state() -> None:
    """A FEN's en-passant square with no capturer beside the pawn: lc0 (so ChessState) keeps
    it in the first position's key, so coming back to the same pieces is no repetition."""
    fen = "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq e3 0 1"
    state, native = _pair(fen, ["g8f6", "g1f3", "f6g8", "f3g1"])
    assert state.repetitions[-1] == 0 and state.terminal() is None
    assert native.terminal() is None and cr.repetition_count(native.pos) == 1  # rules' own hash
    assert np.array_equal(_encode(native), ref.encode_planes(state))
    state.push(state.parse_move("g8f6")), native.push(native.parse_move("g8f6"))
    for u in ["g1f3", "f6g8", "f3g1"]:
        state.push(state.parse_move(u)), native.push(native.parse_move(u))
    assert state.terminal() == native.terminal() == 0.0     # now it does repeat
    assert np.array_equal(_encode(native), ref.encode_planes(state))
    # the same pieces without the FEN's square: a different key in both
    plain = fen.replace(" e3 ", " - ")
    assert ChessState(fen).key() != ChessState(plain).key()
    assert NativeChessState(fen).key() != NativeChessState(plain).key()


@pytest.mark.parametrize("fen", [
    "rnbqkbnr/ppp1pppp/8/8/3pP3/8/PPPP1PPP/RNBQKBNR b KQkq e3 0 3",     # black pawn beside
    "rnbqkbnr/pppp1ppp/8/4p3/8/8/PPPPPPPP/RNBQKBNR w KQkq e6 0 2",       # black pawn pushed
    "rnbqkbnr/pppp1ppp/8/3Pp3/8/8/PPP1PPPP/RNBQKBNR w KQkq e6 0 3",     # white pawn beside
    STARTPOS_OTHER_COUNTERS,
    "4k3/8/8/8/8/8/8/4K2R w K - 12 40",
])
def test_history_fill_from_fen(fen: str) -> None:
    for ucis in ([], None):
        state = ChessState(fen)
        if ucis is None:
            ucis = [state.move_to_text(state.legal_moves()[0])]
        state, native = _pair(fen, ucis)
        assert native.from_startpos == state.from_startpos
        assert np.array_equal(_encode(native), ref.encode_planes(state))


def test_chess960_castling_planes_and_indices() -> None:
    fen = "1r2k2r/8/8/8/8/8/8/R3K1R1 w Ah - 0 1"    # white: a-side only, black: h-side only
    state, native = _pair(fen, [], chess960=True)
    planes = _encode(native)
    assert np.array_equal(planes, ref.encode_planes(state))
    assert [bool(planes[p].all()) for p in range(104, 108)] == [True, False, False, True]
    moves = list(state.legal_moves())
    assert np.array_equal(native.lc0_policy_indices(moves), CODEC.policy_indices(state, moves))
    assert encode_move(chess.Move.from_uci("e1a1")) in moves


def test_policy_table_matches_reference_for_every_code() -> None:
    """All 2**15 move codes, both colours, castling variant on and off."""
    codes = np.arange(2 ** 15, dtype=np.int64)
    cases = [("4k3/8/8/8/8/8/8/4K3 w - - 0 1", False, False, True),
             ("4k3/8/8/8/8/8/8/4K3 b - - 0 1", False, True, True),
             ("3k4/8/8/8/8/8/8/3K4 w - - 0 1", False, False, False),
             ("3k4/8/8/8/8/8/8/3K4 b - - 0 1", False, True, False),
             ("4k3/8/8/8/8/8/8/4K3 w - - 0 1", True, False, False),
             ("4k3/8/8/8/8/8/8/4K3 b - - 0 1", True, True, False)]
    for fen, chess960, black, castling in cases:
        pos = cr.from_fen(fen, chess960=chess960)
        assert np.array_equal(nl.policy_indices(pos, codes), ref._TABLES[black][castling]), fen


def test_encode_fills_a_batch_row_in_place() -> None:
    state, native = _pair(None, ["e2e4", "c7c5", "g1f3"])
    batch = np.full((4, 112, 8, 8), -3.0, np.float32)
    nl.encode(native.pos, batch[2])
    assert np.array_equal(batch[2], ref.encode_planes(state))
    assert (batch[[0, 1, 3]] == -3.0).all()


# -- NativeChessState itself -----------------------------------------------------------------------
def test_state_api_matches_chess_state() -> None:
    state, native = _pair(None, ["e2e4", "e7e5", "g1f3"])
    assert native.game == "chess" and native.ply == state.ply == 3 and native.turn == state.turn == 1
    assert native.fen() == state.fen()
    assert native.parse_move("b8c6") == state.parse_move("b8c6")
    assert native.move_to_text(native.parse_move("b8c6")) == "b8c6"
    assert native.move_to_text(0) == "0000"
    with pytest.raises(IllegalMoveError):
        native.parse_move("e1e3")
    with pytest.raises(InvalidPositionError):
        NativeChessState("8/8/8/8/8/8/8/8 w - - 0 1")
    with pytest.raises(IllegalMoveError):
        NativeChessState.from_moves(None, [encode_move(chess.Move.from_uci("e2e5"))])
    board = native.to_board()
    assert board.move_stack == state.board.move_stack and board.fen() == state.fen()
    assert native.ply == 3 and native.fen() == state.fen()     # to_board leaves the state as it was
    twin = native.copy()
    twin.push(twin.parse_move("b8c6"))
    assert native.ply == 3 and twin.ply == 4 and native.fen() == state.fen()
    assert native.is_legal(state.parse_move("b8c6")) and not native.is_legal(1)
    assert native.pop() == state.pop() == encode_move(chess.Move.from_uci("g1f3"))


def test_state_grows_past_its_capacity_and_castles_960() -> None:
    state = ChessState(chess.Board.from_chess960_pos(100).fen(), chess960=True)
    native = NativeChessState.from_state(state, capacity=2)
    assert native.chess960 and not native.from_startpos
    rng = random.Random(3)
    for _ in range(40):
        moves = state.legal_moves()
        if not moves:
            break
        m = rng.choice(moves)
        state.push(m), native.push(m)
        assert native.legal_moves() == list(state.legal_moves())
    assert native.ply == state.ply and native.fen() == state.fen()
    assert np.array_equal(_encode(native), ref.encode_planes(state))
    while state.ply:
        assert native.pop() == state.pop()
    assert native.fen() == state.fen()


def test_two_fold_rule_follows_the_search_root_as_chess_state() -> None:
    """One repetition draws only when the earlier position is at or after the search root."""
    fen = "5R2/8/7k/8/8/7K/8/8 w - - 0 1"
    state, native = _pair(fen, ["f8f1"])
    state.set_search_root()
    native.set_search_root()
    assert native.root_ply == 1
    for uci in ("h6g7", "f1f8", "g7h6"):  # back to the FEN's position, first seen before the root
        code = state.parse_move(uci)
        state.push(code)
        native.push(code)
    assert state.terminal() is None and native.terminal() is None
    for uci in ("f8f1", "h6g7", "f1f8", "g7h6"):  # a third time: a draw wherever the others were
        code = state.parse_move(uci)
        state.push(code)
        native.push(code)
    assert state.terminal() == native.terminal() == 0.0
    state, native = _pair(fen, ["f8f1"])
    state.set_search_root()
    native.set_search_root()
    for uci in ("h6g7", "f1f8", "g7h6", "f8f1"):  # the root's own position again
        code = state.parse_move(uci)
        state.push(code)
        native.push(code)
    assert state.terminal() == native.terminal() == native.copy().terminal() == 0.0
    assert NativeChessState.from_state(state).terminal() == 0.0  # from_state keeps the root
