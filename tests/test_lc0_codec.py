"""The lc0 classical codec against shared/formats/lc0.md: move table, move indices, planes, signatures.

Reference implementations here are deliberately slow and built a different way
(python-chess boards replayed move by move, square by square) so that they check
the codec rather than restate it.
"""

from __future__ import annotations

import random

import chess
import numpy as np
import pytest

from tabula.engine.codecs.base import NetSignature, NetworkMismatchError
from tabula.engine.codecs.lc0 import MOVES, Lc0Codec, encode_planes, move_to_index
from tabula.engine.games.chess_game import ChessState

LC0_SIG = NetSignature(
    "maia.onnx", {"/input/planes": ("batch", 112, 8, 8)},
    {"/output/policy": ("batch", 1858), "/output/wdl": ("batch", 3)})
CODEC = Lc0Codec(LC0_SIG)
ONES = np.ones((8, 8), np.float32)
ZEROS = np.zeros((8, 8), np.float32)


# -- references ---------------------------------------------------------------------------

def rule_table() -> list[str]:
    """lc0.md §2.1 rebuilt from python-chess's line and knight masks."""
    out = []
    for frm in chess.SQUARES:
        targets = chess.SquareSet(chess.BB_KNIGHT_ATTACKS[frm])
        targets |= chess.SquareSet(
            sum(chess.BB_SQUARES[t] for t in chess.SQUARES if t != frm and chess.BB_RAYS[frm][t]))
        out += [chess.square_name(frm) + chess.square_name(t) for t in sorted(targets)]
    for frm in chess.SquareSet(chess.BB_RANK_7):
        for to in sorted(chess.SquareSet(chess.BB_RANK_8)):
            if abs(chess.square_file(frm) - chess.square_file(to)) <= 1:
                out += [chess.square_name(frm) + chess.square_name(to) + p for p in "qrb"]
    return out


REF_TABLE = {m: i for i, m in enumerate(rule_table())}


def ref_index(board: chess.Board, move: chess.Move) -> int:
    """lc0.md §2.2 by hand: castling as king-takes-rook, black flip, knight promo plain."""
    to = move.to_square
    if board.is_castling(move) and not board.chess960:
        rank = chess.square_rank(move.from_square)
        to = chess.square(7 if board.is_kingside_castling(move) else 0, rank)
    frm = move.from_square
    if board.turn == chess.BLACK:
        frm, to = chess.square_mirror(frm), chess.square_mirror(to)
    uci = chess.square_name(frm) + chess.square_name(to)
    if move.promotion and move.promotion != chess.KNIGHT:
        uci += chess.piece_symbol(move.promotion)
    return REF_TABLE[uci]


def lc0_key(board: chess.Board) -> tuple:
    """What lc0 compares for repetitions: pieces, side, castling, flagged en passant."""
    ep = board.ep_square if board.has_pseudo_legal_en_passant() else None
    return board.board_fen(), board.turn, board.clean_castling_rights(), ep


def ref_repetitions(boards: list[chess.Board]) -> list[int]:
    """lc0's ComputeLastMoveRepetitions (lc0.md §1.3) over replayed boards."""
    keys = [lc0_key(b) for b in boards]
    reps: list[int] = []
    for j, b in enumerate(boards):
        count = 0
        if b.halfmove_clock >= 4:
            for idx in range(j - 4, -1, -2):
                if keys[idx] == keys[j]:
                    count = 1 + reps[idx]
                    break
                if boards[idx].halfmove_clock < 2:
                    break
        reps.append(count)
    return reps


def replay(moves: list[str], fen: str | None = None, chess960: bool = False) -> list[chess.Board]:
    board = chess.Board(fen or chess.STARTING_FEN, chess960=chess960)
    boards = [board.copy(stack=False)]
    for m in moves:
        board.push_uci(m)
        boards.append(board.copy(stack=False))
    return boards


