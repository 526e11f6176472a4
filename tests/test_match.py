"""`tabula match` and bench/elo.py: the statistics against known values, the referee's rules with
scripted fake engines, and short real matches (Tabula vs Tabula, Tabula vs Stockfish, shogi, go)."""

from __future__ import annotations

import io
import json
import math
import random
import sys
import textwrap
from pathlib import Path

import chess
import chess.pgn
import pytest
from click.testing import CliRunner

from tabula.bench.elo import (PAIR_SCORES, SprtBounds, Tally, elo_from_score, elo_pentanomial, elo_trinomial,
                       llr_normal, llr_pentanomial, llr_trinomial, los, mle_with_mean, score_from_elo,
                       sprt_decision)
from tabula.bench.match import (Adjudication, Clock, EngineSpec, Limits, MatchConfig, MatchError, MoveRecord,
                         TimeControl, adjudicate, load_openings, run_match)
from tabula.protocols.cli import main

STOCKFISH = "/usr/games/stockfish"
FAIRY = "/usr/games/fairy-stockfish"
GNUGO = "/usr/games/gnugo"


# -- Elo, LOS, SPRT -------------------------------------------------------------------------------
def test_elo_of_known_scores():
    assert elo_from_score(0.5) == 0.0
    assert elo_from_score(0.6) == pytest.approx(70.437, abs=1e-3)  # 60-40 over 100 games
    assert elo_from_score(0.75) == pytest.approx(190.85, abs=1e-2)
    assert elo_from_score(0.0) == -math.inf and elo_from_score(1.0) == math.inf
    for e in (-300.0, -7.0, 0.0, 35.0, 400.0):
        assert elo_from_score(score_from_elo(e)) == pytest.approx(e)
    assert score_from_elo(400) == pytest.approx(10 / 11)


def test_elo_interval_60_40():
    e = elo_trinomial(60, 0, 40)
    assert e.elo == pytest.approx(70.44, abs=0.01)
    # mean 0.6, per-game variance 0.24, standard error sqrt(0.24/100) = 0.04899
    se = math.sqrt(0.24 / 100)
    assert e.lo == pytest.approx(elo_from_score(0.6 - 1.959964 * se), abs=1e-3)
    assert e.hi == pytest.approx(elo_from_score(0.6 + 1.959964 * se), abs=1e-3)
    assert (round(e.lo, 1), round(e.hi, 1)) == (2.8, 143.9)
    # draws narrow the interval at the same score
    assert elo_trinomial(40, 40, 20).error < e.error


def test_pentanomial_estimate():
    # pairs LL, LD, DD+WL, WD, WW; symmetric counts: 0 Elo
    assert elo_pentanomial([5, 10, 20, 10, 5]).elo == pytest.approx(0.0, abs=1e-9)
    e = elo_pentanomial([0, 10, 40, 30, 20])
    # mean pair score (0.25*10 + 0.5*40 + 0.75*30 + 20) / 100 = 0.65
    assert e.score == pytest.approx(0.65) and e.elo == pytest.approx(elo_from_score(0.65))
    assert e.samples == 100
    with pytest.raises(ValueError):
        elo_pentanomial([1, 2, 3])


def test_los_known_values():
    assert los(55, 45) == pytest.approx(0.841345, abs=1e-6)  # Φ(1)
    assert los(50, 50) == 0.5 and los(0, 0) == 0.5
    assert los(45, 55) == pytest.approx(1 - 0.841345, abs=1e-6)
    assert los(20, 0) == pytest.approx(0.99999612, abs=1e-7)  # Φ(√20)


