"""Golden searches: fixed positions, nets, playouts and batch sizes, summarised per root move.

The numbers in ``tests/data/search_golden.json`` were written by the Python reference search
(:class:`engine.search.mcts.Search`) before the compiled search existed; any search that claims
to reproduce it must give the same visit count per root move and the same Q (to 1e-5).
Regenerate (only after a deliberate change of the reference) with::

    .venv/bin/python -m tests.search_golden            # every scenario
    .venv/bin/python -m tests.search_golden NAME ...   # these (new) scenarios; the others are kept

The nets are built here from fixed seeds (tests/netfactory.py), so the file depends on no
stored net; onnxruntime on another CPU may round a last bit differently, which can move a
visit on a near-tie (the tests then compare the searches with each other, live, too).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

GOLDEN = Path(__file__).resolve().parent / "data" / "search_golden.json"

CHESS_MATE2 = "r2qkb1r/pp2nppp/3p4/2pNN1B1/2BnP3/3P4/PPP2PPP/R2bK2R w KQkq - 1 1"
SHOGI_MATE3 = "7nl/7k1/6ppp/9/9/9/9/9/8K b RGS 1"


@dataclass(frozen=True)
class Scenario:
    """One golden search: ``net`` names a builder in :func:`build_nets`, ``position`` is a
    bench/nps.py position line, ``nodes`` the root-visit limit (``go nodes``)."""

    name: str
    game: str
    net: str
    position: str
    nodes: int
    batch: int
    cache: int = 20000
    params: dict = field(default_factory=dict)
    searchmoves: tuple[str, ...] = ()
    #: then play these moves from the root and search again on the kept tree, to this limit
    then_moves: tuple[str, ...] = ()
    then_nodes: int = 0
    #: smart pruning's factor for lc0's root rule (engine/search/rootprune.py; 0: the rule is off)
    prune: float = 0.0


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("chess-start-b1", "chess", "chess", "startpos", 300, 1),
    Scenario("chess-start-b8", "chess", "chess", "startpos", 300, 8),
    Scenario("chess-italian-b1", "chess", "chess",
             "startpos moves e2e4 e7e5 g1f3 b8c6 f1c4 g8f6 d2d3 f8c5", 400, 1),
    Scenario("chess-italian-b16", "chess", "chess",
             "startpos moves e2e4 e7e5 g1f3 b8c6 f1c4 g8f6 d2d3 f8c5", 600, 16),
    Scenario("chess-mate2-b1", "chess", "chess", f"fen {CHESS_MATE2}", 700, 1),
    Scenario("chess-mate2-b8", "chess", "chess", f"fen {CHESS_MATE2}", 700, 8),
    Scenario("chess-mate1-b4", "chess", "chess", "fen k7/8/1K6/8/8/8/8/7R w - - 0 1", 300, 4),
    Scenario("chess-mated-b1", "chess", "chess", "fen k7/8/1K6/8/8/8/8/7R b - - 0 1", 300, 1),
    Scenario("chess-endgame-b4", "chess", "chess", "fen 8/5k2/8/3K4/8/8/2P5/8 w - - 0 60", 500, 4),
    Scenario("chess-twofold-b8", "chess", "chess", "startpos moves g1f3 g8f6 f3g1", 400, 8),
    Scenario("chess-searchmoves-b1", "chess", "chess", "startpos", 150, 1, searchmoves=("a2a3", "g1f3", "e2e4")),
    Scenario("chess-reuse-b8", "chess", "chess", "startpos moves d2d4", 300, 8, then_moves=("d7d5", "c2c4"),
             then_nodes=400),
    Scenario("chess-nocache-b8", "chess", "chess", "startpos moves e2e4 c7c5", 300, 8, cache=0),
    # lc0's default key, the position alone: transpositions reuse an evaluation made with another history
    Scenario("chess-hist0-b1", "chess", "chess", "startpos", 300, 1, params={"cache_history": 0}),
    Scenario("chess-hist0-b8", "chess", "chess", "startpos moves d2d4 g8f6", 500, 8, params={"cache_history": 0}),
    # a net with lc0's moves-left head: the M utility at every node (threshold 0), at lc0's defaults, on a kept tree
    Scenario("chess-mlh-b8", "chess", "chess-mlh", "startpos moves e2e4 e7e5", 300, 8,
             params={"moves_left_threshold": 0.0}),
    Scenario("chess-mlh-mate2-b4", "chess", "chess-mlh", f"fen {CHESS_MATE2}", 700, 4),
    Scenario("chess-mlh-reuse-b8", "chess", "chess-mlh", "startpos moves d2d4", 300, 8,
             params={"moves_left_threshold": 0.0}, then_moves=("d7d5", "c2c4"), then_nodes=400),
    Scenario("shogi-start-b1", "shogi", "shogi", "startpos", 200, 1),
    Scenario("shogi-start-b8", "shogi", "shogi", "startpos", 200, 8),
    Scenario("shogi-mate3-b4", "shogi", "shogi", f"sfen {SHOGI_MATE3}", 150, 4),
    Scenario("go9-b1", "go", "go9", "size 9 komi 7 moves E5 C3", 200, 1),
    Scenario("go9-b8", "go", "go9", "size 9 komi 7 moves E5 C3 G7", 250, 8),
    Scenario("go9-passes-b4", "go", "go9", "size 9 komi 7 moves E5 C3 D4 pass", 150, 4,
             params={"net_scores_passes": True}),
    Scenario("katago9-b8", "go", "katago", "size 9 komi 7.5 moves E5 C3", 120, 8),
    # lc0's root rule under smart pruning: root moves that cannot catch the best get no more visits
    Scenario("chess-prune-b1", "chess", "chess", "startpos moves e2e4 e7e5 g1f3", 400, 1, prune=1.33),
    Scenario("chess-prune-b8", "chess", "chess", "startpos moves d2d4 d7d5 c2c4", 500, 8, prune=1.33),
    Scenario("chess-prune-searchmoves-b4", "chess", "chess", "startpos moves e2e4 e7e5", 500, 4, prune=1.33,
             searchmoves=("g1f3", "f1c4", "b1c3", "d2d4", "a2a3")),
    Scenario("chess-prune-reuse-b8", "chess", "chess", "startpos moves d2d4", 300, 8, prune=1.33,
             then_moves=("d7d5", "c2c4"), then_nodes=500),
    Scenario("shogi-prune-b4", "shogi", "shogi", "startpos", 300, 4, prune=1.33),
    Scenario("go9-prune-b4", "go", "go9", "size 9 komi 7 moves E5 C3", 300, 4, prune=1.33),
)


# -- nets --------------------------------------------------------------------------------------
def build_nets(folder: Path, names: set[str] | None = None) -> dict[str, Path]:
    """The scenarios' nets, written into ``folder`` (deterministic: fixed seeds)."""
    from netfactory import make_lc0_net, make_net

    def chess() -> Path:
        return make_lc0_net(folder / "chess.onnx", scale=0.02, seed=1,
                            metadata={"tabula.game": "chess", "tabula.codec": "lc0-112", "tabula.value": "wdl"})

    def chess_mlh() -> Path:  # the chess net's policy and WDL weights, a WDL leaning to wins, a moves-left head
        return make_lc0_net(folder / "chess-mlh.onnx", scale=0.02, seed=1, wdl_bias=(3.0, 0.0, -3.0), mlh=40.0,
                            mlh_scale=2.0,
                            metadata={"tabula.game": "chess", "tabula.codec": "lc0-112", "tabula.value": "wdl"})

    def shogi() -> Path:
        return make_net(folder / "shogi.onnx", {"input1": (62, 9, 9), "input2": (57, 9, 9)},
                        {"output_policy": (2187, "none"), "output_value": (1, "sigmoid")}, scale=0.01, seed=2,
                        metadata={"tabula.game": "shogi", "tabula.codec": "dlshogi"})

    def go9() -> Path:
        return make_net(folder / "go9.onnx", {"input_planes": (17, 9, 9)},
                        {"output_policy": (82, "none"), "output_value": (1, "tanh")}, scale=0.05, seed=3,
                        metadata={"tabula.game": "go", "tabula.codec": "go", "tabula.board_size": "9",
                                  "tabula.value": "tanh"})

    def katago() -> Path:
        import gzip

        from tabula.nets.katago_import import import_katago
        from test_katago_import import random_model, serialize
        src = folder / "katago.bin.gz"
        src.write_bytes(gzip.compress(serialize(random_model(seed=3))))
        return import_katago(src, folder / "katago.onnx").output

    builders: dict[str, Callable[[], Path]] = {"chess": chess, "chess-mlh": chess_mlh, "shogi": shogi, "go9": go9,
                                               "katago": katago}
    return {k: b() for k, b in builders.items() if names is None or k in names}