def ref_planes(boards: list[chess.Board]) -> np.ndarray:
    """Slow square-by-square encoder for games whose first position is a start position or
    a FEN without en passant (missing boards: zeros or copies of the first)."""
    cur = boards[-1]
    black = cur.turn == chess.BLACK
    first = boards[0]
    startpos = (first.board_fen() == chess.STARTING_BOARD_FEN and first.turn == chess.WHITE
                and first.clean_castling_rights() == chess.BB_CORNERS)
    reps = ref_repetitions(boards)
    planes = np.zeros((112, 8, 8), np.float32)
    for i in range(8):
        k = len(boards) - 1 - i
        if k < 0 and startpos:
            break
        board = boards[max(k, 0)]
        for sq, piece in board.piece_map().items():
            plane = 13 * i + (0 if piece.color == cur.turn else 6) + piece.piece_type - 1
            s = chess.square_mirror(sq) if black else sq
            planes[plane, chess.square_rank(s), chess.square_file(s)] = 1
        if k >= 0 and reps[k]:
            planes[13 * i + 12] = 1
    us, them = cur.turn, not cur.turn
    rights = [cur.has_queenside_castling_rights(us), cur.has_kingside_castling_rights(us),
              cur.has_queenside_castling_rights(them), cur.has_kingside_castling_rights(them)]
    for p, r in zip(range(104, 108), rights):
        planes[p] = float(r)
    planes[108] = float(black)
    planes[109] = cur.halfmove_clock
    planes[111] = 1
    return planes


def state_after(moves: list[str], fen: str | None = None, chess960: bool = False) -> ChessState:
    s = ChessState(fen, chess960=chess960)
    for m in moves:
        s.push(s.parse_move(m))
    return s


def random_game(rng: random.Random, plies: int, fen: str | None = None, chess960: bool = False) -> list[str]:
    board = chess.Board(fen or chess.STARTING_FEN, chess960=chess960)
    moves = []
    for _ in range(plies):
        legal = list(board.legal_moves)
        if not legal or board.is_game_over():
            break
        move = rng.choice(legal)
        moves.append(move.uci())
        board.push(move)
    return moves


def sq(name: str, black: bool = False) -> tuple[int, int]:
    """(row, col) of a square in the encoded frame."""
    s = chess.parse_square(name)
    s = chess.square_mirror(s) if black else s
    return chess.square_rank(s), chess.square_file(s)


# -- move table ---------------------------------------------------------------------------

def test_table_has_1858_distinct_entries_built_by_the_rule():
    assert len(MOVES) == 1858 and len(set(MOVES)) == 1858
    assert MOVES == rule_table()


@pytest.mark.parametrize("uci,idx", [
    ("a1b1", 0), ("a1h8", 22), ("b1a1", 23), ("e1a1", 97), ("g1a1", 147), ("a2a1", 194),
    ("e2c1", 303), ("e7e1", 1489), ("a8a1", 1598), ("h8a1", 1769), ("h8g8", 1791),
    ("e2e3", 317), ("e7f8", 1516), ("d7c8", 1485), ("d7c8q", 1816), ("a7b8q", 1795),
    ("h7g8q", 1852), ("a7a8q", 1792), ("h7h8b", 1857), ("e1h1", 103), ("e1g1", 102), ("e1c1", 99),
])
def test_fixed_points(uci, idx):
    assert MOVES[idx] == uci
    assert move_to_index(uci, black=False) == idx


@pytest.mark.parametrize("uci,black,idx", [
    ("e2e4", False, 322), ("d2d4", False, 293), ("g1f3", False, 159), ("b1c3", False, 36),
    ("e7e8q", False, 1828), ("e7e8r", False, 1829), ("e7e8b", False, 1830), ("e7e8n", False, 1515),
    ("e7d8q", False, 1825), ("e7f8q", False, 1831), ("e7e5", True, 322), ("g8f6", True, 159),
    ("b8c6", True, 36), ("e8h8", True, 103), ("e8a8", True, 97), ("e2e1q", True, 1828),
    ("e2e1r", True, 1829), ("e2e1b", True, 1830), ("e2e1n", True, 1515),
])
def test_move_to_index_worked_examples(uci, black, idx):
    assert move_to_index(uci, black) == idx