def test_sprt_bounds():
    b = SprtBounds(0, 5, 0.05, 0.05)
    assert b.lower == pytest.approx(-math.log(19)) and b.upper == pytest.approx(math.log(19))
    assert b.upper == pytest.approx(2.944439, abs=1e-6)
    b2 = SprtBounds(0, 10, 0.05, 0.10)
    assert b2.lower == pytest.approx(math.log(0.10 / 0.95)) and b2.upper == pytest.approx(math.log(0.90 / 0.05))
    assert (round(b2.lower, 4), round(b2.upper, 4)) == (-2.2513, 2.8904)
    assert SprtBounds.parse("elo0=-1,elo1=4,alpha=0.1,beta=0.2") == SprtBounds(-1, 4, 0.1, 0.2)
    assert SprtBounds.parse("0,5") == SprtBounds(0, 5)
    with pytest.raises(ValueError):
        SprtBounds.parse("elo0=5,elo1=0")
    with pytest.raises(ValueError):
        SprtBounds.parse("gamma=1")


def test_llr_normal_approximation_against_hand_computation():
    # LLR ≈ N (s1 - s0)(2 x̄ - s0 - s1) / (2 σ²); 60-0-40: x̄ = 0.6, σ² = 0.24
    s0, s1 = 0.5, 1 / (1 + 10 ** (-5 / 400))
    want = 100 * (s1 - s0) * (2 * 0.6 - s0 - s1) / (2 * 0.24)
    assert llr_normal((1.0, 0.5, 0.0), (60, 0, 40), 0, 5) == pytest.approx(want)
    assert want == pytest.approx(0.28901, abs=1e-4)
    assert llr_normal((1.0, 0.5, 0.0), (0, 10, 0), 0, 5) == 0.0  # no variance


def test_llr_mle_known_values():
    s0, s1 = score_from_elo(0), score_from_elo(5)
    # n straight wins: the hypotheses' best fits put s0 / s1 on a win, so LLR = n ln(s1/s0)
    assert llr_trinomial(10, 0, 0, 0, 5) == pytest.approx(10 * math.log(s1 / s0), rel=1e-4)
    assert llr_pentanomial([0, 0, 0, 0, 10], 0, 5) == pytest.approx(10 * math.log(s1 / s0), rel=1e-3)
    assert llr_trinomial(0, 0, 10, 0, 5) == pytest.approx(10 * math.log((1 - s1) / (1 - s0)), rel=1e-4)
    # large samples: the MLE and the normal approximation agree
    for counts in ((1100, 1000, 800), (900, 2000, 1000)):
        assert llr_trinomial(*counts, 0, 5) == pytest.approx(llr_normal((1.0, 0.5, 0.0), counts, 0, 5), rel=0.03)
    pairs = [50, 200, 400, 250, 100]
    assert llr_pentanomial(pairs, 0, 5) == pytest.approx(llr_normal(PAIR_SCORES, pairs, 0, 5), rel=0.03)
    # the MLE under a hypothesis has that hypothesis's mean
    p = mle_with_mean((1.0, 0.5, 0.0), (0.5, 0.3, 0.2), 0.55)
    assert sum(p) == pytest.approx(1.0) and p[0] + 0.5 * p[1] == pytest.approx(0.55)
    # sign and symmetry
    assert llr_trinomial(10, 80, 10, 0, 5) < 0 < llr_trinomial(14, 80, 6, 0, 5)
    assert llr_trinomial(30, 40, 30, -5, 5) == pytest.approx(0.0, abs=1e-9)
    assert llr_pentanomial([0, 0, 0, 0, 0], 0, 5) == 0.0


def test_sprt_decides_on_simulated_matches():
    bounds = SprtBounds(0, 20, 0.05, 0.05)

    def games_until_decision(true_elo: float, seed: int) -> tuple[str | None, int]:
        rng = random.Random(seed)
        p_win_pair = score_from_elo(true_elo)
        t = Tally()
        for n in range(1, 20001):
            # games with 30 % draws, win/loss split to give the true expected score
            d = 0.3
            w = p_win_pair - d / 2
            r = rng.random()
            t.add_game(1.0 if r < w else (0.5 if r < w + d else 0.0))
            decision = sprt_decision(t.llr(bounds), bounds)
            if decision:
                return decision, n
        return None, n

    assert games_until_decision(60, 1)[0] == "H1"
    assert games_until_decision(-40, 2)[0] == "H0"


