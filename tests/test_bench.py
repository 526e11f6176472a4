"""`tabula bench`: the shipped position sets, the measurement on toy nets, the JSON shape, the plot."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from tabula.bench.nps import (BenchResult, data_file, format_table, load_positions, measure_ceiling, parse_position,
                       run_bench, search_position)
from tabula.engine.evaluator import OnnxEvaluator
from netfactory import make_net
from tabula.protocols.cli import main

JSON_KEYS = {"game", "backend", "net", "batch", "nps", "ceiling_evals_per_s", "overhead_us_per_node", "fraction",
             "threads", "provider", "device", "search_cpu_us_per_node", "net_wait_fraction", "mean_batch",
             "ceiling_at_mean_batch", "fraction_at_mean_batch", "net_busy_fraction"}


@pytest.fixture(scope="module")
def toy_shogi_net(tmp_path_factory):
    """dlshogi-signature net, uniform policy, constant value."""
    return make_net(tmp_path_factory.mktemp("nets") / "shogi.onnx", {"input1": (62, 9, 9), "input2": (57, 9, 9)},
                    {"output_policy": (2187, "none"), "output_value": (1, "sigmoid")}, scale=0.0)


@pytest.fixture(scope="module")
def toy_go_net(tmp_path_factory):
    """Tabula go-format 9×9 net, uniform policy, constant value."""
    return make_net(tmp_path_factory.mktemp("nets") / "go9.onnx", {"input_planes": (17, 9, 9)},
                    {"output_policy": (82, "none"), "output_value": (1, "tanh")}, scale=0.0,
                    metadata={"tabula.game": "go", "tabula.codec": "go", "tabula.value": "tanh",
                              "tabula.board_size": "9"})


# -- position sets -------------------------------------------------------------------------------
@pytest.mark.parametrize("game,size,lo,hi", [("chess", None, 8, 16), ("shogi", None, 8, 16), ("go", 9, 6, 16),
                                             ("go", 19, 6, 16)])
def test_shipped_position_sets_parse_and_are_varied(game, size, lo, hi):
    specs = load_positions(game, board_size=size)
    assert lo <= len(specs) <= hi
    states = [parse_position(game, s) for s in specs]
    assert all(s.terminal() is None and len(s.legal_moves()) > 0 for s in states)
    counts = {len(s.legal_moves()) for s in states}
    assert len(counts) >= len(states) // 2  # not the same position over and over
    plies = {s.ply for s in states}
    assert len(plies) > 1  # start positions and positions with history


def test_chess_set_has_openings_middlegames_and_endgames():
    text = data_file("chess").read_text()
    assert "startpos moves" in text and "endgame" in text and "middlegame" in text
    pieces = [sum(c.isalpha() for c in parse_position("chess", s).board.board_fen())
              for s in load_positions("chess")]
    assert min(pieces) <= 6 and max(pieces) == 32


def test_parse_position_forms_and_errors():
    assert parse_position("chess", "fen 8/8/8/8/8/k7/8/K6R w - - 0 1 moves h1h2").ply == 1
    assert parse_position("shogi", "startpos moves 7g7f 3c3d").ply == 2
    assert parse_position("go", "size 9 komi 7 moves E5 C3").ply == 2
    with pytest.raises(ValueError, match="startpos"):
        parse_position("chess", "8/8/8/8/8/k7/8/K6R w - - 0 1")
    with pytest.raises(ValueError, match="unknown game"):
        parse_position("xiangqi", "startpos")


# -- measurements --------------------------------------------------------------------------------
def test_search_position_counts_real_evaluations(uniform_chess_net):
    ev = OnnxEvaluator(uniform_chess_net, backend="cpu", threads=1, max_batch=8)
    try:
        run = search_position(ev, parse_position("chess", "startpos"), 8, nodes=40)
    finally:
        ev.close()
    assert run.playouts >= 40
    # the cache is off: every playout of a fresh opening tree is a network evaluation
    assert run.net_positions == run.playouts
    assert run.net_batches >= 40 // 8
    assert run.wall > 0 and run.cpu > 0 and 0 <= run.net_wait <= run.wall
    assert 0 < run.net_busy <= run.wall


def test_ceiling_runs_as_many_callers_as_search_threads(uniform_chess_net):
    """With N search threads the network-alone rate is N concurrent callers, each on its own batch."""
    import threading

    ev = OnnxEvaluator(uniform_chess_net, backend="cpu", threads=2, max_batch=4, callers=2)
    seen: dict[int, set[int]] = {}
    run = ev.run

    def spy(buf, n):
        seen.setdefault(threading.get_ident(), set()).add(id(buf))
        return run(buf, n)

    ev.run = spy  # type: ignore[method-assign]
    try:
        evals, seconds = measure_ceiling(ev, [parse_position("chess", "startpos")], 4, 0.05, callers=2)
    finally:
        ev.close()
    assert len(seen) == 2 and len(set.union(*seen.values())) == 2  # two threads, a batch each
    assert evals % 4 == 0 and evals >= 2 * 3 * 4 and seconds >= 0.05  # min_runs per caller


def test_run_bench_numbers_are_consistent(uniform_chess_net):
    seen = []
    res = run_bench(uniform_chess_net, game="chess", backend="cpu", batches=[4, 16], threads=1, seconds=0.05,
                    max_positions=2, progress=lambda d, t, label: seen.append((d, t)))
    assert [r.batch for r in res] == [4, 16]
    for r in res:
        assert r.positions == 2 and r.playouts > 0 and r.nps > 0 and r.ceiling_evals_per_s > 0
        assert r.fraction == pytest.approx(r.nps / r.ceiling_evals_per_s, rel=1e-2, abs=2e-4)
        assert r.overhead_us_per_node == pytest.approx((1 / r.nps - 1 / r.ceiling_evals_per_s) * 1e6, rel=2e-2,
                                                       abs=2.0)
        assert 0 < r.mean_batch <= r.batch
        assert r.provider == "CPUExecutionProvider" and r.backend == "cpu" and r.threads == 1
    assert seen[-1][0] == seen[-1][1] == len(seen)
    table = format_table(res)
    assert "fraction" in table and "best fraction" in table and "CPUExecutionProvider" in table


def test_bench_json_shape_on_a_toy_net(uniform_chess_net):
    r = CliRunner().invoke(main, ["bench", "--net", str(uniform_chess_net), "--backend", "cpu", "--batch", "4,8",
                                  "--threads", "1", "--seconds", "0.05", "--max-positions", "2", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert isinstance(data, list) and len(data) == 2
    for obj, batch in zip(data, (4, 8)):
        assert JSON_KEYS <= set(obj)
        assert obj["game"] == "chess" and obj["batch"] == batch and obj["net"] == str(uniform_chess_net)
        assert obj["backend"] == "cpu" and obj["threads"] == 1
        assert obj["fraction"] == pytest.approx(obj["nps"] / obj["ceiling_evals_per_s"], rel=1e-2, abs=2e-4)
        assert "profile" not in obj


def test_bench_table_and_profile(uniform_chess_net):
    r = CliRunner().invoke(main, ["bench", "--net", str(uniform_chess_net), "--backend", "cpu", "--batch", "8",
                                  "--threads", "1", "--nodes", "24", "--max-positions", "1", "--profile",
                                  "--profile-top", "8"])
    assert r.exit_code == 0, r.output
    assert "batch" in r.stdout and "ceiling" in r.stdout
    assert "cProfile of the search thread, batch 8" in r.stdout
    assert "_gather" in r.stdout or "step" in r.stdout


@pytest.mark.parametrize("which", ["shogi", "go"])
def test_bench_other_games(which, toy_shogi_net, toy_go_net):
    net = toy_shogi_net if which == "shogi" else toy_go_net
    res = run_bench(net, game=which, backend="cpu", batches=[8], threads=1, seconds=0.05, max_positions=2)
    assert res[0].game == which and res[0].playouts > 0 and res[0].fraction > 0


def test_bench_rejects_wrong_game_and_bad_batches(uniform_chess_net):
    with pytest.raises(ValueError, match="chess network"):
        run_bench(uniform_chess_net, game="shogi", batches=[8], seconds=0.05)
    r = CliRunner().invoke(main, ["bench", "--net", str(uniform_chess_net), "--batch", "8,x"])
    assert r.exit_code != 0 and "batch" in r.output


def test_plot_without_matplotlib_says_what_to_install(uniform_chess_net, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    r = CliRunner().invoke(main, ["bench", "--net", str(uniform_chess_net), "--batch", "8", "--seconds", "0.05",
                                  "--plot", str(tmp_path / "p.png")])
    assert r.exit_code != 0
    assert "matplotlib" in r.output and "pip install" in r.output


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from tabula.bench.nps import plot

    rows = [BenchResult(game="chess", backend="cpu", net="n.onnx", batch=b, threads=1, provider="CPUExecutionProvider",
                        device="cpu", positions=2, seconds_per_position=1.0, nodes_per_position=None, playouts=100,
                        net_positions=100, search_seconds=1.0, nps=500.0 + b, net_evals_per_s=500.0 + b,
                        mean_batch=float(b), ceiling_evals_per_s=600.0, fraction=(500.0 + b) / 600,
                        ceiling_at_mean_batch=600.0, fraction_at_mean_batch=(500.0 + b) / 600,
                        overhead_us_per_node=10.0, search_cpu_us_per_node=100.0, net_wait_fraction=0.8,
                        net_busy_fraction=0.9, net_cpu_fraction=1.0, net_us_per_eval_in_search=1500.0)
            for b in (16, 32, 64)]
    out = plot(rows, tmp_path / "nps.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trivial_backend_measures_the_search_alone(uniform_chess_net):
    res = run_bench(uniform_chess_net, game="chess", backend="trivial", batches=[8], seconds=0.1, max_positions=2)
    r = res[0]
    assert r.backend == "trivial" and r.provider == "trivial" and r.search == "native"
    assert r.playouts > 0 and r.nps > 0 and r.tree_bytes_per_node and 40 < r.tree_bytes_per_node < 400
    r = CliRunner().invoke(main, ["bench", "--net", str(uniform_chess_net), "--backend", "trivial", "--batch", "8",
                                  "--seconds", "0.05", "--max-positions", "1", "--search", "python"])
    assert r.exit_code == 0, r.output
    assert "python search" in r.stdout and "trivial" in r.stdout


def test_trivial_evaluator_answers_uniform_priors_and_a_fixed_value(uniform_chess_net):
    from tabula.engine.evaluator import TrivialEvaluator
    ev = TrivialEvaluator(uniform_chess_net, max_batch=4)
    batch = ev.new_batch(4)
    out = ev.submit(batch, 6).result()  # more rows than planned: it grows
    policy = out[ev.codec.policy_output]
    assert policy.shape == (6, 1858) and not policy.any()
    q, d = ev.codec.decode_value(out, 6)
    assert np.all(q == q[0]) and np.all(d == d[0])
    assert "trivial" in ev.describe()
    ev.close()


@pytest.mark.parametrize("which", ["native", "python"])
def test_both_searches_count_real_evaluations(uniform_chess_net, which):
    ev = OnnxEvaluator(uniform_chess_net, backend="cpu", threads=1, max_batch=8)
    try:
        run = search_position(ev, parse_position("chess", "startpos"), 8, nodes=40, search=which)
    finally:
        ev.close()
    assert run.playouts >= 40 and run.net_positions == run.playouts
    assert (run.expanded > 0) == (which == "native")