def test_move_to_index_rejects_moves_without_entry():
    with pytest.raises(ValueError, match="no lc0 policy entry"):
        move_to_index("a1b4", black=False)


# -- policy_indices on real boards (lc0.md §2.3) --------------------------------------------

WORKED = [  # (fen, moves played first, move, index)
    (None, [], "e2e4", 322), (None, [], "d2d4", 293), (None, [], "g1f3", 159), (None, [], "b1c3", 36),
    ("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", [], "e1g1", 103),
    ("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", [], "e1c1", 97),
    ("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", [], "e1f1", 101),
    ("3r1r2/4P3/8/8/8/8/8/k3K3 w - - 0 1", [], "e7e8q", 1828),
    ("3r1r2/4P3/8/8/8/8/8/k3K3 w - - 0 1", [], "e7e8r", 1829),
    ("3r1r2/4P3/8/8/8/8/8/k3K3 w - - 0 1", [], "e7e8b", 1830),
    ("3r1r2/4P3/8/8/8/8/8/k3K3 w - - 0 1", [], "e7e8n", 1515),
    ("3r1r2/4P3/8/8/8/8/8/k3K3 w - - 0 1", [], "e7d8q", 1825),
    ("3r1r2/4P3/8/8/8/8/8/k3K3 w - - 0 1", [], "e7f8q", 1831),
    ("3r1r2/4P3/8/8/8/8/8/k3K3 w - - 0 1", [], "e7d8n", 1514),
    (None, ["e2e4"], "e7e5", 322), (None, ["e2e4"], "g8f6", 159), (None, ["e2e4"], "b8c6", 36),
    ("r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 0 1", [], "e8g8", 103),
    ("r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 0 1", [], "e8c8", 97),
    ("K3k3/8/8/8/8/8/4p3/3R1R2 b - - 0 1", [], "e2e1q", 1828),
    ("K3k3/8/8/8/8/8/4p3/3R1R2 b - - 0 1", [], "e2e1r", 1829),
    ("K3k3/8/8/8/8/8/4p3/3R1R2 b - - 0 1", [], "e2e1b", 1830),
    ("K3k3/8/8/8/8/8/4p3/3R1R2 b - - 0 1", [], "e2e1n", 1515),
    ("K3k3/8/8/8/8/8/4p3/3R1R2 b - - 0 1", [], "e2d1q", 1825),
    ("K3k3/8/8/8/8/8/4p3/3R1R2 b - - 0 1", [], "e2f1q", 1831),
]


@pytest.mark.parametrize("fen,pre,move,idx", WORKED)
def test_policy_indices_worked_examples(fen, pre, move, idx):
    s = state_after(pre, fen)
    code = s.parse_move(move)
    assert code in s.legal_moves()
    assert CODE_INDEX(s, code) == idx


def CODE_INDEX(state: ChessState, code: int) -> int:
    return int(CODEC.policy_indices(state, [code])[0])


def test_non_castling_king_and_queen_moves_to_g1_are_plain():
    # queen e1→g1 with the king elsewhere: plain 102; king on e1 with a rook on g1 not castling
    s = ChessState("7k/8/8/8/8/8/8/K3Q3 w - - 0 1")
    assert CODE_INDEX(s, s.parse_move("e1g1")) == 102
    s = ChessState("4k3/8/8/8/8/8/8/4K2R w - - 0 1")  # king home, no rights: e1f1 plain
    assert CODE_INDEX(s, s.parse_move("e1f1")) == 101


def test_chess960_castling_is_king_takes_rook():
    fen = "1r2k1r1/1p4p1/8/8/8/8/1P4P1/1R2K1R1 w GBgb - 0 1"
    s = ChessState(fen, chess960=True)
    assert CODE_INDEX(s, s.parse_move("e1g1")) == MOVES.index("e1g1")
    assert CODE_INDEX(s, s.parse_move("e1b1")) == MOVES.index("e1b1")
    s.push(s.parse_move("e1g1"))
    assert CODE_INDEX(s, s.parse_move("e8b8")) == MOVES.index("e1b1")


