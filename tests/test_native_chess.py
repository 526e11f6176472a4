"""Compiled chess rules (engine/native/chess_rules.py) against python-chess and ChessState:
perft on the standard tricky positions and Chess960, and, at every ply of seeded random
games, the legal move list (same codes, same order), terminal verdict, repetition count,
Zobrist hash, FEN and make/unmake round trips."""

from __future__ import annotations

import random

import chess
import numpy as np
import pytest

from tabula.engine.games.chess_game import ChessState, decode_move, encode_move
from tabula.engine.native import chess_rules as cr

KIWIPETE = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"
POS3 = "8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1"
POS4 = "r3k2r/Pppp1ppp/1b3nbN/nP6/BBP1P3/q4N2/Pp1P2PP/R2Q1RK1 w kq - 0 1"
POS4_MIRRORED = "r2q1rk1/pP1p2pp/Q4n2/bbp1p3/Np6/1B3NBn/pPPP1PPP/R3K2R b KQ - 0 1"
POS5 = "rnbq1k1r/pp1Pbppp/2p5/8/2B5/8/PPP1NnPP/RNBQK2R w KQ - 1 8"
POS6 = "r4rk1/1pp1qppp/p1np1n2/2b1p1B1/2B1P1b1/P1NP1N2/1PP1QPPP/R4RK1 w - - 0 10"

# chessprogramming.org "Perft Results" (positions 1-6), depth: nodes
KNOWN = [
    (chess.STARTING_FEN, {1: 20, 2: 400, 3: 8902, 4: 197281}),
    (KIWIPETE, {1: 48, 2: 2039, 3: 97862}),
    (POS3, {1: 14, 2: 191, 3: 2812, 4: 43238, 5: 674624}),
    (POS4, {1: 6, 2: 264, 3: 9467, 4: 422333}),
    (POS4_MIRRORED, {1: 6, 2: 264, 3: 9467, 4: 422333}),
    (POS5, {1: 44, 2: 1486, 3: 62379, 4: 2103487}),
    (POS6, {1: 46, 2: 2079, 3: 89890, 4: 3894594}),
]

# edge cases (X-FEN castling, pins and checks around en passant, impossible castling
# rights), as collected in python-chess's examples/perft/tricky.perft; Chess960 mode
TRICKY_960 = [
    ("r1k1r2q/p1ppp1pp/8/8/8/8/P1PPP1PP/R1K1R2Q w KQkq - 0 1", 4, 285754),
    ("r1k2r1q/p1ppp1pp/8/8/8/8/P1PPP1PP/R1K2R1Q w KQkq - 0 1", 4, 541480),
    ("8/8/8/4B2b/6nN/8/5P2/2R1K2k w Q - 0 1", 4, 118388),
    ("2r5/8/8/8/8/8/6PP/k2KR3 w K - 0 1", 4, 57700),
    ("4r3/3k4/8/8/8/8/6PP/qR1K1R2 w KQ - 0 1", 4, 405636),
    ("8/ppp3p1/8/8/3p4/5Q2/1ppp2K1/brk4n w - - 0 1", 4, 134167),
    ("8/6kR/8/8/8/bq6/1rqqqqqq/K1nqnbrq b - - 0 1", 4, 50268),
    ("3R4/8/q4k2/2B5/1NK5/3b4/8/8 w - - 0 1", 3, 2854),
    ("2Nq4/2K5/1b6/8/7R/3k4/7P/8 w - - 0 1", 3, 1217),
    ("5R2/2P5/8/4k3/8/3rK2r/8/8 w - - 0 1", 3, 1030),
    ("8/8/8/1k6/3Pp3/8/8/4KQ2 b - d3 0 1", 3, 711),
    ("1b1k4/8/8/1rPpK3/8/8/8/8 w - d6 0 1", 3, 555),
    ("rnbqk1nr/bb3p1p/1q2r3/2pPp3/3P4/7P/1PP1NpPP/R1BQKBNR w KQkq c6 0 1", 3, 2528),
    ("r2r3k/p7/3p4/8/8/P6P/8/R3K2R b KQq - 0 1", 4, 64639),
]