def test_tally_pairs_and_games():
    t = Tally()
    for a, b in ((1, 0), (1, 0.5), (0.5, 0.5), (1, 1), (0, 0)):
        t.add_game(a)
        t.add_game(b)
        t.add_pair(a, b)
    assert (t.wins, t.draws, t.losses) == (4, 3, 3)
    assert t.pairs == (1, 0, 2, 1, 1)
    assert t.elo().samples == 5  # pentanomial once pairs exist
    assert t.elo(pentanomial=False).samples == 10
    assert t.los() == pytest.approx(los(4, 3))


# -- referee pieces -------------------------------------------------------------------------------
def test_time_control_and_clock():
    tc = TimeControl.parse("10+0.1")
    assert (tc.base, tc.inc, tc.byoyomi) == (10.0, 0.1, 0.0) and tc.clocked
    assert not TimeControl.parse(None).clocked and not TimeControl.parse("inf").clocked
    assert TimeControl.parse("0", byoyomi=2).describe() == "0+0 byoyomi 2"
    with pytest.raises(MatchError):
        TimeControl.parse("ten")
    c = Clock(TimeControl(1.0, 0.5))
    assert c.spend(0.8, 0.0) and c.remaining == pytest.approx(0.7)
    assert not c.spend(0.75, 0.01)  # over the clock: the flag falls
    byo = Clock(TimeControl(1.0, 0.0, 2.0))
    assert byo.spend(2.5, 0.0) and byo.remaining == 0.0  # main time spent, byoyomi covered the rest
    assert byo.spend(1.9, 0.0) and not byo.spend(2.2, 0.1)


def test_engine_spec_parsing():
    s = EngineSpec.parse("cmd='python -m tabula.protocols.cli uci --net \"a b.onnx\"' name=T option.Threads=1 "
                         "'option.Skill Level=3' tc=5+0.05 nodes=100 st=0.5 depth=3 proto=uci dir=/tmp arg=-v")
    assert s.cmd == ["python", "-m", "tabula.protocols.cli", "uci", "--net", "a b.onnx", "-v"]
    assert s.name == "T" and s.options == {"Threads": "1", "Skill Level": "3"}
    assert s.tc == TimeControl(5.0, 0.05) and (s.nodes, s.movetime, s.depth) == (100, 0.5, 3)
    assert s.proto == "uci" and s.cwd == "/tmp"
    bare = EngineSpec.parse("/usr/games/stockfish")
    assert bare.cmd == ["/usr/games/stockfish"] and bare.name == "stockfish"
    for bad in ("name=x", "cmd=x colour=red", "cmd=x nodes=many", "cmd=x proto=xboard"):
        with pytest.raises(MatchError):
            EngineSpec.parse(bad)


def _mv(cp: int | None, mate: int | None = None) -> MoveRecord:
    return MoveRecord("e2e4", 0.1, cp, mate)


def test_adjudication_rules():
    rules = Adjudication(resign_moves=3, resign_score=500, draw_movenumber=10, draw_moves=2, draw_score=10)
    # the side that just moved reported <= -500 on its last three moves (every other record)
    losing = [_mv(-600), _mv(600), _mv(-700), _mv(650), _mv(-900)]
    assert adjudicate(losing, rules, 5) == ("resign", 0)
    assert adjudicate(losing[:-1] + [_mv(-100)], rules, 5) is None
    assert adjudicate([_mv(None, -3), _mv(0), _mv(-800), _mv(0), _mv(-800)], rules, 5) == ("resign", 0)
    quiet = [_mv(5), _mv(-3), _mv(0), _mv(8)]
    assert adjudicate(quiet, rules, 12) == ("draw", None)
    assert adjudicate(quiet, rules, 9) is None  # before the draw move number
    assert adjudicate([_mv(5), _mv(-30), _mv(0), _mv(8)], rules, 12) is None
    assert adjudicate(quiet, Adjudication(), 50) is None  # off by default