def _check_bijection(state: ChessState) -> None:
    board = state.board
    moves = list(state.legal_moves())
    idx = CODEC.policy_indices(state, moves)
    assert idx.dtype == np.int64 and idx.shape == (len(moves),)
    assert len(set(idx.tolist())) == len(moves)
    assert ((idx >= 0) & (idx < 1858)).all()
    by_code = {c: int(i) for c, i in zip(moves, idx)}
    for m in board.legal_moves:
        code = m.from_square | m.to_square << 6 | (m.promotion or 0) << 12
        assert by_code[code] == ref_index(board, m), (board.fen(), m.uci())


PROMO_FENS = [
    "r3k2r/1P4P1/8/8/8/8/1p4p1/R3K2R w KQkq - 0 1",
    "r3k2r/1P4P1/8/8/8/8/1p4p1/R3K2R b KQkq - 0 1",
    "rn2k2r/pPp2ppp/8/8/8/8/PpP2PPP/RN2K2R w KQkq - 0 1",
]


def test_every_legal_move_maps_to_a_distinct_index_in_random_positions():
    rng = random.Random(1858)
    seen_castle = seen_underpromo = seen_black = 0
    for game in range(60):
        fen = PROMO_FENS[game % 3] if game % 4 == 3 else None
        moves = random_game(rng, rng.randint(0, 120), fen)
        s = ChessState(fen)
        for ply, m in enumerate(moves):
            if ply % 3 == 0:
                _check_bijection(s)
                seen_castle += any(s.board.is_castling(x) for x in s.board.legal_moves)
                seen_underpromo += any(x.promotion == chess.KNIGHT for x in s.board.legal_moves)
                seen_black += s.board.turn == chess.BLACK
            s.push(s.parse_move(m))
        _check_bijection(s)
    assert seen_castle and seen_underpromo and seen_black


def test_every_legal_move_maps_to_a_distinct_index_in_chess960():
    rng = random.Random(960)
    for n in rng.sample(range(960), 12):
        fen = chess.Board.from_chess960_pos(n).fen()
        moves = random_game(rng, rng.randint(10, 80), fen, chess960=True)
        s = ChessState(fen, chess960=True)
        for m in moves:
            _check_bijection(s)
            s.push(s.parse_move(m))


# -- input planes ---------------------------------------------------------------------------

def test_planes_after_e4_worked_example():
    p = encode_planes(state_after(["e2e4"]))
    assert p.shape == (112, 8, 8) and p.dtype == np.float32
    assert p[5, 0, 4] == 1 and p[5].sum() == 1               # black king e8 → e1
    assert p[6, 4, 4] == 1 and p[6, 6].sum() == 7            # white e4 → e5, others on row 6
    assert (p[19, 6] == 1).all() and p[19].sum() == 8        # board 1: their pawns on row 6
    assert not p[26:104].any()                               # nothing before startpos
    assert (p[104:109] == 1).all() and not p[109].any() and not p[110].any() and (p[111] == 1).all()
    assert not p[12].any() and not p[25].any()


def test_startpos_white_to_move():
    p = encode_planes(ChessState())
    assert (p[0, 1] == 1).all() and (p[6, 6] == 1).all()
    assert p[3, 0, 0] == p[3, 0, 7] == 1 and p[5, 0, 4] == 1 and p[11, 7, 4] == 1
    assert not p[13:104].any() and not p[108].any()


def test_black_to_move_flips_and_swaps_colours():
    s = ChessState("4k3/8/8/8/8/8/8/R3K3 b Q - 0 1")
    p = encode_planes(s)
    assert p[5, 0, 4] == 1 and p[11, 7, 4] == 1 and p[9, 7, 0] == 1   # ours=black king at row 0
    assert (p[108] == 1).all()
    assert not p[104].any() and not p[105].any() and (p[106] == 1).all() and not p[107].any()