# chessprogramming.org "Chess960 Perft Results", first ten: FEN, perft 4, perft 5
KNOWN_960 = [
    ("bqnb1rkr/pp3ppp/3ppn2/2p5/5P2/P2P4/NPP1P1PP/BQ1BNRKR w HFhf - 2 9", 326672, 8146062),
    ("2nnrbkr/p1qppppp/8/1ppb4/6PP/3PP3/PPP2P2/BQNNRBKR w HEhe - 1 9", 667366, 16253601),
    ("b1q1rrkb/pppppppp/3nn3/8/P7/1PPP4/4PPPP/BQNNRKRB w GE - 1 9", 273318, 6417013),
    ("qbbnnrkr/2pp2pp/p7/1p2pp2/8/P3PP2/1PPP1KPP/QBBNNR1R w hf - 0 9", 382958, 9183776),
    ("1nbbnrkr/p1p1ppp1/3p4/1p3P1p/3Pq2P/8/PPP1P1P1/QNBBNRKR w HFhf - 0 9", 1171749, 34030312),
    ("qnbnr1kr/ppp1b1pp/4p3/3p1p2/8/2NPP3/PPP1BPPP/QNB1R1KR w HEhe - 1 9", 824055, 24851983),
    ("q1bnrkr1/ppppp2p/2n2p2/4b1p1/2NP4/8/PPP1PPPP/QNB1RRKB w ge - 1 9", 732757, 21093346),
    ("qbn1brkr/ppp1p1p1/2n4p/3p1p2/P7/6PP/QPPPPP2/1BNNBRKR w HFhf - 0 9", 465806, 13203304),
    ("qnnbbrkr/1p2ppp1/2pp3p/p7/1P5P/2NP4/P1P1PPP1/Q1NBBRKR w HFhf - 0 9", 384260, 11110203),
    ("qn1rbbkr/ppp2p1p/1n1pp1p1/8/3P4/P6P/1PP1PPPK/QNNRBB1R w hd - 2 9", 679699, 19836606),
]

# Chess960 start positions (Scharnagl numbers): 518 is the standard array
START_960 = [0, 1, 99, 212, 359, 480, 518, 697, 850, 959]


def py_perft(board: chess.Board, depth: int) -> int:
    """python-chess's own count (bulk-counted at the last ply)."""
    if depth == 1:
        return board.legal_moves.count()
    total = 0
    for m in board.generate_legal_moves():
        board.push(m)
        total += py_perft(board, depth - 1)
        board.pop()
    return total


# -- perft ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fen,counts", KNOWN, ids=["start", "kiwipete", "pos3", "pos4",
                                                   "pos4m", "pos5", "pos6"])
def test_perft_known(fen: str, counts: dict[int, int]) -> None:
    pos = cr.from_fen(fen)
    for depth, nodes in counts.items():
        assert cr.perft(pos, depth) == nodes, (fen, depth)
    assert int(pos[cr.P_PLY]) == 0 and cr.zobrist(pos) == int(cr.compute_hash(pos))


@pytest.mark.parametrize("fen,depth,nodes", TRICKY_960)
def test_perft_tricky_chess960_mode(fen: str, depth: int, nodes: int) -> None:
    assert cr.perft(cr.from_fen(fen, chess960=True), depth) == nodes


def test_perft_known_chess960() -> None:
    for fen, nodes4, _ in KNOWN_960:
        assert cr.perft(cr.from_fen(fen, chess960=True), 4) == nodes4, fen


def test_perft_chess960_starts_vs_python_chess() -> None:
    for n in START_960:
        board = chess.Board.from_chess960_pos(n)
        assert cr.perft(cr.from_board(board), 3) == py_perft(board, 3), n


@pytest.mark.slow
def test_perft_deep() -> None:
    assert cr.perft(cr.from_fen(), 5) == 4865609
    assert cr.perft(cr.from_fen(KIWIPETE), 4) == 4085603
    assert cr.perft(cr.from_fen(POS4), 5) == 15833292
    for fen, _, nodes5 in KNOWN_960:
        assert cr.perft(cr.from_fen(fen, chess960=True), 5) == nodes5, fen
    for n in START_960:
        board = chess.Board.from_chess960_pos(n)
        assert cr.perft(cr.from_board(board), 4) == py_perft(board, 4), n


# -- random games against python-chess / ChessState ------------------------------------------
MAX_PLIES = 400


def _exact_key(state: ChessState) -> tuple:
    """ChessState's repetition key, compared exactly (its ``_poskey`` is Python's ``hash``
    of it, and ``hash(1 << 61) == hash(1)`` makes e.g. a queen on f8 and on a1 collide)."""
    return (state.snapshots[-1], state.board.turn, state.board.castling_rights,
            state.ep_flags[-1])


def _exact_repetitions(keys: list[tuple], halfmove: int) -> int:
    """ChessState's (lc0's) repetition count on exact keys: matches 4, 6, … plies back."""
    cur = len(keys) - 1
    return sum(keys[cur - i] == keys[cur] for i in range(4, min(halfmove, cur) + 1, 2))


def _expected_verdict(board: chess.Board, moves: list[int], repetitions: int) -> int:
    if not moves:
        return cr.CHECKMATE if board.is_check() else cr.STALEMATE
    if repetitions >= 1:
        return cr.REPETITION
    if board.halfmove_clock >= 100:
        return cr.FIFTY_MOVES
    if board.is_insufficient_material():
        return cr.INSUFFICIENT
    return cr.ONGOING


