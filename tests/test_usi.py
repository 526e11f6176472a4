"""USI front end: parser and state machine through the protocol object, the df-pn ``go mate``
and the rules-level mate check, then end to end with cshogi's engine client and a short
``python -m cshogi.cli`` match against Fairy-Stockfish."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cshogi
import numpy as np
import pytest

from tabula.engine.controller import Engine, Report
from tabula.engine.games.shogi_game import ShogiState
from tabula.engine.search.mcts import Line, SearchStats
from tabula.protocols.common import Writer
from tabula.protocols.usi import USI_PARAMS, UsiProtocol, mate_plies, winrate_to_cp

from linesink import Sink

MATE1_SFEN = "4k4/9/4P4/9/9/9/9/9/4K4 b G 1"            # G*5b mates
MATE3_SFEN = "7nl/7k1/6ppp/9/9/9/9/9/8K b RGS 1"         # R*4b 2b3a G*3b
NOMATE_SFEN = "8l/6gk1/7pn/9/9/9/9/9/8K b RB2G 1"        # df-pn disproves it (~130k nodes)
HARD_SFEN = "ln5n1/1s+N1G2kl/p8/2ppg1Psp/+B2Pbp1p1/1PS3p2/P1N1GPSRL/L4K3/1+pP1+p2g1 w RP2p 124"
MATED_SFEN = "4k4/4G4/4P4/9/9/9/9/9/4K4 w - 1"           # White to move has no legal move
DECLARE_SFEN = "RRBBGGGGK/SS7/9/9/9/9/9/9/4k4 b 2P 1"    # Black may declare (27-point rule)
SHOGI_META = {"tabula.game": "shogi", "tabula.codec": "dlshogi"}


def _shogi_net(path: Path, value_logit: float = 0.0) -> Path:
    """dlshogi signature, all-zero weights: uniform policy, constant win probability."""
    from netfactory import make_net
    return make_net(path, {"input1": (62, 9, 9), "input2": (57, 9, 9)},
                    {"output_policy": (2187, "none"), "output_value": (1, "sigmoid")},
                    scale=0.0, bias={"output_value": np.array([value_logit])}, metadata=SHOGI_META)


@pytest.fixture(scope="module")
def shogi_net(tmp_path_factory) -> Path:
    return _shogi_net(tmp_path_factory.mktemp("usi") / "uniform-shogi.onnx")


@pytest.fixture(scope="module")
def gloomy_shogi_net(tmp_path_factory) -> Path:
    """Believes the side to move always wins (p ≈ 0.9997), so every move we play looks lost."""
    return _shogi_net(tmp_path_factory.mktemp("usi") / "gloomy-shogi.onnx", value_logit=8.0)


def _proto(net: Path | None) -> tuple[UsiProtocol, Sink]:
    sink = Sink()
    proto = UsiProtocol(Engine("shogi", extra_params=USI_PARAMS), Writer(sink))
    if net is not None:
        proto.handle(f"setoption name WeightsFile value {net}")
    return proto, sink


@pytest.fixture()
def usi(shogi_net):
    proto, sink = _proto(shogi_net)
    yield proto, sink
    proto.shutdown()


def _ready(proto: UsiProtocol, sink: Sink) -> None:
    proto.handle("isready")
    sink.wait_for("readyok")


# -- handshake, options, parsing ------------------------------------------------------------------

def test_handshake_names_have_no_spaces_and_net_waits_for_isready(usi):
    proto, sink = usi
    proto.handle("usi")
    out = sink.lines
    assert out[0].startswith("id name Tabula") and out[1].startswith("id author") and out[-1] == "usiok"
    opts = [ln for ln in out if ln.startswith("option name ")]
    names = [ln.split()[2] for ln in opts]
    assert all(ln.split()[3] == "type" for ln in opts), "option names must be one word"
    for want in ["WeightsFile", "Backend", "Threads", "MinibatchSize", "MoveOverhead", "USI_Ponder",
                 "USI_Hash", "ByoyomiMargin", "ResignThreshold", "MaxMovesToDraw", "MultiPV"]:
        assert want in names, want
    assert "option name ResignThreshold type spin default 0 min 0 max 1000" in opts
    assert proto.engine.evaluator is None
    proto.handle("isready")
    assert sink.lines[-1] == "readyok" and proto.engine.evaluator is not None


def test_setoption_usi_names(usi):
    proto, sink = usi
    for line in ["setoption name USI_Hash value 128", "setoption name USI_Ponder value true",
                 "setoption name MoveOverhead value 50", "setoption name ByoyomiMargin value 0"]:
        proto.handle(line)
    assert not sink.starting("info string error"), sink.lines
    opts = proto.engine.options
    assert opts["Hash"] == 128 and opts["USI_Ponder"] is True
    assert opts["Move Overhead"] == 50 and opts["ByoyomiMargin"] == 0
    proto.handle("setoption name USI_Hash value 1")  # below the tree's minimum: clamped, not refused
    assert opts["Hash"] == 16 and not sink.starting("info string error")


def test_setoption_with_a_spaced_name_is_one_clean_answer(usi):
    # the UCI spelling works too, and gives no error after it was set (the first word alone
    # was looked up again as an option 'Move')
    proto, sink = usi
    proto.handle("setoption name Move Overhead value 70")
    assert proto.engine.options["Move Overhead"] == 70
    assert not sink.starting("info string error"), sink.lines


@pytest.mark.parametrize("line,needle", [
    ("foo bar", "unknown command"),
    ("position sfen not/a/sfen b - 1", "invalid SFEN"),
    ("position sfen 4k4/9/9/9/9/9/9/9/9 b - 1", "one king per side"),
    ("position startpos moves 7g7f 7g7f", "illegal move '7g7f'"),
    ("position startpos moves e2e4", "not USI notation"),
    ("position banana", "expected startpos or sfen"),
    ("setoption name ResignThreshold value -3", "outside"),
    ("setoption name USI_Ponder value maybe", "true or false"),
    ("setoption name NoSuchThing value 1", "unknown option"),
    ("gameover maybe", "unknown result"),
])
def test_bad_input_gets_info_string_and_engine_stays_up(usi, line, needle):
    proto, sink = usi
    assert proto.handle(line) is True
    assert any(ln.startswith("info string error") and needle in ln for ln in sink.lines), sink.lines
    proto.handle("isready")
    assert sink.lines[-1] == "readyok"


def test_go_after_bad_position_still_answers(usi):
    proto, sink = usi
    _ready(proto, sink)
    proto.handle("position startpos moves 7g7f 7g7f")
    proto.handle("go byoyomi 300")
    assert sink.wait_for("bestmove") == ["bestmove resign"]
    assert any("no valid position" in ln for ln in sink.starting("info string error"))


def test_clocks_follow_the_side_to_move(usi):
    proto, sink = usi
    proto.handle("setoption name ByoyomiMargin value 100")
    proto.handle("position startpos")
    black = proto.engine.state
    lim = proto.parse_go("btime 1000 wtime 2000 binc 10 winc 20".split(), black)
    assert (lim.time_ms, lim.opp_time_ms, lim.inc_ms) == (1000, 2000, 10)
    proto.handle("position startpos moves 7g7f")
    white = proto.engine.state
    lim = proto.parse_go("winc 20 byoyomi 1000 wtime 2000 btime 1000 ponder".split(), white)
    assert (lim.time_ms, lim.opp_time_ms, lim.inc_ms, lim.ponder) == (2000, 1000, 20, True)
    assert lim.byoyomi_ms == 900  # less ByoyomiMargin; MoveOverhead comes off in the time manager
    lim = proto.parse_go(["byoyomi", "1000"], white)  # byoyomi alone: main time is spent
    assert lim.time_ms == 0 and lim.byoyomi_ms == 900 and lim.timed
    lim = proto.parse_go("infinite nodes 300".split(), white)
    assert lim.infinite and lim.nodes == 300 and not lim.timed
    proto.parse_go("btime x".split(), white)
    assert any("go btime needs a number" in ln for ln in sink.lines)


def test_score_mappings():
    assert winrate_to_cp(0.0) == 0
    assert winrate_to_cp(0.5) == round(756 * np.log(3))  # p = 0.75
    assert winrate_to_cp(-0.5) == -winrate_to_cp(0.5)
    assert winrate_to_cp(1.0) == 30000 and winrate_to_cp(-1.0) == -30000
    assert winrate_to_cp(1.5) == 30000 and winrate_to_cp(-7) == -30000  # clamped
    assert 0 < winrate_to_cp(0.1) < winrate_to_cp(0.9) < winrate_to_cp(0.999999999) < 30000
    assert [mate_plies(m) for m in (1, 2, -1, -3)] == [1, 3, -2, -6]


def test_info_line_fields_and_mate_in_plies(usi):
    proto, _ = usi
    proto.handle("position startpos")
    s = SearchStats(playouts=100, nodes=120, depth_sum=300, seldepth=7, elapsed=0.5)
    after = ShogiState()
    move = after.parse_move("7g7f")
    after.push(move)
    reply = after.parse_move("3c3d")
    lines = [Line(move, 60, 0.5, 0.0, 0.1, [move, reply]),
             Line(move, 10, 1.0, 0.0, 0.1, [move], mate=2),
             Line(move, 5, -1.0, 0.0, 0.1, [move], mate=-1)]
    out = proto.format_info(Report(s, lines, hashfull=3))
    first = out[0].split()
    assert first[:5] == ["info", "depth", "3", "seldepth", "7"]
    for key, value in [("time", "500"), ("nodes", "120"), ("nps", "200"), ("hashfull", "3"),
                       ("multipv", "1")]:
        assert first[first.index(key) + 1] == value, key
    assert "score cp 831" in out[0] and out[0].endswith("pv 7g7f 3c3d")
    assert "score mate 3" in out[1] and "score mate -2" in out[2]


# -- searching ---------------------------------------------------------------------------------

def test_go_nodes_gives_info_and_one_legal_bestmove(usi):
    proto, sink = usi
    _ready(proto, sink)
    proto.handle("usinewgame")
    proto.handle("position startpos moves 7g7f")
    proto.handle("go nodes 120")
    best = sink.wait_for("bestmove")[0].split()
    infos = sink.starting("info depth")
    assert infos and " score cp " in infos[-1] and " pv " in infos[-1]
    state = ShogiState()
    state.push(state.parse_move("7g7f"))
    assert state.parse_move(best[1])  # legal for White
    if len(best) == 4:
        assert best[2] == "ponder"
    proto.handle("stop")  # stray stop: silent
    proto.handle("isready")
    sink.wait_for("readyok", 2)
    assert len(sink.starting("bestmove")) == 1


def test_byoyomi_budget_leaves_the_margins_unused(usi):
    proto, _ = usi
    state = ShogiState()
    limits = proto.parse_go("btime 0 wtime 0 byoyomi 1000".split(), state)
    assert (limits.time_ms, limits.byoyomi_ms) == (0.0, 900.0)          # less ByoyomiMargin 100
    budget = proto.engine._budget(limits, state)
    # 900 − MoveOverhead 100 = 800 ms of thinking at the most
    assert budget.hard_ms == pytest.approx(800.0) and 0 < budget.soft_ms <= budget.hard_ms


@pytest.mark.slow
def test_byoyomi_is_used_but_never_exceeded(usi):
    """End to end, on the wall clock (slow, as every latency check)."""
    proto, sink = usi
    _ready(proto, sink)
    proto.handle("position startpos")
    t0 = time.monotonic()
    proto.handle("go btime 0 wtime 0 byoyomi 1000")
    sink.wait_for("bestmove")
    elapsed = time.monotonic() - t0
    # 1000 − ByoyomiMargin 100 − MoveOverhead 100 = 800 ms of thinking
    assert 0.5 < elapsed < 1.0, elapsed


def test_no_legal_move_resigns(usi):
    proto, sink = usi
    _ready(proto, sink)
    proto.handle(f"position sfen {MATED_SFEN}")
    proto.handle("go btime 0 wtime 0 byoyomi 500")
    assert sink.wait_for("bestmove") == ["bestmove resign"]


def test_ponder_when_mated_waits_for_stop(usi):
    proto, sink = usi
    _ready(proto, sink)
    proto.handle(f"position sfen {MATED_SFEN}")
    proto.handle("go ponder btime 0 wtime 0 byoyomi 100")
    proto.handle("isready")
    sink.wait_for("readyok", 2)
    assert not sink.starting("bestmove") and proto.engine.searching()  # waits for stop/ponderhit
    proto.handle("stop")
    assert sink.wait_for("bestmove") == ["bestmove resign"]


@pytest.mark.parametrize("timed", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_ponderhit_switches_to_the_clock(usi, timed):
    """Pondering searches until ponderhit, then answers a legal move; ``timed`` (slow, as every
    latency check) also holds it to the wall clock."""
    proto, sink = usi
    _ready(proto, sink)
    proto.handle("position startpos moves 7g7f 3c3d")
    proto.handle("go ponder btime 0 wtime 0 byoyomi 600")
    if timed:
        time.sleep(0.8)  # longer than the byoyomi: pondering must not answer on its own
    else:
        sink.wait_for("info depth")  # the ponder search runs
    assert not sink.starting("bestmove") and proto.engine.searching()
    t0 = time.monotonic()
    proto.handle("ponderhit")
    best = sink.wait_for("bestmove")[0].split()
    assert not timed or time.monotonic() - t0 < 0.6
    state = ShogiState()
    for m in ("7g7f", "3c3d"):
        state.push(state.parse_move(m))
    assert state.parse_move(best[1])


def test_declaration_win_before_searching(usi):
    proto, sink = usi
    _ready(proto, sink)
    proto.handle(f"position sfen {DECLARE_SFEN}")
    proto.handle("go btime 0 wtime 0 byoyomi 5000")
    assert sink.wait_for("bestmove") == ["bestmove win"]
    assert not sink.starting("info depth")  # answered before any search
    proto.handle("go ponder btime 0 wtime 0 byoyomi 5000")
    proto.handle("isready")
    sink.wait_for("readyok", 2)
    assert len(sink.starting("bestmove")) == 1  # pondering: no answer before ponderhit
    proto.handle("ponderhit")
    assert sink.wait_for("bestmove", 2)[1] == "bestmove win"


def test_mate_in_one_and_three_at_the_root(usi):
    proto, sink = usi
    _ready(proto, sink)
    proto.handle(f"position sfen {MATE1_SFEN}")
    proto.handle("go btime 0 wtime 0 byoyomi 2000")
    assert sink.wait_for("bestmove") == ["bestmove G*5b"]
    assert "score mate 1" in sink.starting("info")[-1]
    proto.handle(f"position sfen {MATE3_SFEN}")
    proto.handle("go btime 0 wtime 0 byoyomi 2000")
    assert sink.wait_for("bestmove", 2)[1] == "bestmove R*4b"
    assert "score mate 3" in sink.starting("info")[-1]
    # both answered at the root, before any search: one node each
    assert [" nodes 1 " in ln for ln in sink.starting("info depth")] == [True, True]


def test_search_proves_mate_through_quick_win(usi):
    """In analysis (no root shortcut) the tree finds the mate in 3 with a uniform net."""
    proto, sink = usi
    _ready(proto, sink)
    proto.handle(f"position sfen {MATE3_SFEN}")
    proto.handle("go infinite")
    _wait_for_line(sink, lambda ln: ln.startswith("info depth") and " score mate 3 " in ln)
    proto.handle("stop")
    best = sink.wait_for("bestmove")[0]
    final = sink.starting("info depth")[-1]
    assert " score mate 3 " in final and best.split()[1] == "R*4b", (final, best)


def test_resign_threshold(gloomy_shogi_net):
    proto, sink = _proto(gloomy_shogi_net)
    try:
        _ready(proto, sink)
        proto.handle("position startpos")
        proto.handle("go nodes 30")
        assert sink.wait_for("bestmove")[0] != "bestmove resign"  # default 0: never resign
        proto.handle("setoption name ResignThreshold value 50")
        # one search thread: at 30 nodes its batches stay one ply deep (a second thread's batch,
        # steered around the first's leaves in flight, may enter a child's child, where q ≈ +1)
        proto.handle("setoption name SearchThreads value 1")
        proto.handle("usinewgame")  # a fresh tree: every searched move sits one ply deep, q ≈ −1
        proto.handle("go nodes 30")
        assert sink.wait_for("bestmove", 2)[1] == "bestmove resign"
    finally:
        proto.shutdown()


def test_gameover_ends_the_search_with_one_answer_and_a_new_game_follows(usi):
    proto, sink = usi
    _ready(proto, sink)
    proto.handle("position startpos")
    proto.handle("go infinite")
    sink.wait_for("info depth")
    proto.handle("gameover lose")
    sink.wait_for("bestmove")
    proto.handle("gameover")
    proto.handle("usinewgame")
    proto.handle("position startpos moves 2g2f")
    proto.handle("go nodes 20")
    sink.wait_for("bestmove", 2)
    proto.engine.wait()  # the search thread has ended: nothing more can come
    assert len(sink.starting("bestmove")) == 2
    assert not sink.starting("info string error")


def test_missing_net_is_reported_and_go_still_answers(tmp_path):
    proto, sink = _proto(tmp_path / "nope.onnx")
    try:
        proto.handle("isready")
        assert any("network file not found" in ln for ln in sink.lines)
        assert sink.lines[-1] == "readyok"
        proto.handle("position startpos")
        proto.handle("go byoyomi 100")
        best = sink.wait_for("bestmove")[0].split()[1]
        assert ShogiState().parse_move(best)
    finally:
        proto.shutdown()


# -- go mate (df-pn) ---------------------------------------------------------------------------------

def test_go_mate_finds_the_mate(usi):
    proto, sink = usi
    proto.handle(f"position sfen {MATE3_SFEN}")
    proto.handle("go mate 10000")
    assert sink.wait_for("checkmate", timeout=10) == ["checkmate R*4b 2b3a G*3b"]
    proto.handle("position startpos")
    proto.handle("go mate infinite")
    assert sink.wait_for("checkmate", 2, timeout=10)[1] == "checkmate nomate"
    assert not sink.starting("bestmove")


def test_go_mate_disproof_takes_a_while(usi):
    proto, sink = usi
    proto.handle(f"position sfen {NOMATE_SFEN}")
    proto.handle("go mate 20000")
    assert sink.wait_for("checkmate", timeout=25) == ["checkmate nomate"]
    assert any(ln.startswith("info time") and " nodes " in ln for ln in sink.lines)


@pytest.mark.parametrize("timed", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_go_mate_stop_and_deadline_answer_timeout_and_isready_stays_live(usi, timed):
    """The answers; ``timed`` (slow, as every latency check) also holds them to the wall clock."""
    proto, sink = usi
    proto.handle(f"position sfen {HARD_SFEN}")
    proto.handle("go mate infinite")
    if timed:
        time.sleep(0.5)
    t0 = time.monotonic()
    proto.handle("isready")
    sink.wait_for("readyok")
    assert not timed or time.monotonic() - t0 < 0.3  # df-pn holds the GIL, but not in this process
    t0 = time.monotonic()
    proto.handle("stop")
    assert sink.wait_for("checkmate") == ["checkmate timeout"]
    assert not timed or time.monotonic() - t0 < 0.5
    t0 = time.monotonic()
    proto.handle("go mate 700")
    assert sink.wait_for("checkmate", 2)[1] == "checkmate timeout"
    assert not timed or 0.3 < time.monotonic() - t0 < 1.2
    assert not sink.starting("bestmove")


def test_go_mate_interrupted_by_a_new_go(usi):
    proto, sink = usi
    _ready(proto, sink)
    proto.handle(f"position sfen {HARD_SFEN}")
    proto.handle("go mate infinite")
    proto.handle("go nodes 20")
    sink.wait_for("bestmove")
    assert sink.starting("checkmate") == ["checkmate timeout"]
    assert sink.lines.index("checkmate timeout") < sink.lines.index(sink.starting("bestmove")[0])


# -- the rules hook the search calls at every leaf ------------------------------------------------------

def test_quick_win_finds_short_mates_only_when_safe():
    assert ShogiState(MATE1_SFEN).quick_win() == 1
    assert ShogiState(MATE3_SFEN).quick_win() == 3
    assert ShogiState().quick_win() is None
    assert ShogiState(NOMATE_SFEN).quick_win() is None
    # in check: cshogi's 1-ply search is unsound there, so the hook stays out
    checked = ShogiState("4k4/4G4/9/9/9/9/9/9/4K4 w - 1")
    assert checked.in_check() and checked.quick_win() is None
    # the move limit would draw the game before a 3-ply mate completes
    assert ShogiState(MATE3_SFEN.replace(" 1", " 9"), max_moves=10).quick_win() is None
    assert ShogiState(MATE1_SFEN.replace(" 1", " 9"), max_moves=10).quick_win() == 1


# -- end to end: cshogi drives `tabula-usi` --------------------------------------------------------------

def _wait_for_line(sink: Sink, pred, timeout: float = 60.0) -> str:
    """The first line written that satisfies ``pred``, waiting for it (the timeout only keeps a
    broken engine from hanging the run)."""
    with sink.cond:
        found: list[str] = []
        ok = sink.cond.wait_for(lambda: found.extend(ln for ln in sink.lines if pred(ln)) or found, timeout)
        assert ok, sink.lines[-20:]
        return found[0]


def _usi_executable() -> str:
    exe = Path(sys.executable).with_name("tabula-usi")
    if not exe.exists():
        pytest.skip("the tabula-usi console script is not installed (pip install -e .)")
    return str(exe)


@pytest.mark.slow
def test_cshogi_engine_plays_tabula_usi(shogi_net):
    from cshogi.usi import Engine as UsiEngine

    eng = UsiEngine(_usi_executable())  # cshogi starts the path with no arguments
    try:
        assert eng.name.startswith("Tabula")
        eng.setoption("WeightsFile", str(shogi_net))
        eng.setoption("USI_Hash", 64)
        eng.setoption("USI_Ponder", "false")
        eng.isready()
        eng.usinewgame()
        board, moves = cshogi.Board(), []
        for ply in range(16):
            eng.position(moves)
            t0 = time.perf_counter()
            if ply % 2:
                best, _ = eng.go(btime=0, wtime=0, byoyomi=400)
                assert time.perf_counter() - t0 < 0.4
            else:
                best, _ = eng.go(nodes=50)
            move = board.move_from_usi(best)
            assert board.is_legal(move), best
            board.push(move)
            moves.append(best)
        eng.position(sfen=f"sfen {MATE3_SFEN}")
        assert eng.go_mate(byoyomi=10000) == "R*4b 2b3a G*3b"
        eng.gameover()
        eng.quit()
    finally:
        if eng.proc is not None:
            eng.proc.kill()


FAIRY = "/usr/games/fairy-stockfish"


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(FAIRY), reason="fairy-stockfish is not installed")
def test_cshogi_cli_match_against_fairy_stockfish(shogi_net):
    cmd = [sys.executable, "-m", "cshogi.cli", _usi_executable(), FAIRY, "--games", "2",
           "--byoyomi", "300", "--time", "0", "--draw", "120",
           "--options1", f"WeightsFile:{shogi_net},ByoyomiMargin:0"]
    out = subprocess.run(["timeout", "280", *cmd], capture_output=True, text=True, timeout=300)
    text = out.stdout
    assert out.returncode == 0, out.stderr[-2000:]
    assert "2 of 2 games finished." in text, text[-2000:]
    for foul in ("反則", "切れ負け"):  # illegal move / illegal action, loss on time
        assert foul not in text, text


def test_option_flag_sets_engine_options(monkeypatch, capsys):
    from clirun import options_after_cli
    from tabula.protocols.cli import usi_main

    got = options_after_cli(monkeypatch, UsiProtocol, usi_main,
                            "-o", "MoveOverhead=50", "-o", "ResignThreshold=30")
    assert (got["Move Overhead"], got["ResignThreshold"], got["MinibatchSize"]) == (50, 30, 16)
    for bad, why in (("ResignThreshold=0.05", "takes an integer"), ("Nope=1", "unknown option"),
                     ("USI_Ponder", "NAME=VALUE")):
        with pytest.raises(SystemExit) as exit_:
            options_after_cli(monkeypatch, UsiProtocol, usi_main, "-o", bad)
        assert exit_.value.code == 2 and why in capsys.readouterr().err
