"""tabula.engine.go.sgf: the one SGF reader and writer (GTP loadsgf/printsgf, match records)."""

from __future__ import annotations

import doctest

import pytest

import tabula.engine.go.sgf as sgf_mod
from tabula.engine.games.base import IllegalMoveError
from tabula.engine.games.go import BLACK, WHITE, parse_vertex
from tabula.engine.go.sgf import SgfGame, SgfPropertyError, parse_sgf_main_line, sgf_coord, sgf_point, write_sgf


def test_doctests():
    assert doctest.testmod(sgf_mod).failed == 0


def test_sgf_main_line_and_points():
    nodes = parse_sgf_main_line("(;SZ[9]C[a \\] b];B[ee];W[](;B[cc];W[dd])(;B[gg]))(;SZ[19])")
    assert nodes == [{"SZ": ["9"], "C": ["a ] b"]}, {"B": ["ee"]}, {"W": [""]}, {"B": ["cc"]}, {"W": ["dd"]}]
    assert sgf_point("aa", 9) == parse_vertex("A9", 9) and sgf_point("ai", 9) == parse_vertex("A1", 9)
    assert sgf_point("tt", 19) == 361 and sgf_coord(parse_vertex("D4", 19), 19) == "dp"
    with pytest.raises(ValueError):
        parse_sgf_main_line("(;B[aa]")


def test_root_properties_and_their_errors():
    game = SgfGame.parse("(;GM[1]SZ[9]KM[5.5]HA[2]AB[cc][gg]AW[ee:ff]PL[W];W[dd];B[];W[tt](;B[hh])(;B[aa]))")
    assert game.board_size() == 9 and game.komi(7.5) == 5.5
    loaded = game.load(9, 5.5)
    assert loaded.handicap == 2 and loaded.to_move == WHITE and len(loaded.white) == 4
    assert loaded.state.ply == 4 and loaded.state.move_history()[-1] == (BLACK, parse_vertex("H2", 9))
    assert game.load(9, 5.5, limit=2).state.ply == 1
    assert SgfGame.parse("(;B[aa])").board_size() == 19 and SgfGame.parse("(;KM[ ])").komi(6.5) == 6.5
    for text, why in (("(;SZ[x])", "SZ must be an integer, not 'x'"), ("(;KM[abc])", "KM must be a number"),
                      ("(;KM[inf])", "KM must be finite")):
        with pytest.raises(SgfPropertyError, match=why):
            g = SgfGame.parse(text)
            g.board_size(), g.komi(7.5)
    with pytest.raises(SgfPropertyError, match="invalid color 'Q'"):
        SgfGame.parse("(;SZ[9]PL[Q]AB[aa])").load(9, 7.5)
    with pytest.raises(ValueError, match="set-up stones after the first node"):
        SgfGame.parse("(;SZ[9];B[aa];AB[bb])").load(9, 7.5)
    with pytest.raises(IllegalMoveError):
        SgfGame.parse("(;SZ[9];B[aa];W[ba];B[ab];W[bb];B[aa])").load(9, 7.5)
    with pytest.raises(ValueError, match="no game"):
        SgfGame.parse("()")


def test_writer_as_gtp_printsgf_and_the_referee_write_it():
    n = 9
    setup = write_sgf(n, 5.5, [(WHITE, parse_vertex("D6", n)), (BLACK, n * n)], app="Tabula:0.1.0", handicap=2,
                      black=[parse_vertex("C7", n)], white=[parse_vertex("E5", n)], to_move=WHITE)
    assert setup == "(;GM[1]FF[4]CA[UTF-8]AP[Tabula:0.1.0]SZ[9]KM[5.5]RU[Chinese]HA[2]AB[cc]AW[ee]PL[W];W[dd];B[])"
    record = write_sgf(n, 7.0, [(BLACK, parse_vertex("E5", n)), (WHITE, n * n)], app="tabula-referee",
                       players=("A", "B"), result="B+12.5")
    assert record == "(;GM[1]FF[4]CA[UTF-8]AP[tabula-referee]SZ[9]KM[7]RU[Chinese]PB[A]PW[B]RE[B+12.5];B[ee];W[])"
    back = SgfGame.parse(setup).load(n, 5.5)
    assert back.black == [parse_vertex("C7", n)] and back.to_move == WHITE and back.state.ply == 2


def test_referee_records_use_the_one_writer():
    from tabula.bench.gtp_referee import Game
    from tabula.bench.match.writers import sgf_text

    g = Game("Tabula 0.1.0", "GNU Go 3.8", ["E5", "C3", "pass", "G7", "PASS", "pass"], "B+12.5", "x")
    assert sgf_text(g, 9, 7.0) == ("(;GM[1]FF[4]CA[UTF-8]AP[tabula-referee]SZ[9]KM[7]RU[Chinese]PB[Tabula 0.1.0]"
                                   "PW[GNU Go 3.8]RE[B+12.5];B[ee];W[cg];B[];W[gc];B[];W[])\n")
