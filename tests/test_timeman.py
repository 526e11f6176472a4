"""Time manager: budgets stay inside the clock for every control a GUI sends."""

from __future__ import annotations

import pytest

from tabula.engine.timeman import Clock, allocate, movetime_budget


@pytest.mark.parametrize("time_ms,inc_ms,mtg", [
    (600_000, 0, None), (10_000, 100, None), (1_000, 10, None), (60_000, 0, 40), (5_000, 0, 1),
    (300, 10, None), (50, 0, None), (0, 100, None), (120_000, 2_000, 3),
])
def test_budget_never_exceeds_the_clock(time_ms, inc_ms, mtg):
    overhead = 100
    b = allocate(Clock(time_ms, inc_ms, mtg), overhead_ms=overhead)
    assert 0 <= b.soft_ms <= b.hard_ms
    assert b.hard_ms <= max(0.0, time_ms - 2 * overhead) + 1e-9 or b.hard_ms == 0


def test_sudden_death_spreads_time_and_uses_increment():
    slow = allocate(Clock(60_000, 0), overhead_ms=50)
    fast = allocate(Clock(60_000, 1_000), overhead_ms=50)
    assert 1_000 < slow.soft_ms < 5_000
    assert fast.soft_ms > slow.soft_ms


def test_last_move_before_control_uses_more():
    assert allocate(Clock(10_000, 0, 1), overhead_ms=50).soft_ms > \
        allocate(Clock(10_000, 0, 20), overhead_ms=50).soft_ms * 5


def test_byoyomi_is_used_but_not_exceeded():
    b = allocate(Clock(0, 0, None, byoyomi_ms=1_000), overhead_ms=100)
    assert 800 <= b.soft_ms <= b.hard_ms <= 900
    b = allocate(Clock(60_000, 0, None, byoyomi_ms=1_000), overhead_ms=100)
    assert b.soft_ms >= 900 and b.hard_ms <= 60_000 + 900


def test_movetime_is_exact_less_overhead():
    b = movetime_budget(1_000, 100)
    assert b.soft_ms == b.hard_ms == 900
    assert movetime_budget(50, 100).soft_ms == 1


def test_moves_left_curve_falls_then_levels_off():
    from tabula.engine.timeman import estimated_moves_left
    assert estimated_moves_left(0, 40.0) == 40.0
    left = [estimated_moves_left(ply, 40.0) for ply in range(0, 400, 20)]
    assert all(a > b for a, b in zip(left[:4], left[1:5]))  # the opening and middlegame count down
    assert min(left) > 5.0                                 # a long game never plans on its last move


def test_increments_still_to_come_are_planned_with():
    no_inc = allocate(Clock(10_000, 0), overhead_ms=100, moves_left=40)
    inc = allocate(Clock(10_000, 100), overhead_ms=100, moves_left=40)
    # 10 s less the overhead over 40 moves, plus the 39 increments still to come spread over
    # them, plus 3/4 of this move's own
    assert abs(no_inc.soft_ms - 9_900 / 40) < 1e-6
    assert abs(inc.soft_ms - (9_900 + 100 * 39) / 40 - 75) < 1e-6