def _pick(rng: random.Random, board: chess.Board, moves: list[int]) -> int:
    """Uniform, but half the time a capture or promotion when there is one (games reach
    endings, promotions and the draw rules sooner)."""
    if rng.random() < 0.5:
        theirs = board.occupied_co[not board.turn]
        forcing = [m for m in moves if m >> 12 or theirs >> ((m >> 6) & 63) & 1]
        if forcing:
            return rng.choice(forcing)
    return rng.choice(moves)


def play_and_compare(n_games: int, seed: int, share_960: float, full: bool) -> dict[int, int]:
    """Play seeded random games in lockstep; returns how many plies had each verdict.

    ``full`` adds the per-ply FEN round trip and :func:`terminal` itself.
    """
    rng = random.Random(seed)
    buf = np.empty(cr.MAX_MOVES, dtype=np.int32)
    seen: dict[int, int] = {}
    for _ in range(n_games):
        if rng.random() < share_960:
            state = ChessState(chess.Board.from_chess960_pos(rng.randrange(960)).fen(),
                               chess960=True)
        else:
            state = ChessState()
        board = state.board
        pos = cr.from_board(board, capacity=MAX_PLIES)
        start = pos.copy()
        hashes = []
        keys = [_exact_key(state)]
        verdict = cr.ONGOING
        for _ply in range(MAX_PLIES):
            moves = state.legal_moves()
            n = cr.legal_moves(pos, buf)
            assert buf[:n].tolist() == moves, board.fen()
            verdict = cr.terminal_given(pos, n)
            repetitions = _exact_repetitions(keys, board.halfmove_clock)
            assert verdict == _expected_verdict(board, moves, repetitions), board.fen()
            assert cr.repetition_count(pos) == repetitions, board.fen()
            assert cr.is_check(pos) == board.is_check()
            h = cr.zobrist(pos)
            assert h == int(cr.compute_hash(pos)), board.fen()
            if full:
                assert cr.to_board(pos).fen() == board.fen()
                assert cr.terminal(pos) == verdict
            hashes.append(h)
            seen[verdict] = seen.get(verdict, 0) + 1
            if verdict not in (cr.ONGOING, cr.REPETITION):
                break
            move = _pick(rng, board, moves)
            state.push(move)
            cr.make_move(pos, move)
            keys.append(_exact_key(state))
        else:
            hashes.append(cr.zobrist(pos))   # the position after the last move
        for h in reversed(hashes[:-1]):
            cr.unmake_move(pos)
            assert cr.zobrist(pos) == h
        assert np.array_equal(pos[:cr.P_STACK], start[:cr.P_STACK])
    return seen


def test_random_games_match_python_chess() -> None:
    # 40 games reach every verdict at least 3 times; the slow test below plays 10,000
    seen = play_and_compare(40, seed=1, share_960=0.3, full=True)
    # the games must reach every verdict (else the comparison proves little)
    for verdict in (cr.CHECKMATE, cr.STALEMATE, cr.FIFTY_MOVES, cr.INSUFFICIENT, cr.REPETITION):
        assert seen.get(verdict, 0) > 0, seen


@pytest.mark.slow
def test_random_games_match_python_chess_10000() -> None:
    seen = play_and_compare(10_000, seed=2, share_960=0.5, full=False)
    assert all(seen.get(v, 0) > 0 for v in range(6)), seen


# -- hashing, history and conversion --------------------------------------------------------
def test_hash_is_a_function_of_the_repetition_key() -> None:
    """Equal ChessState keys (pieces, side, castling, lc0 en-passant flag) ⇔ equal hashes."""
    rng = random.Random(5)
    by_key: dict[tuple, int] = {}
    by_hash: dict[int, tuple] = {}
    for _ in range(40):
        state = ChessState()
        pos = cr.from_board(state.board)
        for _ply in range(120):
            moves = state.legal_moves()
            if not moves:
                break
            move = rng.choice(moves)
            state.push(move)
            cr.make_move(pos, move)
            key = _exact_key(state)
            h = cr.zobrist(pos)
            assert by_key.setdefault(key, h) == h
            assert by_hash.setdefault(h, key) == key


def test_from_board_replays_history_for_repetitions() -> None:
    board = chess.Board()
    for uci in ["g1f3", "g8f6", "f3g1", "f6g8", "g1f3", "g8f6", "f3g1", "f6g8"]:
        board.push_uci(uci)
    pos = cr.from_board(board)
    assert int(pos[cr.P_PLY]) == 8
    assert cr.repetition_count(pos) == 2 and cr.terminal(pos) == cr.REPETITION
    assert cr.zobrist(pos) == cr.zobrist(cr.from_fen())
    assert cr.to_board(pos).fen() == board.fen()