def test_load_openings(tmp_path):
    epd = tmp_path / "o.epd"
    epd.write_text("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - id \"e4\";\n"
                   "# a comment\n"
                   "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3\n"
                   "startpos moves d2d4 d7d5\n")
    ops = load_openings(epd, "chess")
    assert len(ops) == 3 and ops[0].label == "e4" and ops[2].moves == ("d2d4", "d7d5")
    assert chess.Board(ops[1].fen).fullmove_number == 3
    pgn = tmp_path / "o.pgn"
    pgn.write_text('[Event "x"]\n[Opening "Italian"]\n\n1. e4 e5 2. Nf3 Nc6 3. Bc4 *\n\n'
                   '[Event "y"]\n\n1. d4 d5 *\n')
    ops = load_openings(pgn, "chess", plies=4)
    assert [o.moves for o in ops] == [("e2e4", "e7e5", "g1f3", "b8c6"), ("d2d4", "d7d5")]
    assert ops[0].label == "Italian"
    sf = tmp_path / "o.sfen"
    sf.write_text("startpos moves 7g7f 3c3d\n"
                  "position sfen lnsgkgsnl/1r5b1/ppppppppp/9/9/2P6/PP1PPPPPP/1B5R1/LNSGKGSNL w - 2\n"
                  "lnsgkgsnl/1r5b1/ppppppppp/9/9/2P6/PP1PPPPPP/1B5R1/LNSGKGSNL w - 2 moves 3c3d\n")
    ops = load_openings(sf, "shogi")
    assert ops[0].fen is None and ops[0].moves == ("7g7f", "3c3d")
    assert ops[1].fen.endswith("w - 2") and ops[2].moves == ("3c3d",)
    bad = tmp_path / "bad.sfen"
    bad.write_text("startpos moves 7g7f 7g7f\n")
    with pytest.raises(MatchError, match="illegal"):
        load_openings(bad, "shogi")
    with pytest.raises(MatchError, match="not found"):
        load_openings(tmp_path / "missing.epd", "chess")


def test_load_go_openings(tmp_path):
    f = tmp_path / "go.txt"
    f.write_text("E5 C3 g7  # three moves\n\n# a comment\nC3 pass D4\n")
    ops = load_openings(f, "go", size=9)
    assert [o.moves for o in ops] == [("E5", "C3", "G7"), ("C3", "pass", "D4")]
    assert ops[0].fen is None and ops[0].label == "three moves"
    assert [o.moves for o in load_openings(f, "go", plies=1, size=9)] == [("E5",), ("C3",)]
    for text, why in (("E5 E5\n", "illegal"), ("E5 K10\n", "not a vertex"), ("J9\n", "not a vertex")):
        f.write_text(text)
        with pytest.raises(MatchError, match=why):
            load_openings(f, "go", size=9 if why != "not a vertex" or text != "J9\n" else 8)


# -- scripted fake engines --------------------------------------------------------------------------
FAKE_UCI = textwrap.dedent('''
    import sys, time, chess
    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    board = chess.Board()
    gos = 0
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "uci":
            print("id name Fake-" + mode); print("option name Hash type spin default 1 min 1 max 64"); print("uciok")
        elif cmd[0] == "isready":
            print("readyok")
        elif cmd[0] == "position":
            board = chess.Board() if cmd[1] == "startpos" else chess.Board(" ".join(cmd[2:8]))
            if "moves" in cmd:
                for m in cmd[cmd.index("moves") + 1:]:
                    board.push_uci(m)
        elif cmd[0] == "go":
            gos += 1
            if mode == "crash" and gos == 2:
                sys.exit(3)
            if mode == "illegal" and gos == 2:
                print("bestmove a1a8"); sys.stdout.flush(); continue
            if mode == "slow" and gos == 2:
                time.sleep(3)
            if mode == "loser":
                print("info depth 1 score cp -2000")
            move = sorted(board.legal_moves, key=lambda m: m.uci())[0]
            print("info depth 1 score cp 0" if mode != "loser" else "info depth 2 score cp -2000")
            print("bestmove " + move.uci())
        elif cmd[0] == "quit":
            break
        sys.stdout.flush()
''')