# -- running one ---------------------------------------------------------------------------------
def drive(search: Any, nodes: int, minibatch: int, prune: float = 0.0) -> None:
    """The controller's loop for ``go nodes``: batch limit, remaining playouts and the root
    rule's room (smart-pruning factor ``prune``; 0: off) set as it sets them, until the root has
    ``nodes`` visits (or is proven, or nothing is left to search)."""
    from tabula.engine.search.rootprune import room_for
    idle = 0
    while True:
        s = search.stats()
        if s.nodes >= nodes or s.root_proven or s.tree_full:
            break
        search.root_prune = room_for(nodes - s.nodes, prune)
        room = (nodes - s.nodes) - search.pending
        search.batch_limit = int(max(0 if room <= 0 else 1, min(minibatch, room)))
        search.remaining_playouts = max(room, 0)
        before = s.playouts
        search.step()
        if search.stats().playouts == before and search.pending == 0:
            idle += 1
            if idle >= 3:
                break
        else:
            idle = 0
    search.finish(wait=True)


def summarise(search: Any, state: Any) -> dict:
    """Root visits and Q, every visited root move's visits and Q, the counters that matter."""
    ms = search.move_stats()
    s = search.stats()
    lines = search.lines(1)
    moves = {state.move_to_text(m.move): [m.visits, m.q] for m in ms if m.visits > 0}
    return {"nodes": s.nodes, "playouts": s.playouts, "collisions": s.collisions, "cache_hits": s.cache_hits,
            "net_positions": s.net_positions, "best": state.move_to_text(search.best_move()),
            "root_q": lines[0].q if lines else None, "proven": bool(s.root_proven), "moves": moves}


