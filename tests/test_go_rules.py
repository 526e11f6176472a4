"""Go rules (engine/games/go.py): captures, suicide, ko and positional superko,
Tromp–Taylor scoring, handicap, vertices — and push/pop checked against a naive
flood-fill reference implemented here, on random playouts."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tabula.engine.games.base import DRAW, LOSS, WIN, IllegalMoveError, InvalidPositionError
from tabula.engine.games.go import (
    BLACK,
    WHITE,
    GoState,
    _Z,
    handicap_points,
    parse_vertex,
    vertex,
)

# -- helpers -------------------------------------------------------------------------


def pts(text: str, n: int) -> list[int]:
    """'C3 D4' → point indices."""
    return [parse_vertex(v, n) for v in text.split()]


def diagram(rows: list[str], komi: float = 0.5, to_move: int = BLACK) -> GoState:
    """A set-up position from a diagram, top row first: X black, O white, . empty."""
    n = len(rows)
    black, white = [], []
    for i, row in enumerate(rows):
        cells = row.split()
        assert len(cells) == n, row
        r = n - 1 - i
        for col, ch in enumerate(cells):
            if ch == "X":
                black.append(r * n + col)
            elif ch == "O":
                white.append(r * n + col)
    return GoState(n, komi, black=black, white=white, to_move=to_move)


def play(s: GoState, text: str) -> None:
    for v in text.split():
        s.push(s.parse_move(v))


# -- a naive reference: flood fill everything ----------------------------------------


def ref_nbrs(p: int, n: int) -> list[int]:
    r, c = divmod(p, n)
    out = []
    if r > 0:
        out.append(p - n)
    if r < n - 1:
        out.append(p + n)
    if c > 0:
        out.append(p - 1)
    if c < n - 1:
        out.append(p + 1)
    return out


def ref_group(board, p: int, n: int) -> tuple[set[int], set[int]]:
    color = board[p]
    stones, libs, todo = {p}, set(), [p]
    while todo:
        s = todo.pop()
        for q in ref_nbrs(s, n):
            if board[q] == 0:
                libs.add(q)
            elif board[q] == color and q not in stones:
                stones.add(q)
                todo.append(q)
    return stones, libs


def ref_play(board, p: int, c: int, n: int):
    """Board tuple after colour c (1/2) plays p, or None if suicide."""
    b = list(board)
    b[p] = c
    for q in ref_nbrs(p, n):
        if b[q] == 3 - c:
            stones, libs = ref_group(b, q, n)
            if not libs:
                for s in stones:
                    b[s] = 0
    if not ref_group(b, p, n)[1]:
        return None
    return tuple(b)


def ref_legal(board, c: int, n: int, history: set) -> list[int]:
    out = []
    for p in range(n * n):
        if board[p] == 0:
            after = ref_play(board, p, c, n)
            if after is not None and after not in history:
                out.append(p)
    return out + [n * n]


def ref_area(board, n: int) -> int:
    """Black minus White Tromp–Taylor area."""
    total, seen = 0, set()
    for p in range(n * n):
        if board[p] == 1:
            total += 1
        elif board[p] == 2:
            total -= 1
        elif p not in seen:
            region, reach, todo = {p}, set(), [p]
            while todo:
                s = todo.pop()
                for q in ref_nbrs(s, n):
                    if board[q]:
                        reach.add(board[q])
                    elif q not in region:
                        region.add(q)
                        todo.append(q)
            seen |= region
            if reach == {1}:
                total += len(region)
            elif reach == {2}:
                total -= len(region)
    return total


def check_internals(s: GoState) -> None:
    """Every incremental structure equals what a flood fill computes from the board."""
    n, nn, board = s.size, s.nn, s.board_list()
    assert board == s._board
    h = 0
    heads: dict[int, frozenset[int]] = {}
    for p in range(nn):
        if board[p]:
            h ^= _Z[board[p]][p]
            stones, libs = ref_group(board, p, n)
            assert s.group(p) == sorted(stones), vertex(p, n)
            assert s.liberties(p) == len(libs), vertex(p, n)
            g = s._gid[p]
            assert set(s._glibs[g]) == libs
            assert heads.setdefault(g, frozenset(stones)) == frozenset(stones)
    assert len(set(heads.values())) == len(heads)
    assert s.position_hash == h
    assert s._empties == {p for p in range(nn) if not board[p]}
    assert s._nstones == nn - len(s._empties)
    enbr = [sum(1 for q in ref_nbrs(p, n) if not board[q]) for p in range(nn)]
    assert s._enbr == enbr
    assert s._tight == {p for p in range(nn) if not board[p] and not enbr[p]}
    assert s._atari == {g for g, st in heads.items() if len(ref_group(board, g, n)[1]) == 1}


# -- vertices ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 5, 9, 13, 19, 25])
def test_vertex_round_trip(n):
    for p in range(n * n + 1):
        assert parse_vertex(vertex(p, n), n) == p
        assert parse_vertex(vertex(p, n).lower(), n) == p
    assert vertex(n * n, n) == "pass"


def test_vertex_letters_skip_i():
    assert vertex(7, 19) == "H1" and vertex(8, 19) == "J1"
    assert parse_vertex("J1", 19) == 8
    assert parse_vertex("t19", 19) == 360
    assert parse_vertex(" Q16 ", 19) == 15 * 19 + 15
    assert parse_vertex("PASS", 9) == 81 and parse_vertex("Pass", 19) == 361
    assert vertex(24, 25) == "Z1"
    assert [vertex(p, 9) for p in range(9)] == "A1 B1 C1 D1 E1 F1 G1 H1 J1".split()


@pytest.mark.parametrize("text,why", [
    ("I5", "skip the letter I"), ("i5", "skip the letter I"), ("", "malformed"), ("5", "malformed"),
    ("AA", "malformed"), ("D4x", "malformed"), ("resign", "malformed"), ("A-1", "malformed"),
    ("4D", "malformed"), ("A0", "off the"), ("A20", "off the"), ("U1", "off the"),
    ("Z1", "off the"), ("D\u0664", "malformed"), ("É3", "column"),
])
def test_bad_vertices(text, why):
    with pytest.raises(IllegalMoveError, match=why):
        parse_vertex(text, 19)


def test_vertex_off_board_code():
    with pytest.raises(ValueError):
        vertex(82, 9)
    with pytest.raises(ValueError):
        vertex(-1, 9)


def test_board_sizes():
    for n in (2, 3, 7, 19, 25):
        s = GoState(n)
        assert len(s.legal_moves()) == n * n + 1 and s.legal_moves()[-1] == n * n == s.PASS
    for bad in (0, 1, 26, 19.0):
        with pytest.raises(ValueError):
            GoState(bad)


# -- captures, suicide ---------------------------------------------------------------


def test_single_stone_capture_centre():
    s = GoState(5)
    play(s, "C3 B3 E5 D3 E4 C4")
    assert s.liberties(parse_vertex("C3", 5)) == 1
    play(s, "E1 C2")
    assert s.stones()[2, 2] == 0  # C3 gone
    assert s.liberties(parse_vertex("B3", 5)) == 4
    same = GoState(5, black=pts("E5 E4 E1", 5), white=pts("B3 D3 C4 C2", 5))
    assert s.position_hash == same.position_hash


def test_multi_stone_capture():
    s = diagram([
        ". . . . .",
        ". . O O .",
        ". O X X .",
        ". . O O .",
        ". . . . .",
    ], to_move=WHITE)
    assert s.liberties(parse_vertex("C3", 5)) == 1
    s.push(s.parse_move("E3"))
    b = s.stones()
    assert b[2, 2] == 0 and b[2, 3] == 0
    assert s.liberties(parse_vertex("E3", 5)) == 3
    assert s.liberties(parse_vertex("C4", 5)) == 6  # C4-D4 gained C3, D3
    check_internals(s)


def test_two_groups_captured_by_one_move():
    s = diagram([
        ". . . . .",
        ". . . . .",
        "O . . . .",
        "X O . . .",
        ". X O . .",
    ], to_move=WHITE)
    # A2 and B1 are two black groups whose only liberty is A1
    assert s.liberties(parse_vertex("A2", 5)) == 1 and s.liberties(parse_vertex("B1", 5)) == 1
    s.push(s.parse_move("A1"))
    assert s.stones()[1, 0] == 0 and s.stones()[0, 1] == 0  # A2 and B1 gone
    assert s.liberties(parse_vertex("A1", 5)) == 2
    check_internals(s)


def test_capture_on_edge_and_corner():
    s = GoState(5)
    play(s, "C1 B1 A1 D1 E5 C2")  # C1 captured on the edge; A1 still there
    assert s.stones()[0, 2] == 0
    assert s.liberties(parse_vertex("A1", 5)) == 1
    play(s, "E4 A2")  # corner capture
    assert s.stones()[0, 0] == 0
    assert s.group(parse_vertex("A2", 5)) == [parse_vertex("A2", 5)]
    check_internals(s)


def test_suicide_single_stone_illegal():
    s = diagram([
        ". . . . .",
        ". . . . .",
        ". . . . .",
        "O . . . .",
        ". O . . .",
    ])
    a1 = parse_vertex("A1", 5)
    assert a1 not in s.legal_moves() and not s.is_legal(a1)
    with pytest.raises(IllegalMoveError, match="suicide"):
        s.parse_move("A1")
    s.set_turn(WHITE)
    assert s.is_legal(a1)  # filling one's own eye is legal


def test_suicide_of_a_group_illegal():
    s = diagram([
        ". . . . .",
        ". . . . .",
        "O . . . .",
        "X O . . .",
        ". X O . .",
    ])
    with pytest.raises(IllegalMoveError, match="suicide"):
        s.parse_move("a1")
    assert parse_vertex("A1", 5) not in s.legal_moves()
    # but for White A1 captures both black stones
    s.set_turn(WHITE)
    s.push(s.parse_move("A1"))
    assert s.stones()[1, 0] == 0 and s.stones()[0, 1] == 0


def test_capture_that_looks_like_suicide_is_legal():
    s = diagram([
        ". . . . .",
        ". . . . .",
        "X . . . .",
        "O X . . .",
        ". O X . .",
    ])
    a1 = parse_vertex("A1", 5)
    assert a1 in s.legal_moves()
    s.push(s.parse_move("A1"))
    b = s.stones()
    assert b[1, 0] == 0 and b[0, 1] == 0 and b[0, 0] == 1
    assert s.liberties(a1) == 2
    check_internals(s)
    s.pop()
    check_internals(s)
    assert s.stones()[1, 0] == 2


def test_occupied_and_malformed_messages():
    s = GoState(9)
    play(s, "E5")
    with pytest.raises(IllegalMoveError, match="occupied"):
        s.parse_move("E5")
    with pytest.raises(IllegalMoveError, match="off the"):
        s.parse_move("K5")
    with pytest.raises(IllegalMoveError, match="malformed"):
        s.parse_move("E5 F6")
    assert not s.is_legal(-1) and not s.is_legal(82) and s.is_legal(81)


# -- ko and superko ------------------------------------------------------------------

KO = [
    ". . . . .",
    ". X O . .",
    "X O . O .",
    ". X O . .",
    ". . . . .",
]


def test_simple_ko_and_threat_exchange():
    s = diagram(KO)
    c3, b3 = pts("C3 B3", 5)
    s.push(c3)  # Black takes the ko
    assert s.stones()[2, 1] == 0
    assert b3 not in s.legal_moves()
    with pytest.raises(IllegalMoveError, match="superko"):
        s.parse_move("B3")
    k_banned = s.key()
    play(s, "E5 E4")  # White threatens, Black answers elsewhere
    assert b3 in s.legal_moves()
    s.push(b3)  # White retakes: the board differs by the threat stones
    assert s.stones()[2, 2] == 0
    assert c3 not in s.legal_moves()
    # undo back: the ban returns exactly
    for _ in range(3):
        s.pop()
    assert b3 not in s.legal_moves() and s.key() == k_banned
    check_internals(s)


def test_passes_do_not_lift_positional_superko():
    s = diagram(KO)
    s.push(parse_vertex("C3", 5))
    play(s, "pass pass")  # White to move again: retaking still recreates the start position
    assert s.turn == WHITE and parse_vertex("B3", 5) not in s.legal_moves()


def test_superko_longer_cycle_2x2():
    """A six-move cycle: taking three stones would recreate the position after move 1,
    which a simple-ko rule (only the previous position) would allow."""
    s = GoState(2, 0.0)
    play(s, "A1 B2 B1 A2")  # White A2 takes two
    assert s.board_list() == [0, 0, 2, 2]
    play(s, "A1 B1")  # Black throws in, White takes one
    assert s.board_list() == [0, 2, 2, 2]
    # Black's A1 would take three and recreate the position after move 1
    a1 = parse_vertex("A1", 2)
    assert s.legal_moves() == [s.PASS]
    with pytest.raises(IllegalMoveError, match="superko"):
        s.parse_move("A1")
    assert s._why(a1, 1) == "superko"


def test_superko_non_capturing_repeat_2x2():
    """A non-capturing move may recreate an earlier position (first repeat of the game)."""
    s = GoState(2, 0.0)
    moves = "A2 B1 A1 B2 A1 A2 A1 B1".split()
    history = {tuple(s.board_list())}
    for v in moves:
        s.push(s.parse_move(v))
        history.add(tuple(s.board_list()))
    assert len(history) == len(moves) + 1  # every position so far distinct
    a2 = parse_vertex("A2", 2)
    after = ref_play(s.board_list(), a2, 1, 2)
    assert after is not None and after in history and sum(map(bool, after)) == 3
    assert a2 not in s.legal_moves()
    with pytest.raises(IllegalMoveError, match="superko"):
        s.parse_move("A2")
    assert s.legal_moves() == ref_legal(s.board_list(), 1, 2, history)


def test_superko_for_out_of_turn_colour():
    s = diagram(KO)
    s.push(parse_vertex("C3", 5))
    s.set_turn(BLACK)  # Black to move: Black may play B3 himself (fills the ko)
    assert parse_vertex("B3", 5) in s.legal_moves()
    with pytest.raises(IllegalMoveError, match="superko"):
        s.play_color("w", parse_vertex("B3", 5))
    assert s.turn == BLACK


# -- scoring and the end -------------------------------------------------------------


def test_seki_left_alone_and_scored():
    s = diagram([
        "X X X X .",
        "O X . O O",
        "O X X X X",
        "O O X O O",
        ". O O O .",
    ], komi=0.5)
    c4, e5 = pts("C4 E5", 5)
    # the black chain and the white pair share their only two liberties
    assert s.liberties(parse_vertex("A5", 5)) == 2 and s.liberties(parse_vertex("D4", 5)) == 2
    # either side filling a shared liberty puts itself in atari (that is the seki)
    for color in (BLACK, WHITE):
        t = s.copy()
        t.play_color(color, c4)
        assert t.liberties(c4) == 1
    play(s, "pass pass")
    own = s.area_ownership()
    assert own[c4] == 0 and own[e5] == 0
    assert own[parse_vertex("A1", 5)] == -1 and own[parse_vertex("E1", 5)] == -1
    # Black 10 stones; White 11 stones + A1, E1
    assert s.area() == 10 - 13
    assert s.score() == -3.5 and s.score_text() == "W+3.5"
    assert s.terminal() == LOSS  # Black to move, White wins


def test_tromp_taylor_hand_counted():
    s = diagram([
        ". X O . .",
        ". X O . .",
        ". X O . .",
        ". X O O O",
        ". X . O .",
    ], komi=0.0)
    own = s.area_ownership().reshape(5, 5)
    assert own[0, 2] == 0  # C1 touches both colours
    assert own[0, 4] == -1 and own[4, 0] == 1 and own[4, 4] == -1
    assert s.area() == 10 - 14
    assert s.score() == -4.0
    s.komi = -4.5
    assert s.score() == 0.5 and s.score_text() == "B+0.5"


def test_empty_board_and_lone_stone():
    s = GoState(9, 7.5)
    assert s.area() == 0 and s.score() == -7.5  # no stones: the empty region reaches nobody
    play(s, "E5")
    assert s.area() == 81 and np.all(s.area_ownership() == 1)


def test_komi_and_ties():
    rows = [
        ". X O .",
        ". X O .",
        ". X O .",
        ". X O .",
    ]
    s = diagram(rows, komi=0.0)
    play(s, "pass pass")
    assert s.score() == 0 and s.terminal() == DRAW and s.score_text() == "0"
    s = diagram(rows, komi=0.5)
    play(s, "pass pass")
    assert s.terminal() == LOSS  # Black to move, White wins by komi
    s.push(s.PASS)  # White to move now
    assert s.terminal() == WIN
    s = diagram(rows, komi=-0.5)
    play(s, "pass pass")
    assert s.terminal() == WIN and s.score_text() == "B+0.5"


def test_two_passes_end_the_game():
    s = GoState(5, 0.5)
    assert s.terminal() is None
    play(s, "pass")
    assert s.terminal() is None and s.consecutive_passes == 1
    play(s, "C3 pass")
    assert s.terminal() is None and s.consecutive_passes == 1
    play(s, "pass")
    assert s.consecutive_passes == 2
    assert s.terminal() == LOSS  # Black to move; White's C3 owns the board
    s.pop()
    assert s.terminal() is None and s.consecutive_passes == 1
    s.pop()
    assert s.consecutive_passes == 0
    s.pop()
    assert s.consecutive_passes == 1


# -- handicap and set-up -------------------------------------------------------------

GTP_HANDICAP = {
    19: "D4 Q16 D16 Q4 K10 D10 Q10 K4 K16",
    13: "D4 K10 D10 K4 G7 D7 K7 G4 G10",
    9: "C3 G7 C7 G3 E5 C5 G5 E3 E7",
}


@pytest.mark.parametrize("n", [9, 13, 19])
def test_fixed_handicap_placement(n):
    v = GTP_HANDICAP[n].split()
    # the GTP table: corners first, centre for odd counts, sides from 6, top/bottom from 8
    expected = {
        2: v[:2], 3: v[:3], 4: v[:4], 5: v[:4] + [v[4]], 6: v[:4] + v[5:7],
        7: v[:4] + v[5:7] + [v[4]], 8: v[:4] + v[5:9], 9: v,
    }
    for count, verts in expected.items():
        got = [vertex(p, n) for p in handicap_points(n, count)]
        assert sorted(got) == sorted(verts), (n, count)
        s = GoState.with_handicap(n, 0.5, count)
        assert s.turn == WHITE and s.ply == 0
        assert [p for p, x in enumerate(s.board_list()) if x == 1] == sorted(pts(" ".join(verts), n))
    assert [vertex(p, 19) for p in handicap_points(19, 4)] == ["D4", "Q16", "D16", "Q4"]


@pytest.mark.parametrize("n,count", [(19, 1), (19, 10), (19, 0), (9, 10), (10, 5), (12, 6), (7, 5),
                                     (6, 2), (5, 4), (2, 2)])
def test_fixed_handicap_invalid(n, count):
    with pytest.raises(ValueError):
        handicap_points(n, count)


def test_fixed_handicap_even_and_small_sizes():
    assert [vertex(p, 10) for p in handicap_points(10, 4)] == ["C3", "H8", "C8", "H3"]
    assert [vertex(p, 7) for p in handicap_points(7, 4)] == ["C3", "E5", "C5", "E3"]
    assert len(handicap_points(25, 9)) == 9


def test_free_and_fixed_handicap_on_state():
    s = GoState(9, 0.5)
    s.place_handicap(pts("C3 G7 E5", 9))
    assert s.turn == WHITE and s.ply == 0 and s.score() == 81 - 0.5
    play(s, "D4")  # White moves first
    assert s.turn == BLACK
    with pytest.raises(ValueError):
        s.place_handicap(pts("A1 B2", 9))  # not an empty board any more
    t = GoState(9)
    for bad in (pts("A1", 9), pts("A1 A1", 9), [0, 81], list(range(81))):
        with pytest.raises(ValueError):
            t.place_handicap(bad)
    assert t.place_fixed_handicap(2) == pts("C3 G7", 9) and t.turn == WHITE
    # handicap stones are history's start: pop cannot remove them
    with pytest.raises(IndexError):
        t.pop()


def test_setup_stones():
    s = GoState(9, 6.5, black=pts("C3 D4", 9), white=pts("E5", 9), to_move="w")
    assert s.turn == WHITE and s.ply == 0
    check_internals(s)
    with pytest.raises(InvalidPositionError, match="overlap"):
        GoState(9, black=pts("C3", 9), white=pts("C3", 9))
    with pytest.raises(InvalidPositionError, match="not on"):
        GoState(9, black=[81])
    with pytest.raises(InvalidPositionError, match="no liberties"):
        GoState(5, black=pts("A1", 5), white=pts("A2 B1", 5))


# -- GTP colours, history, key, copy -------------------------------------------------


def test_play_color_out_of_turn():
    s = GoState(9)
    s.play_color("b", parse_vertex("C3", 9))
    s.play_color("black", parse_vertex("D4", 9))
    assert s.turn == WHITE
    s.play_color(1, parse_vertex("E5", 9))
    s.play_color("W", parse_vertex("F6", 9))
    assert s.turn == BLACK
    assert s.move_history() == [(0, 20), (0, 30), (1, 40), (1, 50)]
    s.pop()
    assert s.turn == BLACK  # who was to move before White's second move in a row
    with pytest.raises(IllegalMoveError, match="occupied"):
        s.play_color("w", parse_vertex("C3", 9))
    assert s.turn == BLACK and s.ply == 3
    with pytest.raises(ValueError):
        s.play_color("red", 0)
    s.play_color("w", s.PASS)
    assert s.turn == BLACK and s.consecutive_passes == 1
    s.pop()
    assert s.turn == BLACK
    check_internals(s)


def test_board_history():
    s = GoState(5)
    snaps = [s.board_list()]
    for v in "C3 B3 E5 D3 E4 C4 E1 C2 pass A1".split():
        s.push(s.parse_move(v))
        snaps.append(s.board_list())
    hist = s.board_history(8)
    assert len(hist) == 8
    for i, arr in enumerate(hist):
        assert arr.dtype == np.int8 and arr.shape == (25,)
        assert arr.tolist() == snaps[-1 - i]
    assert len(GoState(5).board_history(8)) == 1
    t = GoState(5)
    play(t, "C3 D3")
    assert len(t.board_history(8)) == 3
    assert s.stones().shape == (5, 5) and s.stones()[0, 0] == 2  # A1 is [row 0, col 0]


def test_key_distinguishes_turn_pass_and_ko():
    s = GoState(9)
    play(s, "E5 D5")
    k = s.key()
    assert 0 <= k < 2**64
    s.set_turn(WHITE)
    assert s.key() != k
    s.set_turn(BLACK)
    assert s.key() == k
    s.push(s.PASS)
    s.push(s.PASS)
    assert s.board_list() == GoState.from_moves(9, 7.5, ["E5", "D5"]).board_list()
    assert s.key() != k
    # same board, same history of boards, but one side has a superko ban
    a = diagram(KO)
    a.push(parse_vertex("C3", 5))
    b = diagram(KO)
    b.push(parse_vertex("C3", 5))
    assert a.key() == b.key()
    # same last 8 boards, turn and pass count; only a's older history bans the ko retake
    for _ in range(8):
        a.push(a.PASS)
    fresh = GoState(5, 0.5, black=[p for p, x in enumerate(a.board_list()) if x == 1],
                    white=[p for p, x in enumerate(a.board_list()) if x == 2], to_move=WHITE)
    for _ in range(8):
        fresh.push(fresh.PASS)
    assert [x.tolist() for x in fresh.board_history(8)] == [x.tolist() for x in a.board_history(8)]
    assert a.turn == fresh.turn == WHITE
    b3 = parse_vertex("B3", 5)
    assert b3 not in a.legal_moves() and b3 in fresh.legal_moves()
    assert a.key() != fresh.key()
    # the key follows the last boards (the net sees them)
    c = GoState(9)
    play(c, "E5 D5 C5")
    d = GoState(9)
    play(d, "C5 D5 E5")
    assert c.position_hash == d.position_hash and c.key() != d.key()


def test_copy_is_independent():
    s = GoState(9, 6.5)
    play(s, "E5 D5 E4 D4 pass E6")
    s.set_turn(WHITE)
    t = s.copy()
    assert t.key() == s.key() and t.legal_moves() == s.legal_moves() and t.turn == WHITE
    play(t, "D6 F5")
    assert s.board_list() != t.board_list()
    while t.ply:
        t.pop()
        check_internals(t)
    while s.ply:
        s.pop()
    assert s.board_list() == t.board_list() == [0] * 81


def test_from_moves_checks_legality():
    s = GoState.from_moves(5, 0.5, [12, "D3", "pass"])
    assert s.ply == 3 and s.turn == WHITE
    with pytest.raises(IllegalMoveError):
        GoState.from_moves(5, 0.5, [12, 12])
    with pytest.raises(IllegalMoveError):
        GoState.from_moves(5, 0.5, ["Z9"])


def test_str_shows_board():
    s = GoState(9)
    play(s, "J9 A1")
    text = str(s)
    lines = text.splitlines()
    assert lines[0].split() == list("ABCDEFGHJ")
    assert lines[1].split() == ["9"] + list("........X") + ["9"]
    assert lines[9].split() == ["1", "O"] + list("........") + ["1"]
    assert "Black to move" in text
    assert s.move_to_text(80) == "J9" and s.move_to_text(81) == "pass"


def test_legal_moves_sorted_and_cached():
    s = GoState(9)
    play(s, "E5")
    m = s.legal_moves()
    assert m is s.legal_moves()
    assert list(m) == sorted(m) and m[-1] == 81 and 40 not in m and len(m) == 81


# -- property tests: random playouts against the reference ---------------------------


def random_move(s: GoState, rng: random.Random, pass_rate: float = 0.0) -> int:
    """Random legal move that does not fill a one-point eye of the mover."""
    c = s.turn + 1
    board = s._board
    cand = [m for m in s.legal_moves()[:-1]
            if not all(board[q] == c for q in ref_nbrs(m, s.size))]
    if not cand or rng.random() < pass_rate:
        return s.PASS
    return rng.choice(cand)


@pytest.mark.parametrize("n,plies,seed,full_every", [
    *[(5, 200, seed, 1) for seed in range(1, 9)],
    *[(9, 300, seed, 1) for seed in (21, 22, 23)],
    (13, 400, 31, 10),
    (19, 700, 3, 40),
])
def test_push_pop_against_reference(n, plies, seed, full_every):
    rng = random.Random(seed)
    s = GoState(n, 7.5)
    board = tuple([0] * (n * n))
    history = {board}
    snaps = []
    moves = []
    captures = 0
    for ply in range(plies):
        c = s.turn + 1
        if ply % full_every == 0:
            assert s.legal_moves() == ref_legal(board, c, n, history), ply
            check_internals(s)
        snaps.append((list(s._board), s.position_hash, s.key(), list(s.legal_moves()), s.turn,
                      s.consecutive_passes, s.area()))
        m = random_move(s, rng, pass_rate=0.02)
        if m != s.PASS:
            after = ref_play(board, m, c, n)
            assert after is not None and after not in history
            captures += sum(map(bool, board)) + 1 - sum(map(bool, after))
            board = after
        history.add(board)
        s.push(m)
        moves.append(m)
        assert s.board_list() == list(board)
        assert s.area() == ref_area(board, n)
        if s.terminal() is not None:
            break
    assert captures > 0
    check_internals(s)
    # pop everything, comparing with the snapshots taken on the way down
    k = len(moves)
    while s.ply:
        k -= 1
        assert s.pop() == moves[k]
        b, h, key, legal, turn, passes, area = snaps[k]
        assert s._board == b and s.position_hash == h and s.turn == turn
        assert s.consecutive_passes == passes
        assert s.legal_moves() == legal and s.key() == key and s.area() == area
        if k % full_every == 0:
            check_internals(s)
        if k % 50 == 0:  # and with a fresh replay
            fresh = GoState.from_moves(n, 7.5, moves[:k])
            assert fresh.key() == s.key() and fresh.legal_moves() == s.legal_moves()
    check_internals(s)


@pytest.mark.parametrize("n,games,seed", [(2, 300, 11), (3, 200, 12), (4, 60, 13)])
def test_tiny_boards_superko_against_reference(n, games, seed):
    """Tiny boards cycle a lot: every legal-move list checked, random colours to move."""
    rng = random.Random(seed)
    bans = 0
    for _ in range(games):
        s = GoState(n, 0.5)
        board = tuple([0] * (n * n))
        history = {board}
        for _ in range(40):
            if rng.random() < 0.2:
                s.set_turn(1 - s.turn)
            c = s.turn + 1
            legal = s.legal_moves()
            ref = ref_legal(board, c, n, history)
            assert legal == ref
            bans += sum(1 for p in range(n * n) if not board[p] and p not in legal
                        and ref_play(board, p, c, n) is not None)
            other = ref_legal(board, 3 - c, n, history)
            for p in range(n * n + 1):  # the per-point checks agree with the list
                assert s.is_legal(p) == (p in ref)
                assert (s._why(p, 3 - c) is None) == (p in other)
            m = rng.choice(legal[:-1]) if len(legal) > 1 and rng.random() < 0.9 else s.PASS
            if m != s.PASS:
                board = ref_play(board, m, c, n)
            history.add(board)
            if rng.random() < 0.5:
                s.push(m)
            else:
                s.play_color(c - 1, m)
            if s.consecutive_passes >= 2:
                break
        check_internals(s)
        while s.ply:
            s.pop()
        check_internals(s)
        assert s.board_list() == [0] * (n * n)
    assert bans > 0  # superko really came up


def test_search_like_descents():
    """Walk down and back up many times from a 9×9 middle game, as the search does."""
    rng = random.Random(5)
    s = GoState(9, 7.5)
    for _ in range(60):
        s.push(random_move(s, rng))
    root_moves = [m for _, m in s.move_history()]
    root = (list(s._board), s.key(), list(s.legal_moves()), s.turn)
    for i in range(300):
        depth = rng.randint(1, 14)
        path = []
        for _ in range(depth):
            m = rng.choice(s.legal_moves())
            s.push(m)
            path.append(m)
            if s.terminal() is not None:
                break
        if i % 15 == 0:
            fresh = GoState.from_moves(9, 7.5, root_moves + path)
            assert fresh.key() == s.key() and fresh.legal_moves() == s.legal_moves()
            assert fresh.board_history(8)[-1].tolist() == s.board_history(8)[-1].tolist()
            check_internals(s)
        for _ in path:
            s.pop()
        assert (s._board, s.key(), s.legal_moves(), s.turn) == root
    check_internals(s)
