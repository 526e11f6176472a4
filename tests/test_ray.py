"""Matches and distillation on a real Ray cluster: a head and a second node started on this
machine with ``ray start`` (tests/raycluster.py), one CPU each, stopped at the end."""

from __future__ import annotations

import io
import os
import shutil
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import chess.pgn
import chess.polyglot
import numpy as np
import pytest
from click.testing import CliRunner

from tabula.bench.elo import SprtBounds
from tabula.bench.match import (Adjudication, EngineSpec, Limits, MatchConfig, MatchError, load_openings,
                                run_match, run_match_ray)
from tabula.protocols.cli import main

STOCKFISH = shutil.which("stockfish") or "/usr/games/stockfish"

# A UCI engine for the fault tests: plays the first legal move (sorted), ``pace`` seconds per move;
# ``loser`` reports -2000 cp so that resign adjudication ends its games at once.
PACED_UCI = textwrap.dedent('''
    import sys, time, chess
    mode, pace = sys.argv[1], float(sys.argv[2])
    board = chess.Board()
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "uci":
            print("id name Paced"); print("uciok")
        elif cmd[0] == "isready":
            print("readyok")
        elif cmd[0] == "position":
            board = chess.Board() if cmd[1] == "startpos" else chess.Board(" ".join(cmd[2:8]))
            if "moves" in cmd:
                for m in cmd[cmd.index("moves") + 1:]:
                    board.push_uci(m)
        elif cmd[0] == "go":
            time.sleep(pace)
            print("info depth 1 score cp " + ("-2000" if mode == "loser" else "0"))
            print("bestmove " + sorted(board.legal_moves, key=lambda m: m.uci())[0].uci())
        elif cmd[0] == "quit":
            break
        sys.stdout.flush()
''')