def reference_factory(ev: Any, state: Any, params: Any, cache_size: int, searchmoves, tree=None, cache=None):
    """The Python reference search (engine.search.mcts) with its tree and cache."""
    from tabula.engine.evaluator import EvalCache
    from tabula.engine.search.mcts import Search
    from tabula.engine.search.tree import Tree
    tree = tree if tree is not None else Tree()
    cache = cache if cache is not None else EvalCache(cache_size)
    return Search(state, tree, ev, cache, params, root_moves=searchmoves or None), tree, cache


def native_factory(compiled: bool | None = None, budget: int = 64 << 20) -> Callable:
    """A factory of the compiled search (engine.search.native); ``compiled=False`` runs chess
    through the Python leaf path too."""
    def make(ev: Any, state: Any, params: Any, cache_size: int, searchmoves, tree=None, cache=None):
        from tabula.engine.search.native import NativeSearch, NativeTree, compiled_leaves
        from tabula.engine.search.nncache import NativeEvalCache
        if tree is None:
            tree = NativeTree.for_game(state.game, ev.codec, budget)
            if compiled is False and compiled_leaves(state.game, ev.codec):
                tree = NativeTree(budget, edge_moves=True, scored=bool(ev.codec.has_score),
                                  moves_left=bool(ev.codec.has_moves_left))
        cache = cache if cache is not None else NativeEvalCache(cache_size)
        search = NativeSearch(state, tree, ev, cache, params, root_moves=searchmoves or None, compiled=compiled)
        return search, tree, cache
    return make