def test_lost_castling_rights_from_side_to_move_view():
    s = state_after(["e2e4", "e7e5", "e1e2"])            # white king moved, black to move
    p = encode_planes(s)
    assert (p[104] == 1).all() and (p[105] == 1).all() and not p[106].any() and not p[107].any()
    s = state_after(["h2h4", "a7a5", "h1h3", "a8a6"])     # white h-side, black a-side lost
    p = encode_planes(s)                                  # white to move
    assert (p[104] == 1).all() and not p[105].any() and not p[106].any() and (p[107] == 1).all()
    s.push(s.parse_move("g1f3"))                          # black to move: ours = black
    p = encode_planes(s)
    assert not p[104].any() and (p[105] == 1).all() and (p[106] == 1).all() and not p[107].any()


def test_en_passant_history_shows_the_pawn_on_its_start_square():
    s = state_after(["e2e4", "d7d5", "e4e5", "f7f5"])     # white to move, exf6 possible
    p = encode_planes(s)
    assert p[6, 4, 5] == 1 and p[6, 6, 5] == 0            # board 0: their pawn f5
    assert p[13 + 6, 6, 5] == 1 and p[13 + 6, 4, 5] == 0  # board 1: still on f7
    np.testing.assert_array_equal(p, ref_planes(replay(["e2e4", "d7d5", "e4e5", "f7f5"])))


def test_repetition_planes_mark_repeated_history_boards():
    shuffle = ["g1f3", "g8f6", "f3g1", "f6g8"]
    s = state_after(shuffle)
    assert s.repetitions == [0, 0, 0, 0, 1]
    p = encode_planes(s)
    assert (p[12] == 1).all() and not p[25].any() and not p[64].any()
    s.push(s.parse_move("g1f3"))                          # repeats position 1
    p = encode_planes(s)
    assert (p[12] == 1).all() and (p[25] == 1).all() and not p[38].any() and not p[77].any()
    s = state_after(shuffle * 2 + ["g1f3"])               # 9 plies: counts 0,0,0,0,1,1,1,1,2,2
    p = encode_planes(s)
    assert [bool(p[13 * i + 12].all()) for i in range(8)] == [True] * 6 + [False, False]
    assert [bool(p[13 * i + 12].any()) for i in range(8)] == [True] * 6 + [False, False]
    np.testing.assert_array_equal(p, ref_planes(replay(shuffle * 2 + ["g1f3"])))


def test_long_history_keeps_the_last_eight_positions():
    moves = ["e2e4", "e7e5", "g1f3", "b8c6", "f1b5", "a7a6", "b5a4", "g8f6", "e1g1", "f8e7", "f1e1"]
    s = state_after(moves)
    p = encode_planes(s)
    np.testing.assert_array_equal(p, ref_planes(replay(moves)))
    # board 7 is 7 plies ago, after 2...Nc6: black is STM, so c6 → row 2 and g8 → row 0
    assert p[13 * 7 + 1, 2, 2] == 1 and p[13 * 7 + 1, 0, 6] == 1 and p[13 * 7 + 1].sum() == 2
    assert p[13 * 3 + 1, 0, 6] == 0 and p[13 * 3 + 1, 2, 5] == 1   # board 3, after 4...Nf6
    assert not p[13 * 7 + 12].any() and (p[109] == 5).all()  # 5 plies since 3...a6


def test_random_games_match_the_reference_encoder():
    rng = random.Random(112)
    for _ in range(40):
        moves = random_game(rng, rng.randint(0, 90))
        np.testing.assert_array_equal(encode_planes(state_after(moves)), ref_planes(replay(moves)))


def test_random_chess960_games_match_the_reference_encoder():
    rng = random.Random(9600)
    for n in rng.sample(range(960), 10):
        fen = chess.Board.from_chess960_pos(n).fen()
        moves = random_game(rng, rng.randint(0, 40), fen, chess960=True)
        got = encode_planes(state_after(moves, fen, chess960=True))
        np.testing.assert_array_equal(got, ref_planes(replay(moves, fen, chess960=True)))


def test_non_startpos_fen_fills_history_with_copies():
    fen = "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3"
    s = ChessState(fen)
    p = encode_planes(s)
    for i in range(1, 8):
        np.testing.assert_array_equal(p[13 * i:13 * i + 13], p[0:13])
    assert not p[12::13][:8].any()
    s.push(s.parse_move("f1c4"))
    np.testing.assert_array_equal(encode_planes(s), ref_planes(replay(["f1c4"], fen)))


