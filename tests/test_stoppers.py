"""The stop chain (engine/search/stoppers.py), above all lc0's smart pruning: its stop rule and
the room it gives the root rule, both held back for the tolerance after the first evaluation."""

from __future__ import annotations

import pytest

from tabula.engine.search.mcts import SearchStats
from tabula.engine.search.stoppers import (SMART_PRUNING_TOLERANCE_S, Chain, NodesStopper, PlayoutsStopper,
                                           SmartPruningStopper, TimeStopper)

INF = float("inf")


def stats(elapsed: float, nodes: int, top: tuple[int, int] = (0, 0), playouts: int | None = None) -> SearchStats:
    return SearchStats(playouts=nodes if playouts is None else playouts, nodes=nodes,
                       elapsed=elapsed, top_visits=top)


def test_lc0s_tolerance_is_200_ms():
    assert SMART_PRUNING_TOLERANCE_S == pytest.approx(0.2)


def test_before_the_tolerance_the_root_rule_counts_the_node_limit_undivided():
    nodes = NodesStopper(400)
    sp = SmartPruningStopper(1.33, (nodes,))
    chain = Chain([nodes, sp])
    assert chain.prune_room(stats(0.0, 0)) == 400          # nothing evaluated yet: the whole limit
    assert chain.prune_room(stats(0.01, 10)) == 390        # first evaluation at 10 ms
    assert chain.prune_room(stats(0.2, 300)) == 100        # 190 ms after it: still undivided
    assert chain.prune_room(stats(0.22, 310)) == pytest.approx(90 / 1.33)  # 210 ms after it


def test_before_the_tolerance_a_time_estimate_does_not_count():
    timed = TimeStopper(1.0)
    sp = SmartPruningStopper(1.33, (timed,))
    chain = Chain([timed, sp])
    assert chain.prune_room(stats(0.01, 10)) == INF
    assert chain.prune_room(stats(0.15, 150)) == INF
    # 500 playouts in 0.5 s leave 500 more in the second half; the rule counts 500 / 1.33
    assert chain.prune_room(stats(0.5, 500)) == pytest.approx(500 / 1.33)


def test_the_stop_rule_waits_for_the_tolerance():
    nodes = NodesStopper(400)
    sp = SmartPruningStopper(1.33, (nodes,))
    chain = Chain([nodes, sp])
    assert not chain.should_stop(stats(0.01, 10, (10, 0)))
    # a gap of 300 with 100 playouts left is decided, but 150 ms is inside the tolerance
    assert not chain.should_stop(stats(0.15, 300, (290, 0)))
    assert chain.should_stop(stats(0.25, 300, (290, 0)))
    assert chain.reason == "pruned"


def test_the_stop_rule_needs_a_gap_beyond_the_room():
    nodes = NodesStopper(1000)
    sp = SmartPruningStopper(1.33, (nodes,), tolerance=0.0)
    sp.should_stop(stats(0.0, 1))
    assert not sp.should_stop(stats(0.5, 600, (300, 100)))   # gap 200 < 400 / 1.33
    assert sp.should_stop(stats(0.5, 600, (350, 40)))        # gap 310 > 300.75
    assert not sp.should_stop(stats(0.5, 20, (20, 0)))       # fewer than min_playouts


def test_smart_pruning_off_gives_no_room_and_never_stops():
    nodes = NodesStopper(400)
    sp = SmartPruningStopper(0.0, (nodes,))
    chain = Chain([nodes, sp])
    assert chain.prune_room(stats(1.0, 390)) == INF
    assert not sp.should_stop(stats(1.0, 390, (390, 0)))
    assert Chain([nodes]).prune_room(stats(1.0, 390)) == INF  # no smart pruning in the chain


def test_reused_visits_count_against_the_node_limit():
    nodes = NodesStopper(400)
    sp = SmartPruningStopper(1.33, (nodes,))
    # 250 visits came from the previous search: 40 new playouts leave 110
    assert sp.room(stats(0.01, 290, playouts=40)) == 110


def test_the_tolerance_is_read_when_the_stopper_is_built(monkeypatch):
    import tabula.engine.search.stoppers as mod
    monkeypatch.setattr(mod, "SMART_PRUNING_TOLERANCE_S", INF)
    sp = SmartPruningStopper(1.33, (NodesStopper(400),))
    assert sp.tolerance == INF
    sp.room(stats(0.0, 1))
    assert sp.room(stats(100.0, 300)) == 100    # never past the tolerance: the node limit, undivided
    assert not sp.should_stop(stats(100.0, 300, (300, 0)))


def test_a_playouts_cap_counts_this_searchs_playouts_not_the_reused_visits():
    # 150 visits kept from the last move's tree, 100 new playouts so far
    s = stats(0.1, 250, playouts=100)
    visits, playouts = NodesStopper(400), PlayoutsStopper(400)
    assert visits.remaining_playouts(s) == 150 and playouts.remaining_playouts(s) == 300
    assert not playouts.should_stop(s) and playouts.should_stop(stats(0.5, 550, playouts=400))
    assert playouts.exact and playouts.reason == "nodes"  # a hard count: finish waits for every playout
    # both caps: the nearer ends the search, and smart pruning's room before its tolerance is that one's
    chain = Chain([visits, playouts, SmartPruningStopper(1.33, (visits, playouts))])
    assert chain.remaining_playouts(s) == 150 and chain.prune_room(s) == 150
