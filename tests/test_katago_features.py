"""KataGo version-7 input features: KataGo's own reference dumps, cache exactness, unit checks."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from tabula.engine.codecs import katago_board
from tabula.engine.codecs.katago_features import (
    GLOBAL_FEATURES, SPATIAL_FEATURES, KataFeatures, KataRules, _point_neighbours, playable)
from tabula.engine.games.go import GoState

DATA = json.loads((Path(__file__).parent / "data" / "katago_features_v7.json").read_text())
CASES = {c["name"]: c for c in DATA["cases"]}
#: rules of the dumped tests: Tromp-Taylor, and KataGo's default Rules() with suicide off
RULES = {"tromp-taylor": KataRules.from_name("tromp-taylor"),
         "tromp-taylor-friendly": KataRules("positional", True, "0", True),
         "positional-area-nosuicide": KataRules("positional", False)}
PLANE_CASES = [name for name, c in CASES.items() if c["checks"]]
HISTORY_CASES = [name for name, c in CASES.items() if "history" in c]


def buffers(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((SPATIAL_FEATURES, n, n), np.float32), np.zeros(GLOBAL_FEATURES, np.float32)


def state_of(case: dict) -> GoState:
    n = case["size"]
    probe = GoState(n)
    return GoState(n, case["komi"], black=[probe.parse_move(v) for v in case["black"]],
                   white=[probe.parse_move(v) for v in case["white"]], to_move=case["to_move"])


def check_against(case: dict, check: dict, spatial: np.ndarray, glob: np.ndarray) -> None:
    n = case["size"]
    for c, digits in check["planes"].items():
        want = np.array([int(d) for d in digits], dtype=np.float32).reshape(n, n)
        np.testing.assert_array_equal(spatial[int(c)], want, err_msg=f"{case['name']} plane {c}")
    for c, value in check["globals"].items():
        got = float(glob[int(c)])
        assert float(f"{got:.6g}") == value, f"{case['name']} global {c}: {got} != {value}"


def replay_reference_case(case: dict, encode: Callable[[GoState], tuple[np.ndarray, np.ndarray]],
                          after_move: Callable[[GoState], object] | None = None) -> int:
    """Replay one of KataGo's dumped games, checking ``encode``'s features wherever KataGo
    printed them (turn and komi set as it set them); ``after_move`` sees every position."""
    s = state_of(case)
    moves = case["moves"]
    checked = 0
    for i in range(len(moves) + 1):
        for check in case["checks"]:
            if (check["after"] if check["after"] is not None else len(moves)) != i:
                continue
            if check["turn"] is not None:
                s.set_turn(check["turn"])
            if check["komi"] is not None:
                s.komi = check["komi"]
            check_against(case, check, *encode(s))
            checked += 1
        if i < len(moves):
            colour, vertex = moves[i]
            s.play_color(colour.lower(), s.PASS if vertex == "pass" else s.parse_move(vertex))
            if after_move is not None:
                after_move(s)
    return checked


@pytest.mark.parametrize("incremental", [True, False])
@pytest.mark.parametrize("name", PLANE_CASES)
def test_matches_katago_reference_dump(name: str, incremental: bool) -> None:
    """Replay KataGo's testnninputs.cpp games; every printed plane and global matches (VERSION 7)."""
    case = CASES[name]
    feats = KataFeatures(case["size"], RULES[case["rules"]], draw_equivalent_wins_for_white=case["draw"],
                         incremental=incremental, debug=True)
    spatial, glob = buffers(case["size"])

    def encode(s: GoState) -> tuple[np.ndarray, np.ndarray]:
        feats.fill(s, spatial, glob)
        return spatial, glob

    # incremental: every position goes through the caches
    assert replay_reference_case(case, encode, encode if incremental else None) == len(case["checks"])


@pytest.mark.parametrize("name", HISTORY_CASES)
def test_history_past_the_end_of_the_game(name: str) -> None:
    """KataGo's dump of which moves the net sees, through passes, game end and play after it."""
    case = CASES[name]
    s = state_of(case)
    feats = KataFeatures(9, RULES[case["rules"]], debug=True)
    spatial, glob = buffers(9)
    for i, want in enumerate(case["history"]):
        feats.fill(s, spatial, glob)
        seen = []
        for k in range(5):
            pts = vertices(spatial, 9 + k)
            seen.append("pass" if glob[k] else pts[0] if pts else "null")
        assert seen == want, f"{name} after {i} moves"
        if i < len(case["moves"]):
            colour, vertex = case["moves"][i]
            s.play_color(colour.lower(), s.PASS if vertex == "pass" else s.parse_move(vertex))


