"""lc0's root rule under smart pruning (engine/search/rootprune.py): the rule itself, and that the
controller hands both searches its room, on one thread and on several. The search-level effect
(reference and compiled searches alike) is in the golden scenarios ``*-prune-*``."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("onnx")

from search_golden import build_nets  # noqa: E402

from tabula.engine.controller import Engine, Limits  # noqa: E402
from tabula.engine.games.chess_game import ChessState  # noqa: E402
from tabula.engine.search import native  # noqa: E402
from tabula.engine.search.rootprune import hopeless, room_for  # noqa: E402

HANG_S = 120.0


def test_moves_that_cannot_catch_the_best_are_skipped():
    n = np.array([50, 12, 30, 0, 41], np.int32)
    assert hopeless(n, 0, 15.0).tolist() == [False, True, True, True, False]
    assert hopeless(n, 0, 20.0).tolist() == [False, True, False, True, False]
    # the best move is never skipped, even when it is not the most visited (Q decides the best)
    assert hopeless(n, 1, 5.0).tolist() == [False, False, False, True, False]


def test_nothing_is_skipped_while_the_room_covers_every_gap():
    n = np.array([50, 12, 30], np.int32)
    assert hopeless(n, 0, float("inf")) is None
    assert hopeless(n, 0, 50.0) is None    # more room than the best's visits: no gap is out of reach
    assert hopeless(n, 0, 38.0) is None    # the largest gap, 38, is still within reach
    assert hopeless(np.array([7], np.int32), 0, 1.0) is None


def test_room_is_the_playouts_left_over_the_smart_pruning_factor():
    assert room_for(133.0, 1.33) == pytest.approx(100.0)
    assert room_for(100.0, 0.0) == float("inf")  # smart pruning off: the rule is off
    assert room_for(float("inf"), 1.33) == float("inf")


@pytest.fixture(scope="module")
def chess_net(tmp_path_factory):
    return build_nets(tmp_path_factory.mktemp("prune_nets"), {"chess"})["chess"]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("pruning", [True, False])
def test_the_controller_applies_the_rule_only_with_smart_pruning(chess_net, monkeypatch, threads, pruning):
    calls: list[float] = []
    skipped: list[int] = []

    def spy(visits, best, room):
        calls.append(room)
        out = hopeless(visits, best, room)
        if out is not None:
            skipped.append(int(out.sum()))
        return out

    monkeypatch.setattr(native, "hopeless", spy)
    eng = Engine("chess")
    for name, value in (("WeightsFile", str(chess_net)), ("Threads", "1"), ("SearchThreads", str(threads)),
                        ("MinibatchSize", "4"), ("SmartPruning", "true" if pruning else "false")):
        eng.set_option(name, value)
    eng.ensure_ready()
    eng.set_position(ChessState(), "startpos", [])
    done: list = []
    finished = threading.Event()
    eng.go(Limits(nodes=600), lambda r: None, lambda best, ponder: (done.append(best), finished.set()))
    assert finished.wait(HANG_S)
    eng.wait()
    assert done[0] in ChessState().legal_moves()
    if pruning:
        assert calls and all(r < 600 for r in calls)
        assert skipped, "at 600 nodes the rule should have skipped a root move"
    else:
        assert not calls
