"""tabula.engine.go.handicap: free handicap placement."""

from __future__ import annotations

import doctest

import tabula.engine.go.handicap as handicap_mod
from tabula.engine.games.go import handicap_points
from tabula.engine.go.handicap import free_handicap


def test_doctests():
    assert doctest.testmod(handicap_mod).failed == 0


def test_fixed_points_first_then_spread_out():
    assert free_handicap(19, 4) == handicap_points(19, 4)
    assert free_handicap(19, 9) == handicap_points(19, 9)
    assert len(set(free_handicap(5, 4))) == 4 and len(free_handicap(19, 20)) == 20
    assert len(set(free_handicap(19, 20))) == 20