@pytest.fixture(scope="module")
def fake_uci(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("fake") / "fake_uci.py"
    p.write_text(FAKE_UCI)
    return p


def _fake(fake_uci: Path, mode: str, name: str) -> EngineSpec:
    return EngineSpec(cmd=[sys.executable, str(fake_uci), mode], name=name)


@pytest.mark.slow
@pytest.mark.parametrize("mode,termination,words", [("crash", "abandoned", "crashed"),
                                                   ("illegal", "rules infraction", "illegal move"),
                                                   ("slow", "time forfeit", "on time")])
def test_broken_engine_loses_and_the_match_goes_on(fake_uci, tmp_path, mode, termination, words):
    cfg = MatchConfig("chess", (_fake(fake_uci, "ok", "Good"), _fake(fake_uci, mode, "Bad")), games=2,
                      limits=Limits(TimeControl(1.0, 0.0)), out=str(tmp_path / "g.pgn"),
                      adjudication=Adjudication(max_moves=4))
    res = run_match(cfg)
    assert [g.number for g in res.games] == [1, 2]
    assert (res.tally.wins, res.tally.losses) == (2, 0)
    for g in res.games:
        assert g.termination == termination and words in g.reason
        assert "Bad" == g.players[1 - g.winner_side]
    if mode != "illegal":
        assert res.restarts[1] >= 1  # the broken engine was started again for game 2
    text = (tmp_path / "g.pgn").read_text()
    games = []
    stream = io.StringIO(text)
    while (g := chess.pgn.read_game(stream)) is not None:
        games.append(g)
    assert [g.headers["Termination"] for g in games] == [termination] * 2


@pytest.mark.slow
def test_resign_adjudication_and_summary(fake_uci):
    cfg = MatchConfig("chess", (_fake(fake_uci, "ok", "Good"), _fake(fake_uci, "loser", "Pessimist")), games=2,
                      limits=Limits(nodes=1), adjudication=Adjudication(resign_moves=2, resign_score=1000),
                      sprt=SprtBounds(0, 5))
    res = run_match(cfg)
    assert [g.termination for g in res.games] == ["adjudication"] * 2
    assert all("Pessimist" == g.players[1 - g.winner_side] and "resigns" in g.reason for g in res.games)
    s = res.summary()
    assert "Score of Good vs Pessimist: 2 - 0 - 0" in s and "SPRT: llr" in s and "Ptnml(0-2): [0, 0, 0, 0, 1]" in s
    data = res.to_json()
    assert data["wins"] == 2 and data["pentanomial"] == [0, 0, 0, 0, 1] and data["sprt"]["elo1"] == 5


@pytest.mark.slow
def test_sprt_stops_the_match_early(fake_uci):
    cfg = MatchConfig("chess", (_fake(fake_uci, "ok", "Good"), _fake(fake_uci, "loser", "Pessimist")), games=40,
                      limits=Limits(nodes=1), adjudication=Adjudication(resign_moves=1, resign_score=1000),
                      sprt=SprtBounds(0, 200, 0.1, 0.1), concurrency=2)
    res = run_match(cfg)
    # straight won pairs: each adds ln(s1/s0) = ln(0.76/0.5); the bound ln(9) needs 6 pairs
    assert res.sprt_result == "H1" and res.stopped_early
    assert 12 <= len(res.games) < 40 and res.tally.losses == 0
    assert res.sprt_llr >= SprtBounds(0, 200, 0.1, 0.1).upper
    assert "H1 accepted" in res.summary()


def test_engine_that_does_not_start_is_a_clear_error(tmp_path):
    cfg = MatchConfig("chess", (EngineSpec([str(tmp_path / "nope")], name="Nope"), EngineSpec(["x"], name="X")),
                      games=2, limits=Limits(nodes=1))
    with pytest.raises(MatchError, match="Nope did not start"):
        run_match(cfg)


# -- real matches -------------------------------------------------------------------------------------
def _tabula(net: Path, name: str, proto: str = "uci") -> str:
    return f"cmd='{sys.executable} -m protocols.cli {proto} --net {net}' name={name}"


def _read_pgn(path: Path) -> list[chess.pgn.Game]:
    out, stream = [], io.StringIO(path.read_text())
    while (g := chess.pgn.read_game(stream)) is not None:
        out.append(g)
    return out


@pytest.mark.slow
def test_tabula_vs_tabula_over_uci(uniform_chess_net, tmp_path):
    pgn = tmp_path / "tt.pgn"
    r = CliRunner().invoke(main, ["match", "--engine", _tabula(uniform_chess_net, "TabulaA") + " option.Threads=1",
                                  "--engine", _tabula(uniform_chess_net, "TabulaB") + " option.Threads=1",
                                  "--games", "2", "--nodes", "8", "--max-moves", "6", "--out", str(pgn), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["games"] == 2 and data["wins"] + data["losses"] + data["draws"] == 2
    assert [x["white"] for x in data["results"]] == ["TabulaA", "TabulaB"]
    games = _read_pgn(pgn)
    assert len(games) == 2
    for g in games:
        assert g.headers["Result"] in ("1-0", "0-1", "1/2-1/2")
        assert len(list(g.mainline_moves())) >= 1
        assert g.end().board().is_valid()


@pytest.mark.slow
@pytest.mark.skipif(not Path(STOCKFISH).exists(), reason="stockfish not installed (apt-get install stockfish)")
def test_tabula_vs_stockfish(uniform_chess_net, tmp_path):
    pgn = tmp_path / "sf.pgn"
    openings = tmp_path / "o.epd"
    openings.write_text("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq -\n")
    r = CliRunner().invoke(main, [
        "match", "--engine", _tabula(uniform_chess_net, "Tabula") + " option.Threads=1 nodes=8",
        "--engine", f"cmd={STOCKFISH} name=Stockfish option.Threads=1 option.Hash=16 nodes=2000",
        "--games", "2", "--openings", str(openings), "--max-moves", "25", "--resign-moves", "3",
        "--resign-score", "600", "--out", str(pgn)])
    assert r.exit_code == 0, r.output
    assert "Score of Tabula vs Stockfish:" in r.stdout and "Elo difference:" in r.stdout and "LOS:" in r.stdout
    games = _read_pgn(pgn)
    assert len(games) == 2
    assert [g.headers["White"] for g in games] == ["Tabula", "Stockfish"]
    for g in games:
        assert g.headers["FEN"].startswith("rnbqkbnr/pppppppp/8/8/4P3")  # the opening position
        assert g.headers["Result"] != "*" and g.headers["Termination"] in ("normal", "adjudication")
        moves = list(g.mainline_moves())
        assert moves and g.end().board().is_valid()
        assert "/" in g.next().comment  # score/depth time comments


@pytest.mark.slow
@pytest.mark.skipif(not Path(FAIRY).exists(), reason="fairy-stockfish not installed")
def test_shogi_match_over_usi_writes_csa_and_sfen(tmp_path):
    fsf = f"cmd={FAIRY} option.Threads=1"
    common = ["match", "--game", "shogi", "--engine", fsf + " name=FSF-A", "--engine",
              fsf + " name=FSF-B option.Skill\\ Level=0", "--games", "2", "--nodes", "300", "--max-moves", "30"]
    r = CliRunner().invoke(main, [*common, "--out", str(tmp_path / "g.csa")])
    assert r.exit_code == 0, r.output
    assert "Score of FSF-A vs FSF-B" in r.stdout
    import cshogi
    import cshogi.CSA

    csa = (tmp_path / "g.csa").read_text()
    assert csa.count("V2.2") == 2 and "\n/\n" in csa
    parsed = cshogi.CSA.Parser.parse_str(csa)
    assert len(parsed) == 2 and all(len(p.moves) >= 1 for p in parsed)
    r = CliRunner().invoke(main, [*common, "--out", str(tmp_path / "g.sfen")])
    assert r.exit_code == 0, r.output
    lines = (tmp_path / "g.sfen").read_text().splitlines()
    assert len(lines) == 2 and all(ln.startswith("startpos moves ") for ln in lines)
    for ln in lines:  # every recorded move replays legally
        board = cshogi.Board()
        for m in ln.split("#")[0].split()[2:]:
            mv = board.move_from_usi(m)
            assert board.is_legal(mv)
            board.push(mv)


@pytest.mark.slow
@pytest.mark.skipif(not Path(GNUGO).exists(), reason="gnugo not installed")
def test_go_match_over_gtp(tmp_path):
    from netfactory import make_net

    net = make_net(tmp_path / "go9.onnx", {"input_planes": (17, 9, 9)},
                   {"output_policy": (82, "none"), "output_value": (1, "tanh")}, scale=0.0,
                   metadata={"tabula.game": "go", "tabula.codec": "go", "tabula.value": "tanh",
                             "tabula.board_size": "9"})
    tab = f"cmd='{sys.executable} -m protocols.cli gtp --net {net} --visits 4 --resign-threshold 0' name=Tabula"
    ops = tmp_path / "go_openings.txt"
    ops.write_text("E5 C3\n")
    r = CliRunner().invoke(main, ["match", "--game", "go", "--engine", tab, "--engine",
                                  f"cmd='{GNUGO} --mode gtp --level 0' name=GnuGo", "--games", "2",
                                  "--max-moves", "8", "--scorer", "", "--out", str(tmp_path / "g.sgf"), "--json",
                                  "--openings", str(ops)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["games"] == 2 and [x["black"] for x in data["results"]] == ["Tabula", "GnuGo"]
    sgf = (tmp_path / "g.sgf").read_text()
    assert sgf.count("(;GM[1]") == 2 and sgf.count(";B[ee];W[cg]") == 2  # both games start with the opening


def test_cli_needs_two_engines_and_a_limit():
    r = CliRunner().invoke(main, ["match", "--engine", "cmd=a", "--nodes", "1"])
    assert r.exit_code != 0 and "exactly two" in r.output
    r = CliRunner().invoke(main, ["match", "--engine", "cmd=a", "--engine", "cmd=b"])
    assert r.exit_code != 0 and "limit" in r.output
    r = CliRunner().invoke(main, ["match", "--game", "go", "--engine", "cmd=a", "--engine", "cmd=b", "--nodes", "5"])
    assert r.exit_code != 0 and "GTP" in r.output


@pytest.mark.slow
@pytest.mark.skipif(not Path(FAIRY).exists(), reason="fairy-stockfish not installed")
def test_tabula_vs_fairy_stockfish_over_usi(tmp_path):
    from netfactory import make_net

    net = make_net(tmp_path / "shogi.onnx", {"input1": (62, 9, 9), "input2": (57, 9, 9)},
                   {"output_policy": (2187, "none"), "output_value": (1, "sigmoid")}, scale=0.0)
    r = CliRunner().invoke(main, ["match", "--game", "shogi", "--engine", _tabula(net, "Tabula", "usi") + " nodes=8",
                                  "--engine", f"cmd={FAIRY} name=FSF option.Threads=1 nodes=200", "--games", "2",
                                  "--max-moves", "20", "--out", str(tmp_path / "g.sfen"), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["games"] == 2 and [x["sente"] for x in data["results"]] == ["Tabula", "FSF"]
    assert all(x["termination"] in ("normal", "adjudication") for x in data["results"])
    assert len((tmp_path / "g.sfen").read_text().splitlines()) == 2