#: the evaluators of the last few scenarios run, by net file and batch size: loading a 53 MB toy
#: net costs about 0.2 s of CPU, and the tests run many scenarios on the same few nets in a row
_EVALUATORS: dict[tuple[str, int], Any] = {}
_KEEP = 3


def _evaluator(net: Path, batch: int) -> Any:
    from tabula.engine.evaluator import OnnxEvaluator

    key = (str(net), batch)
    ev = _EVALUATORS.pop(key, None)
    if ev is None:
        ev = OnnxEvaluator(net, backend="cpu", threads=1, max_batch=batch)
    _EVALUATORS[key] = ev  # the most recent last
    while len(_EVALUATORS) > _KEEP:
        _EVALUATORS.pop(next(iter(_EVALUATORS))).close()
    return ev


def run_scenario(sc: Scenario, net: Path, factory: Callable = reference_factory) -> dict:
    """Run ``sc`` with the search ``factory`` builds; returns :func:`summarise`'s dict (and the
    second search's under ``"then"``)."""
    from tabula.bench.nps import parse_position
    from tabula.engine.search.params import SearchParams

    ev = _evaluator(net, max(sc.batch, 1))
    if sc.game == "go":
        ev.codec.set_board_size(9)
    params = SearchParams(minibatch=sc.batch, **sc.params)
    state = parse_position(sc.game, sc.position)
    root_moves = [state.parse_move(m) for m in sc.searchmoves]
    search, tree, cache = factory(ev, state.copy(), params, sc.cache, root_moves)
    drive(search, sc.nodes, sc.batch, sc.prune)
    out = summarise(search, state)
    if sc.then_moves:
        codes = []
        for m in sc.then_moves:
            codes.append(state.parse_move(m))
            state.push(codes[-1])
        assert tree.reroot(codes), "the golden reuse line must be in the tree"
        search2, _, _ = factory(ev, state.copy(), params, sc.cache, [], tree=tree, cache=cache)
        drive(search2, sc.then_nodes, sc.batch, sc.prune)
        out["then"] = summarise(search2, state)
    return out


def compare(got: dict, want: dict, where: str = "") -> list[str]:
    """Differences between two summaries: visits exact, Q to 1e-5; empty when they agree."""
    errs = []
    for key in ("nodes", "playouts", "collisions", "cache_hits", "net_positions", "best", "proven"):
        if got.get(key) != want.get(key):
            errs.append(f"{where}{key}: {got.get(key)} != {want.get(key)}")
    if (got["root_q"] is None) != (want["root_q"] is None) or \
            (got["root_q"] is not None and abs(got["root_q"] - want["root_q"]) > 1e-5):
        errs.append(f"{where}root_q: {got['root_q']} != {want['root_q']}")
    if set(got["moves"]) != set(want["moves"]):
        errs.append(f"{where}visited moves differ: {sorted(set(got['moves']) ^ set(want['moves']))}")
    for m in sorted(set(got["moves"]) & set(want["moves"])):
        (gn, gq), (wn, wq) = got["moves"][m], want["moves"][m]
        if gn != wn or abs(gq - wq) > 1e-5:
            errs.append(f"{where}{m}: N {gn} Q {gq:.7f} != N {wn} Q {wq:.7f}")
    if "then" in want:
        errs += compare(got.get("then", {"moves": {}, "root_q": None}), want["then"], where + "then/")
    return errs


def main(names: list[str]) -> None:
    """Regenerate the golden file from the reference search: every scenario, or only those
    ``names`` (the file's other entries are kept)."""
    import tempfile
    unknown = set(names) - {sc.name for sc in SCENARIOS}
    if unknown:
        raise SystemExit(f"no scenario {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as d:
        nets = build_nets(Path(d))
        out = json.loads(GOLDEN.read_text()) if names else {}
        for sc in SCENARIOS:
            if names and sc.name not in names:
                continue
            out[sc.name] = run_scenario(sc, nets[sc.net])
            print(sc.name, out[sc.name]["nodes"], out[sc.name]["best"], flush=True)
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(sys.argv[1:])