@pytest.fixture(scope="module")
def cluster():
    """Two Ray nodes of one CPU each on this machine; the driver (this process) connects per run."""
    pytest.importorskip("ray")
    from raycluster import ENV, RayCluster

    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    try:
        with RayCluster(nodes=2) as c:
            yield c
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def paced_uci(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("paced") / "paced_uci.py"
    p.write_text(PACED_UCI)
    return p


def _pgn_games(path: Path) -> list[chess.pgn.Game]:
    out, stream = [], io.StringIO(path.read_text())
    while (g := chess.pgn.read_game(stream)) is not None:
        out.append(g)
    return out


def _game_facts(res) -> list[tuple]:  # noqa: ANN001
    """What must not depend on where a game was played (times and dates left out)."""
    return [(g.number, g.players, g.opening, [m.move for m in g.moves], [m.score_cp for m in g.moves],
             g.result, g.reason, g.termination) for g in res.games]


@pytest.mark.slow
def test_a_match_on_the_cluster_plays_the_local_runners_games(cluster, random_chess_net, tmp_path) -> None:
    epd = tmp_path / "ops.epd"
    epd.write_text("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1\n"
                   "rnbqkbnr/pppppppp/8/8/3P4/8/PPP1PPPP/RNBQKBNR b KQkq - 0 1\n")
    engine = f"cmd='{sys.executable} -m tabula.protocols.cli uci --net {random_chess_net}' option.Threads=1"

    def cfg(out: Path) -> MatchConfig:
        return MatchConfig("chess", (EngineSpec.parse(engine + " name=A"), EngineSpec.parse(engine + " name=B")),
                           games=4, openings=load_openings(epd, "chess"), opening_order="random", seed=3,
                           limits=Limits(nodes=8), adjudication=Adjudication(max_moves=8), out=str(out),
                           concurrency=2)

    here = run_match(cfg(tmp_path / "here.pgn"))
    there = run_match_ray(cfg(tmp_path / "ray.pgn"), cluster.address)
    assert _game_facts(there) == _game_facts(here)
    assert there.retries == 0 and there.summary() == here.summary()
    pgn_here, pgn_ray = _pgn_games(tmp_path / "here.pgn"), _pgn_games(tmp_path / "ray.pgn")
    assert sorted(g.headers["Round"] for g in pgn_ray) == ["1", "2", "3", "4"]  # each game written once
    key = {g.headers["Round"]: (g.headers["White"], g.headers["Result"], [m.uci() for m in g.mainline_moves()])
           for g in pgn_here}
    assert all(key[g.headers["Round"]] == (g.headers["White"], g.headers["Result"],
                                           [m.uci() for m in g.mainline_moves()]) for g in pgn_ray)


@pytest.mark.slow
def test_a_game_whose_worker_is_killed_is_played_again_once(cluster, paced_uci, tmp_path) -> None:
    pids = tmp_path / "worker_pids"
    # the shell writes its parent, the Ray worker running the game, then becomes the engine
    spec = [EngineSpec(["sh", "-c", f"echo $PPID >> {pids}; exec {sys.executable} {paced_uci} ok 0.08"], name=n)
            for n in ("A", "B")]
    cfg = MatchConfig("chess", (spec[0], spec[1]), games=4, limits=Limits(nodes=1),
                      adjudication=Adjudication(max_moves=12), out=str(tmp_path / "g.pgn"))
    box: dict = {}
    runner = threading.Thread(target=lambda: box.update(res=run_match_ray(cfg, cluster.address)))
    runner.start()
    deadline = time.time() + 120
    while not (pids.exists() and pids.read_text().strip()) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the first game is under way (its engines started, about 2 s of moves to go)
    victim = int(pids.read_text().split()[0])
    os.kill(victim, signal.SIGKILL)
    runner.join(timeout=240)
    res = box["res"]
    assert [g.number for g in res.games] == [1, 2, 3, 4] and res.retries == 1
    assert "played again after their worker was lost: 1" in res.summary() and res.to_json()["retries"] == 1
    rounds = [g.headers["Round"] for g in _pgn_games(tmp_path / "g.pgn")]
    assert sorted(rounds) == ["1", "2", "3", "4"]  # none lost, none twice


@pytest.mark.slow
def test_the_sprt_decision_cancels_the_games_in_flight(cluster, paced_uci, tmp_path) -> None:
    spec = [EngineSpec([sys.executable, str(paced_uci), mode, "0.02"], name=n) for n, mode in
            (("Good", "ok"), ("Pessimist", "loser"))]
    cfg = MatchConfig("chess", (spec[0], spec[1]), games=40, limits=Limits(nodes=1),
                      adjudication=Adjudication(resign_moves=1, resign_score=1000),
                      sprt=SprtBounds(0, 200, 0.1, 0.1), out=str(tmp_path / "g.pgn"))
    res = run_match_ray(cfg, cluster.address)
    assert res.sprt_result == "H1" and res.stopped_early and 12 <= len(res.games) < 40
    assert len(_pgn_games(tmp_path / "g.pgn")) == len(res.games)  # nothing recorded after the decision


@pytest.mark.slow
def test_a_node_without_the_engine_names_itself_and_the_path(cluster) -> None:
    cfg = MatchConfig("chess", (EngineSpec(["/nowhere/engine"], name="Ghost"), EngineSpec(["sh"], name="Sh")),
                      games=2, limits=Limits(nodes=1))
    with pytest.raises(MatchError, match=r"node .+: engine Ghost: /nowhere/engine not found"):
        run_match_ray(cfg, cluster.address)


@pytest.mark.slow
@pytest.mark.skipif(not Path(STOCKFISH).exists(), reason="needs stockfish")
def test_distilling_on_the_cluster_gives_the_local_shards(cluster, tmp_path) -> None:
    from tabula.nets import distill_chess as dc

    s = dc.Settings(engine=STOCKFISH, nodes=150, multipv=3, opening_multipv=4, max_plies=24,
                    games_per_shard=2, seed=5)
    dc.run(tmp_path / "here", 4, s)
    dc.run(tmp_path / "ray", 4, s, ray_address=cluster.address)
    start = chess.polyglot.zobrist_hash(chess.Board())
    for k in range(4):
        a, b = np.load(tmp_path / "here" / f"shard_{k:05d}.npz"), np.load(tmp_path / "ray" / f"shard_{k:05d}.npz")
        assert a.files == b.files
        for name in a.files:
            assert np.array_equal(a[name], b[name]), (k, name)
        assert (start in a["pos_key"].tolist()) == (k == 0)  # met in every shard, kept in the first
    assert not list((tmp_path / "ray" / "parts").iterdir())


def test_without_ray_the_option_says_how_to_install_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails
    r = CliRunner().invoke(main, ["match", "--engine", "cmd=a", "--engine", "cmd=b", "--nodes", "1", "--ray"])
    assert r.exit_code != 0 and "pip install -e '.[ray]'" in r.output and "Traceback" not in r.output
    from tabula.nets import distill_go

    with pytest.raises(SystemExit) as exc:
        distill_go.main(["--out", str(tmp_path), "--shards", "1", "--ray", "auto"])
    assert exc.value.code != 0