def test_no_false_repetition_across_the_board_edge() -> None:
    """A rook on f8 and one on a1 are different positions (ChessState's hashed key says
    they repeat: Python hashes 1 << 61 like 1)."""
    board = chess.Board("5R2/8/8/7k/8/8/8/6K1 w - - 0 1")
    pos = cr.from_board(board)
    for uci in ["f8a8", "h5h6", "a8a1", "h6h5"]:
        move = encode_move(chess.Move.from_uci(uci))
        board.push(decode_move(move))
        cr.make_move(pos, move)
    assert cr.repetition_count(pos) == 0 and cr.terminal(pos) == cr.ONGOING
    for uci in ["a1f1", "h5h6", "f1f8", "h6h5"]:
        cr.make_move(pos, encode_move(chess.Move.from_uci(uci)))
    assert cr.repetition_count(pos) == 1 and cr.terminal(pos) == cr.REPETITION


def test_castling_codes_follow_the_mode() -> None:
    fen = "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"
    std = set(cr.legal_move_list(cr.from_fen(fen)))
    c960 = set(cr.legal_move_list(cr.from_fen(fen, chess960=True)))
    assert encode_move(chess.Move.from_uci("e1g1")) in std
    assert encode_move(chess.Move.from_uci("e1h1")) in c960
    assert encode_move(chess.Move.from_uci("e1h1")) not in std
    # Chess960: king and rook swap squares (king f1 + rook g1 castle short: Kg1, Rf1)
    fen = "k7/8/8/8/8/8/8/5KR1 w G - 0 1"
    pos = cr.from_fen(fen, chess960=True)
    move = encode_move(chess.Move.from_uci("f1g1"))
    assert move in cr.legal_move_list(pos)
    cr.make_move(pos, move)
    assert cr.to_board(pos).board_fen() == "k7/8/8/8/8/8/8/5RK1"
    assert int(pos[cr.P_CASTLE]) == 0 and int(pos[cr.P_HALFMOVE]) == 1
    cr.unmake_move(pos)
    assert cr.to_board(pos).fen() == chess.Board(fen, chess960=True).fen()


def test_null_move_and_errors() -> None:
    pos = cr.from_fen(capacity=1)
    before = pos.copy()
    cr.make_move(pos, 0)
    assert int(pos[cr.P_TURN]) == cr.BLACK and int(pos[cr.P_EP]) == cr.NO_SQ
    assert cr.zobrist(pos) == int(cr.compute_hash(pos))
    with pytest.raises(IndexError):
        cr.make_move(pos, encode_move(chess.Move.from_uci("e7e5")))
    assert cr.unmake_move(pos) == 0
    assert np.array_equal(pos[:cr.P_STACK], before[:cr.P_STACK])
    with pytest.raises(IndexError):
        cr.unmake_move(pos)
    assert decode_move(0) == chess.Move.null()


@pytest.mark.parametrize("native", [False, True])
def test_cache_key_includes_as_many_earlier_positions_as_asked(native: bool) -> None:
    """CacheHistoryLength: two move orders to one position share a key at 0; at 1 only if the
    positions one ply earlier agree too; at 2 only if those two plies earlier do as well."""
    from tabula.engine.native.chess_state import NativeChessState

    def key(moves: str, plies: int) -> int:
        state = NativeChessState.from_moves(None, moves.split()) if native else ChessState()
        if not native:
            for m in moves.split():
                state.push(state.parse_move(m))
        state.set_cache_history(plies)
        assert state.cache_history == plies and state.copy().key() == state.key()
        return state.key()

    last_differs = ("g1f3 g8f6 b1c3", "b1c3 g8f6 g1f3")      # same position, other last move
    third_differs = ("g1f3 b8c6 b1c3 g8f6", "b1c3 b8c6 g1f3 g8f6")  # same last two positions
    assert key(last_differs[0], 0) == key(last_differs[1], 0)
    assert key(last_differs[0], 1) != key(last_differs[1], 1)
    assert key(third_differs[0], 1) == key(third_differs[1], 1)
    assert key(third_differs[0], 2) != key(third_differs[1], 2)
    # the halfmove clock stays in the key at any length: e4 last resets it, Nc3 last does not
    assert key("e2e4 g8f6 b1c3", 0) != key("b1c3 g8f6 e2e4", 0)
    # before the game's first position there is nothing: one ply in, lengths 1 and 2 differ
    assert key("g1f3", 1) != key("g1f3", 2) and key("", 0) != key("", 1)
