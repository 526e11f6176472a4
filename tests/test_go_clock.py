"""tabula.engine.go.clock: GTP/KGS time settings, time left, and each move's limits."""

from __future__ import annotations

import doctest

import pytest

import tabula.engine.go.clock as clock_mod
from tabula.engine.go.clock import UNBOUNDED_MOVE_S, GoClock


def test_doctests():
    assert doctest.testmod(clock_mod).failed == 0


def test_clock_canadian_and_byoyomi():
    c = GoClock()
    c.reset("canadian", 60, 30, 5)
    lim = c.limits(0, 300)
    assert lim.time_ms == 60_000 and lim.moves_to_go is None
    c.spend(0, 70)  # main time gone, 10 s into the first period, one stone played
    assert c.left[0] == [20.0, 4]
    lim = c.limits(0, 300)
    assert lim.time_ms == 20_000 and lim.moves_to_go == 4
    c.set_left(0, 12, 1)
    assert c.limits(0, 300).moves_to_go == 1
    c.reset("byoyomi", 0, 10, periods=3)
    lim = c.limits(1, 300)
    assert lim.time_ms == 0 and lim.byoyomi_ms == 10_000
    c.reset("absolute", 5)
    assert c.limits(0, 300).time_ms == 5000


def test_time_settings_as_gtp_and_kgs_define_them():
    c = GoClock()
    for args, kind in (((0, 1, 0), "none"), ((0, 0, 0), "none"), ((300, 30, 5), "canadian"), ((60, 0, 0), "absolute")):
        c.time_settings(*args)
        assert c.kind == kind
    with pytest.raises(ValueError, match="must not be negative"):
        c.time_settings(-1, 0, 0)
    assert c.kgs_time_settings("byoyomi", [10, 5, 3]) and (c.kind, c.periods) == ("byoyomi", 3)
    assert c.kgs_time_settings("none", []) and c.kind == "none"
    assert not c.kgs_time_settings("fischer", [10, 5]) and not c.kgs_time_settings("absolute", [])
    with pytest.raises(ValueError, match="positive number of stones"):
        c.kgs_time_settings("canadian", [10, 5, 0])


def test_move_limits_and_the_playout_budget():
    c = GoClock()
    opts = {"visits": 0, "movetime_s": 0.0, "overhead_ms": 300.0}
    assert c.move_limits(0, **opts).movetime_ms == UNBOUNDED_MOVE_S * 1000  # nothing bounds it: 5 s
    assert c.move_limits(0, **{**opts, "visits": 50}).nodes == 50
    lim = c.move_limits(0, **opts, playouts=40)  # new playouts alone bound the move: no 5 s fallback
    assert (lim.nodes, lim.playouts, lim.movetime_ms) == (None, 40, None)
    lim = c.move_limits(0, **{**opts, "visits": 50}, playouts=40)
    assert (lim.nodes, lim.playouts) == (50, 40)
    assert c.move_limits(0, **{**opts, "movetime_s": 2.0}, spent_s=0.5).movetime_ms == 1500
    assert c.aside_seconds(0, **{**opts, "visits": 50}) == 1.0  # no time bound: 1 s
    assert c.aside_seconds(0, **{**opts, "movetime_s": 2.0}) == 0.5
    c.time_settings(0, 1.5, 1)
    lim = c.move_limits(0, **opts, spent_s=0.5)
    assert lim.time_ms == 1000 and lim.moves_to_go == 1 and lim.movetime_ms is None
    assert 0.02 <= c.aside_seconds(0, **opts) < 1.0