def test_basic_game_has_ladders_and_history() -> None:
    """The 159-move reference game exercises what matters: ladders on three boards, history, area."""
    check = CASES["basic"]["checks"][0]["planes"]
    assert sum(map(int, check["14"])) == 23 and sum(map(int, check["17"])) == 8
    assert all(sum(map(int, check[str(c)])) == 1 for c in range(9, 14))


def compare_search_pattern(size: int, rules: KataRules, games: int, plies: int, seed: int,
                           every: int = 6, children: int = 3) -> int:
    """Random games walked like a search (push, encode children and grandchildren, pop); cached == scratch."""
    rng = random.Random(seed)
    nbrs = _point_neighbours(size)
    a, ga = buffers(size)
    b, gb = buffers(size)
    checked = 0
    for _ in range(games):
        inc = KataFeatures(size, rules, debug=True)
        ref = KataFeatures(size, rules, incremental=False)
        s = GoState(size, 7.5)
        for t in range(plies):
            moves = playable(s, nbrs)
            if t % every == 0:
                inc.fill(s, a, ga)
                kids = rng.sample(moves, min(children, len(moves))) + [s.PASS] * (rng.random() < 0.3)
                for m in kids:
                    s.push(m)
                    for _ in range(1 + (rng.random() < 0.3)):   # sometimes a grandchild too
                        inc.fill(s, a, ga)
                        ref.fill(s, b, gb)
                        checked += 1
                        assert np.array_equal(a, b) and np.array_equal(ga, gb), f"ply {t}\n{s}"
                        grand = playable(s, nbrs)
                        if not grand or s.consecutive_passes:
                            break
                        s.push(rng.choice(grand))
                    while s.ply > t:
                        s.pop()
            if not moves:
                s.push(s.PASS)
                if s.consecutive_passes >= 2:
                    break
            else:
                s.push(rng.choice(moves))
    return checked


@pytest.mark.parametrize("size,rules,games,plies", [
    (19, KataRules(), 2, 200),
    (13, KataRules.from_name("tromp-taylor"), 1, 170),         # suicide legal for the pass-alive test
    (9, KataRules(), 4, 120),                                  # to the end: pass-alive groups, captures
    (9, KataRules.from_name("chinese"), 3, 110),               # simple ko, friendly passes
    (7, KataRules.from_name("new-zealand"), 4, 100),           # situational superko, suicide legal
])
def test_cached_equals_from_scratch(size: int, rules: KataRules, games: int, plies: int) -> None:
    """Reused ladder searches, incremental area and cached boards give exactly the from-scratch features.

    ``debug=True`` also checks, at every fill, that each ladder search changed
    chain data only where it recorded (and only inside its footprint) and that
    the incremental area equals a full ``calculateArea``.
    """
    assert compare_search_pattern(size, rules, games, plies, seed=size * 7 + len(rules.ko)) > 100