def test_start_fen_with_other_counters_counts_as_startpos():
    s = ChessState("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 7")
    assert s.from_startpos and not encode_planes(s)[13:104].any()
    s = ChessState("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w Kkq - 0 1")  # lost a right
    assert not s.from_startpos and encode_planes(s)[13:104].any()


def test_fen_with_en_passant_puts_the_pawn_back_in_copies():
    fen = "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq e3 0 1"   # black to move, flip
    s = ChessState(fen)
    p = encode_planes(s)
    assert p[6, 4, 4] == 1 and p[6, 6, 4] == 0            # board 0: white pawn e4 → row 4
    for i in range(1, 8):
        b = 13 * i
        assert p[b + 6, 6, 4] == 1 and p[b + 6, 4, 4] == 0  # copies: pawn back on e2 → row 6
        assert p[b + 6].sum() == 8 and p[b + 5, 0, 4] == 1
    s.push(s.parse_move("c7c5"))                          # white to move, no flip
    p = encode_planes(s)
    assert p[13 + 0, 3, 4] == 1 and p[13 + 0, 1, 4] == 0  # board 1 = the FEN itself: e4
    for i in range(2, 8):
        b = 13 * i
        assert p[b + 0, 1, 4] == 1 and p[b + 0, 3, 4] == 0  # copies: e2
        assert p[b + 6, 6, 2] == 1                          # black c-pawn still home


def test_fen_en_passant_of_black_pawn_in_copies():
    fen = "rnbqkbnr/pppp1ppp/8/4p3/8/5N2/PPPPPPPP/RNBQKB1R w KQkq e6 0 2"
    p = encode_planes(ChessState(fen))
    assert p[6, 4, 4] == 1                                # board 0: black pawn e5
    assert p[13 + 6, 6, 4] == 1 and p[13 + 6, 4, 4] == 0  # copies: back on e7
    assert p[13 + 1, 2, 5] == 1                           # the knight stays on f3 in the copies


def test_rule50_plane_is_the_raw_counter():
    s = ChessState("4k3/8/8/8/8/8/8/4K2R w K - 37 80")
    p = encode_planes(s)
    assert (p[109] == 37).all()
    s.push(s.parse_move("h1h5"))
    assert (encode_planes(s)[109] == 38).all()
    s.push(s.parse_move("e8d7"))
    s.push(s.parse_move("h5h7"))
    assert (encode_planes(s)[109] == 40).all()


def test_chess960_castling_rights_per_rook_side():
    fen = "1r2k1r1/8/8/8/8/8/8/1R2K1R1 w GBgb - 0 1"
    p = encode_planes(ChessState(fen, chess960=True))
    assert all((p[k] == 1).all() for k in range(104, 108))
    p = encode_planes(ChessState("1r2k1r1/8/8/8/8/8/8/1R2K1R1 w Gb - 0 1", chess960=True))
    assert not p[104].any() and (p[105] == 1).all() and (p[106] == 1).all() and not p[107].any()
    # king on b1 with rooks a1 and c1: a1 is the a-side (queenside) rook
    s = ChessState("rkr5/8/8/8/8/8/8/RKR5 w CAca - 0 1", chess960=True)
    s.push(s.parse_move("c1c2"))                          # white loses h-side; black to move
    p = encode_planes(s)
    assert (p[104] == 1).all() and (p[105] == 1).all() and (p[106] == 1).all() and not p[107].any()


def test_encode_overwrites_its_row_and_nothing_else():
    s = state_after(["d2d4", "g8f6"])
    buf = np.full((3, 112, 8, 8), 7.0, np.float32)
    CODEC.encode(s, {"/input/planes": buf}, 1)
    np.testing.assert_array_equal(buf[1], encode_planes(s))
    assert (buf[0] == 7).all() and (buf[2] == 7).all()


def test_encode_after_push_pop_matches_a_fresh_state():
    s = state_after(["e2e4", "c7c5", "g1f3"])
    for m in ["d7d6", "b8c6", "e7e6"]:
        s.push(s.parse_move(m))
        s.pop()
    np.testing.assert_array_equal(encode_planes(s), encode_planes(state_after(["e2e4", "c7c5", "g1f3"])))


