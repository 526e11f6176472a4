"""The compiled KataGo features (engine/native/kata_encoder.py) against KataGo's dumps and the
reference (engine/codecs/katago_features.py), and the search that encodes with them."""

from __future__ import annotations

import numpy as np
import pytest

from tabula.bench import katago_lockstep as lockstep
from tabula.engine.codecs.katago_features import GLOBAL_FEATURES, SPATIAL_FEATURES, KataFeatures, KataRules
from tabula.engine.games.go import GoState
from tabula.engine.native import go_rules as gr
from tabula.engine.native import kata_encoder as ke
from tabula.engine.native.go_state import NativeGoState
from test_katago_features import (CASES, HISTORY_CASES, PLANE_CASES, RULES, replay_reference_case, state_of,
                                  vertices)


def compiled_fill(s: GoState, feats: KataFeatures) -> tuple[np.ndarray, np.ndarray]:
    """The compiled features of ``s`` as a search root (a fresh context)."""
    nat = NativeGoState.from_state(s, room=8)
    ctx = ke.ctx_for(s, feats, nat.g.hhash.size)
    ke.prepare_root(ctx, nat.g)
    moves = np.zeros(gr.MAX_POINTS + 1, np.int32)
    nl = gr.legal_moves(nat.g, moves)
    spatial = np.full((SPATIAL_FEATURES, s.size, s.size), 7.0, np.float32)   # every element is written
    glob = np.full(GLOBAL_FEATURES, 7.0, np.float32)
    ke.fill(ctx, nat.g, moves, nl, spatial, glob)
    return spatial, glob


def play(s: GoState, colour: str, vertex: str) -> None:
    s.play_color(colour.lower(), s.PASS if vertex == "pass" else s.parse_move(vertex))


@pytest.mark.parametrize("name", PLANE_CASES)
def test_compiled_matches_katago_reference_dump(name: str) -> None:
    """KataGo's testnninputs.cpp games: every printed plane and global, from the compiled encoder."""
    case = CASES[name]
    feats = KataFeatures(case["size"], RULES[case["rules"]], draw_equivalent_wins_for_white=case["draw"])
    assert replay_reference_case(case, lambda s: compiled_fill(s, feats)) == len(case["checks"])


@pytest.mark.parametrize("name", HISTORY_CASES)
def test_compiled_history_past_the_end_of_the_game(name: str) -> None:
    """KataGo's dump of which moves the net sees, through passes, game end and play after it."""
    case = CASES[name]
    s = state_of(case)
    feats = KataFeatures(9, RULES[case["rules"]])
    for i, want in enumerate(case["history"]):
        spatial, glob = compiled_fill(s, feats)
        seen = ["pass" if glob[k] else (vertices(spatial, 9 + k) or ["null"])[0] for k in range(5)]
        assert seen == want, f"{name} after {i} moves"
        if i < len(case["moves"]):
            play(s, *case["moves"][i])


def test_textbook_ladder_and_its_breaker() -> None:
    probe = GoState(19)
    black = [probe.parse_move(v) for v in ("C4", "D3", "E3")]
    spatial, _ = compiled_fill(GoState(19, 7.5, black=black, white=[probe.parse_move("D4")]), KataFeatures(19))
    assert vertices(spatial, 14) == ["D4"] and vertices(spatial, 17) == ["D5"]
    spatial, _ = compiled_fill(GoState(19, 7.5, black=black, white=[probe.parse_move(v) for v in ("D4", "Q16")]),
                               KataFeatures(19))
    assert vertices(spatial, 14) == [] and vertices(spatial, 17) == []


@pytest.mark.parametrize("sizes,games,rules", [
    ([9, 13, 19], 3, None),
    ([9], 2, KataRules.from_name("tromp-taylor")),     # multi-stone suicide: ko bans, pass-alive area
    ([13], 1, KataRules("positional", False, "N", True)),    # handicap bonus, friendly passes
])
def test_lockstep_with_the_reference_over_random_games(sizes: list[int], games: int, rules: KataRules | None) -> None:
    """Roots, children and grandchildren of seeded atari-chasing games: every element equal."""
    tally = lockstep.run(games, sizes, seed=11, every=9, rules=rules)
    assert tally.positions > 100 and tally.laddered > 20 and tally.working > 5 and tally.prev_ladders > 20


def test_lockstep_when_the_ladder_budget_shrinks() -> None:
    """A node budget of 3: ladder answers then depend on move order and chain lists; still equal,
    and different from the full budget's (so the budget really ran out)."""
    small = lockstep.run(2, [13], seed=5, every=6, budget=3)
    full = lockstep.run(2, [13], seed=5, every=6)
    assert small.positions == full.positions > 100
    assert small.laddered != full.laddered


def test_rules_it_serves() -> None:
    assert ke.serves(KataRules()) and ke.serves(KataRules.from_name("tromp-taylor"))
    assert not ke.serves(KataRules.from_name("chinese")) and not ke.serves(KataRules.from_name("new-zealand"))


@pytest.fixture(scope="module")
def katago_net(tmp_path_factory):
    from search_golden import build_nets
    return build_nets(tmp_path_factory.mktemp("katago_net"), {"katago"})["katago"]


def search_summary(net, position: str, size: int, nodes: int, batch: int, python_leaves: bool,
                   monkeypatch: pytest.MonkeyPatch) -> tuple[dict, bool]:
    """A fixed-node compiled search of ``position``; (summary with the root's score, whether the
    KataGo features were the compiled ones)."""
    from search_golden import drive, native_factory, summarise

    from tabula.bench.nps import parse_position
    from tabula.engine.evaluator import OnnxEvaluator
    from tabula.engine.search import go_kernels
    from tabula.engine.search.params import SearchParams
    with monkeypatch.context() as m:
        if python_leaves:
            m.setattr(go_kernels, "kata_features_of", lambda codec: None)
        ev = OnnxEvaluator(net, backend="cpu", threads=1, max_batch=batch)
        try:
            ev.codec.set_board_size(size)
            state = parse_position("go", position)
            search, _, _ = native_factory()(ev, state.copy(), SearchParams(minibatch=batch), 20000, [])
            compiled = search._go is not None and search._go.kata is not None  # noqa: SLF001
            drive(search, nodes, batch)
            out = summarise(search, state)
            out["lines"] = [(ln.move, ln.visits, ln.pv, ln.score) for ln in search.lines(5)]
            return out, compiled
        finally:
            ev.close()


@pytest.mark.parametrize("position,size", [
    ("size 13 komi 7.5 moves D4 D5 C5 E4 C4 E5 K10 D3 E3 C3 F4 pass B3", 13),   # Black's chain in a ladder
    ("size 9 komi 6.5 moves E5 C3 D4 C5 pass", 9),                               # a pass ends the game
])
def test_search_on_compiled_features_equals_the_python_leaf_path(katago_net, position: str, size: int,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled go gatherer with KataGo's features searches exactly as the Python leaf path:
    the same visits, Q and score per root move."""
    got, compiled = search_summary(katago_net, position, size, 160, 8, False, monkeypatch)
    want, python = search_summary(katago_net, position, size, 160, 8, True, monkeypatch)
    assert compiled and not python
    assert got == want


def test_lockstep_when_the_ladder_cache_collides(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two cache entries: the scans of a position, its parent and grandparent keep taking each
    other's entries (each plane is read before another scan may take its entry)."""
    monkeypatch.setattr(ke, "CACHE_ENTRIES", 2)
    tally = lockstep.run(2, [9, 13], seed=3, every=4)
    assert tally.positions > 100 and tally.prev_ladders > 20