def test_cached_equals_from_scratch_when_ladders_run_out_of_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny node budget makes ladder answers depend on move order and chain lists: still exact."""
    monkeypatch.setattr(katago_board, "LADDER_BUDGET", 3)  # the name the searches read
    assert compare_search_pattern(13, KataRules(), 2, 120, seed=3, every=4) > 100


def fill(s: GoState, rules: KataRules | None = None, **kw) -> tuple[np.ndarray, np.ndarray]:
    spatial, glob = buffers(s.size)
    KataFeatures(s.size, rules, **kw).fill(s, spatial, glob)
    return spatial, glob


def vertices(spatial: np.ndarray, plane: int) -> list[str]:
    """Non-zero points of a plane as GTP vertices (row 0 of the plane is the top line)."""
    n = spatial.shape[1]
    cols = "ABCDEFGHJKLMNOPQRST"
    return sorted(f"{cols[x]}{n - y}" for y, x in zip(*np.nonzero(spatial[plane])))


def setup(black: list[str], white: list[str], to_move: str = "b", size: int = 19) -> GoState:
    probe = GoState(size)
    return GoState(size, 7.5, black=[probe.parse_move(v) for v in black],
                   white=[probe.parse_move(v) for v in white], to_move=to_move)


def test_textbook_ladder_works_and_breaker_breaks_it() -> None:
    spatial, _ = fill(setup(["C4", "D3", "E3"], ["D4"]))
    assert vertices(spatial, 14) == ["D4"]          # capturable in a ladder
    assert vertices(spatial, 17) == ["D5"]          # Black's working atari
    for breaker in ("K10", "Q16"):                  # on the ladder's diagonal
        spatial, _ = fill(setup(["C4", "D3", "E3"], ["D4", breaker]))
        assert vertices(spatial, 14) == [] and vertices(spatial, 17) == []
    spatial, _ = fill(setup(["C4", "D3", "E3"], ["D4", "C16"]))   # off the path
    assert vertices(spatial, 14) == ["D4"]
    spatial, _ = fill(setup(["C4", "D3", "E3"], ["D4"], to_move="w"))
    assert vertices(spatial, 14) == ["D4"] and vertices(spatial, 17) == []  # 17: the opponent's chains only


def test_planes_orientation_and_full_overwrite() -> None:
    s = GoState(9, 7.5)
    s.push(s.parse_move("A1"))          # black, bottom-left
    s.push(s.parse_move("J9"))          # white, top-right
    spatial = np.full((SPATIAL_FEATURES, 9, 9), 7.0, np.float32)
    glob = np.full(GLOBAL_FEATURES, 7.0, np.float32)
    KataFeatures(9).fill(s, spatial, glob)
    assert set(np.unique(spatial)) <= {0.0, 1.0}
    assert spatial[0].all()
    assert vertices(spatial, 1) == ["A1"] and spatial[1, 8, 0] == 1.0   # Black to move: pla
    assert vertices(spatial, 2) == ["J9"] and spatial[2, 0, 8] == 1.0
    assert vertices(spatial, 9) == ["J9"] and vertices(spatial, 10) == ["A1"]
    assert vertices(spatial, 4) == ["A1", "J9"]                          # two liberties each


def test_komi_global_sign_clip_and_parity() -> None:
    s = GoState(19, 7.5)
    _, g = fill(s)                      # Black to move: White's komi counts against
    assert g[5] == pytest.approx(-0.375) and g[18] == pytest.approx(-0.5)
    s.push(s.parse_move("Q16"))
    _, g = fill(s)
    assert g[5] == pytest.approx(0.375) and g[18] == pytest.approx(0.5)
    s.komi = 1000.0
    _, g = fill(s)
    assert g[5] == pytest.approx((361 + 20) / 20)
    s.komi = 7.0                         # integer komi: draw utility folds in
    _, g = fill(s, draw_equivalent_wins_for_white=1.0)
    assert g[5] == pytest.approx(7.5 / 20)
    assert fill(setup(["D4", "Q16"], [], to_move="w"), KataRules.from_name("chinese"))[1][5] == pytest.approx(9.5 / 20)


def test_pass_flags_history_and_friendly_pass() -> None:
    s = GoState(9, 7.5)
    s.push(s.parse_move("E5"))
    s.push(s.PASS)                       # White passed; Black to move
    spatial, g = fill(s)
    assert g[0] == 1.0 and g[1] == 0.0 and vertices(spatial, 10) == ["E5"]
    assert g[14] == 1.0                  # a pass now would end the game
    spatial, g = fill(s, KataRules.from_name("chinese"))   # friendly pass: history hidden
    assert g[:5].sum() == 0 and spatial[9:14].sum() == 0 and g[14] == 0.0
    s.push(s.parse_move("D4"))           # alternation broken by nothing: W pass, B D4
    spatial, g = fill(s)
    assert vertices(spatial, 9) == ["D4"] and g[1] == 1.0 and vertices(spatial, 11) == ["E5"] and g[14] == 0.0


def test_simple_ko_point_and_superko_rules() -> None:
    s = setup(["D5", "C4", "D3"], ["E5", "F4", "E3", "D4"], to_move="b", size=9)
    s.push(s.parse_move("E4"))           # Black takes the ko at D4
    for rules in (KataRules(), KataRules.from_name("chinese"), KataRules.from_name("aga")):
        spatial, g = fill(s, rules)
        assert vertices(spatial, 6) == ["D4"], rules
        assert tuple(g[6:8]) == rules.ko_globals
    assert fill(s, KataRules.from_name("tromp-taylor"))[1][8] == 1.0


def test_rules_presets() -> None:
    assert KataRules.from_name("Tromp-Taylor") == KataRules("positional", True, "0", False)
    assert KataRules.from_name("new_zealand") == KataRules("situational", True, "0", True)
    assert KataRules.from_name("AGA") == KataRules("situational", False, "N-1", True)
    assert KataRules.from_name("tabula") == KataRules()
    for unsupported in ("japanese", "stone-scoring", "aga-button"):
        with pytest.raises(ValueError):
            KataRules.from_name(unsupported)