# -- signatures and values ------------------------------------------------------------------

def sig(inputs, outputs) -> NetSignature:
    return NetSignature("net.onnx", inputs, outputs)


@pytest.mark.parametrize("inputs,outputs,names", [
    ({"/input/planes": (None, 112, 8, 8)}, {"/output/policy": (None, 1858), "/output/wdl": (None, 3)},
     ["/output/policy", "/output/wdl"]),
    ({"/input/planes": ("batch", 112, 8, 8)},
     {"/output/policy": ("batch", 1858), "/output/value": ("batch", 1)}, ["/output/policy", "/output/value"]),
    ({"/input/planes": ("batch", 112, 8, 8)},
     {"/output/policy": ("batch", 1858), "/output/wdl": ("batch", 3), "/output/mlh": ("batch", 1)},
     ["/output/policy", "/output/wdl", "/output/mlh"]),  # moves left is fetched too
    ({"x": (1, 112, 8, 8)}, {"pol": (1, 1858), "w": (1, 3)}, ["pol", "w"]),
    ({"x": ("n", 112, 8, 8)}, {"mlh": ("n", 1), "pol": ("n", 1858), "val": ("n", 1)}, ["pol", "val", "mlh"]),
])
def test_accepts_lc0_signatures(inputs, outputs, names):
    s = sig(inputs, outputs)
    assert Lc0Codec.accepts(s)
    c = Lc0Codec(s)
    assert c.output_names == names and c.policy_output == names[0]
    assert c.input_shapes == {next(iter(inputs)): (112, 8, 8)}


@pytest.mark.parametrize("inputs,outputs", [
    ({"/input/planes": ("b", 119, 8, 8)}, {"/output/policy": ("b", 1858), "/output/wdl": ("b", 3)}),
    ({"/input/planes": ("b", 112, 9, 9)}, {"/output/policy": ("b", 1858), "/output/wdl": ("b", 3)}),
    ({"/input/planes": ("b", 112, 8, 8)}, {"/output/policy": ("b", 4672), "/output/wdl": ("b", 3)}),
    ({"/input/planes": ("b", 112, 8, 8)}, {"/output/policy": ("b", 1858)}),
    ({"/input/planes": ("b", 112, 8, 8)}, {"/output/wdl": ("b", 3)}),
    ({"/input/planes": ("b", 112, 8, 8), "extra": ("b", 4)},
     {"/output/policy": ("b", 1858), "/output/wdl": ("b", 3)}),
    ({"/input/planes": (112, 8, 8)}, {"/output/policy": ("b", 1858), "/output/wdl": ("b", 3)}),
    ({"features1": ("b", 62, 9, 9), "features2": ("b", 57, 9, 9)}, {"policy": ("b", 2187), "value": ("b", 1)}),
])
def test_rejects_other_signatures(inputs, outputs):
    s = sig(inputs, outputs)
    assert not Lc0Codec.accepts(s)
    with pytest.raises(NetworkMismatchError, match="lc0"):
        Lc0Codec(s)


def test_codec_identity():
    assert Lc0Codec.name == "lc0-112" and Lc0Codec.game == "chess"


def test_decode_value_wdl_and_tanh():
    wdl = np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [9, 9, 9]], np.float32)
    q, d = CODEC.decode_value({"/output/policy": np.zeros((3, 1858)), "/output/wdl": wdl}, 2)
    np.testing.assert_allclose(q, [0.5, -0.6], atol=1e-6)
    np.testing.assert_allclose(d, [0.3, 0.2], atol=1e-6)
    vsig = sig({"/input/planes": ("b", 112, 8, 8)}, {"/output/policy": ("b", 1858), "/output/value": ("b", 1)})
    q, d = Lc0Codec(vsig).decode_value({"/output/value": np.array([[0.25], [-0.5], [1]], np.float32)}, 2)
    np.testing.assert_allclose(q, [0.25, -0.5])
    np.testing.assert_array_equal(d, [0, 0])
