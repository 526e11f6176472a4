"""tabula.engine.go.move_choice: the pass and resign rules around the search (no net: a stub stands in)."""

from __future__ import annotations

import doctest
from types import SimpleNamespace

import numpy as np

import tabula.engine.go.move_choice as move_choice
from tabula.engine.games.go import GoState, parse_vertex
from tabula.engine.go.move_choice import (PASS_VETO_VALUE, choose_move, opponent_passed, resigns, root_moves,
                                   wins_as_scored)
from test_go_playouts import endgame


class StubNet:
    """A GoNetwork stand-in: a fixed value after our pass, and playout-free ownership by area."""

    def __init__(self, value: float | None = None) -> None:
        self.v = value

    def value(self, state):
        return self.v

    def ownership(self, state, seconds):
        return state.area_ownership().astype(np.float64)


def report(q: float, nodes: int):
    return SimpleNamespace(lines=[SimpleNamespace(q=q, visits=nodes)], stats=SimpleNamespace(nodes=nodes))


def test_doctests():
    assert doctest.testmod(move_choice).failed == 0


def test_opponent_passed():
    s = GoState(9, 7.5)
    assert not opponent_passed(s)
    s.push(s.nn)
    assert opponent_passed(s)
    s.push(s.nn)
    assert opponent_passed(s)
    s.play_color(1, parse_vertex("E5", 9))  # White again, out of turn: its own pass is not the opponent's
    s.play_color(1, s.nn)
    s.set_turn(1)
    assert not opponent_passed(s)


def test_no_pass_while_behind_and_cleanup():
    s = GoState(9, 7.5)  # Black trails by komi
    assert root_moves(s, StubNet(), False, 0.1) == [m for m in s.legal_moves() if m != s.nn]
    s.set_turn(1)
    assert root_moves(s, StubNet(), False, 0.1) == []  # White leads: every move, pass included
    end = endgame()  # Black ahead; White C5 dead, neutral points remain for the stub's area count
    cleanup = root_moves(end, StubNet(), True, 0.1)
    assert end.nn not in cleanup and parse_vertex("B2", 9) not in cleanup


def test_pass_veto_by_the_net_and_by_dead_stones(monkeypatch):
    end = endgame()  # Black ahead by Tromp-Taylor and with dead stones removed
    assert wins_as_scored(end, StubNet(), 0.1)
    assert not wins_as_scored(end, StubNet(PASS_VETO_VALUE + 0.01), 0.1)
    assert wins_as_scored(end, StubNet(PASS_VETO_VALUE), 0.1)
    calls = []

    def search(moves):
        calls.append(moves)
        return end.nn, report(0.0, 10)

    assert choose_move(end, StubNet(), search, cleanup=False, aside_s=0.1).move == end.nn and len(calls) == 1
    monkeypatch.setattr(move_choice, "score_without", lambda state, dead: -4.5)  # the estimate: Black loses
    calls.clear()
    choice = choose_move(end, StubNet(), search, cleanup=False, aside_s=0.1)
    assert len(calls) == 2 and end.nn not in calls[1] and parse_vertex("B2", 9) not in calls[1]
    assert choice.move == end.nn  # what the second search said (this stub always says pass)


def test_pass_ends_a_won_game_without_a_search():
    end = endgame()
    end.play_color(1, end.nn)
    end.set_turn(0)
    choice = choose_move(end, StubNet(), lambda moves: 1 / 0, cleanup=False, aside_s=0.1)
    assert choice.move == end.nn and choice.report is None


def test_resign_threshold():
    assert resigns(report(-0.95, 300), 50, 200)  # winrate 2.5 % < 5 %
    assert not resigns(report(-0.95, 100), 50, 200)  # too few visits
    assert not resigns(report(-0.95, 300), 0, 200)  # off
    assert not resigns(report(-0.85, 300), 50, 200)  # 7.5 %
    assert not resigns(None, 50, 1)
    s = GoState(9, 7.5)
    lost = lambda moves: (parse_vertex("E5", 9), report(-0.99, 500))  # noqa: E731
    assert choose_move(s, StubNet(), lost, cleanup=False, aside_s=0.1, resign_permille=50,
                       resign_min_visits=200).move is None
    assert choose_move(s, StubNet(), lost, cleanup=True, aside_s=0.1, resign_permille=50,
                       resign_min_visits=200).move == parse_vertex("E5", 9)  # never in cleanup
