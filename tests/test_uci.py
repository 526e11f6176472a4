"""UCI front end: parser and state machine through the protocol object, then end to end
with python-chess's engine client and a raw pipe."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time

import chess
import chess.engine
import pytest

from tabula.engine.controller import Engine
from tabula.engine.games.chess_game import ChessState
from tabula.protocols.common import SCORE_TYPES, Writer, score_cp, wdl_mu, wdl_permille
from tabula.protocols.uci import UCI_PARAMS, UciProtocol

from linesink import Sink


@pytest.fixture()
def uci(uniform_chess_net):
    sink = Sink()
    engine = Engine("chess", extra_params=UCI_PARAMS)
    proto = UciProtocol(engine, Writer(sink))
    proto.handle(f"setoption name WeightsFile value {uniform_chess_net}")
    yield proto, sink
    proto.shutdown()


def test_handshake_lists_options_with_types(uci):
    proto, sink = uci
    proto.handle("uci")
    out = sink.lines
    assert out[0].startswith("id name Tabula") and out[-1] == "uciok"
    opts = [ln for ln in out if ln.startswith("option name ")]
    names = {ln.split(" type ")[0][len("option name "):] for ln in opts}
    for want in ["WeightsFile", "Backend", "Threads", "MinibatchSize", "CPuct", "FpuReduction",
                 "PolicyTemperature", "NNCacheSize", "MultiPV", "UCI_ShowWDL", "Move Overhead",
                 "Ponder", "UCI_Chess960", "SmartPruning"]:
        assert want in names, want
    assert "option name Move Overhead type spin default 100 min 0 max 10000" in opts
    assert "option name CPuct type string default 1.745" in opts
    assert "option name Backend type combo default auto var auto var cpu var cuda var tensorrt" in opts
    # chess overrides the shared batch default (the other front ends keep 64), listed once, in place
    assert [ln for ln in opts if "MinibatchSize" in ln] == ["option name MinibatchSize type spin default 16 min 1 max 1024"]


def test_minibatch_default_is_16_for_chess_and_shogi_and_still_settable(uci):
    from tabula.engine.controller import Engine
    from tabula.protocols.usi import USI_PARAMS

    proto, _ = uci
    assert proto.engine.options["MinibatchSize"] == 16
    proto.handle("setoption name MinibatchSize value 64")
    assert proto.engine.options["MinibatchSize"] == 64
    assert Engine("shogi", extra_params=USI_PARAMS).options["MinibatchSize"] == 16
    assert Engine("go").options["MinibatchSize"] == 64  # go: not measured at 16 yet


def test_net_is_not_loaded_before_isready(uci):
    proto, sink = uci
    proto.handle("uci")
    assert proto.engine.evaluator is None
    proto.handle("isready")
    assert sink.lines[-1] == "readyok"
    assert proto.engine.evaluator is not None


@pytest.mark.parametrize("line,needle", [
    ("foo bar", "unknown command"),
    ("position fen not/a/fen w - - 0 1", "invalid FEN"),
    ("position startpos moves e2e4 e2e4", "illegal move 'e2e4'"),
    ("position banana", "expected startpos or fen"),
    ("setoption name CPuct value abc", "takes a number"),
    ("setoption name MultiPV value 0", "outside"),
    ("setoption name Backend value quantum", "takes one of"),
    ("setoption name NoSuchThing value 1", "unknown option"),
    ("setoption name UCI_ShowWDL value maybe", "true or false"),
])
def test_bad_input_gets_info_string_and_engine_stays_up(uci, line, needle):
    proto, sink = uci
    assert proto.handle(line) is True
    assert any(ln.startswith("info string error") and needle in ln for ln in sink.lines), sink.lines
    proto.handle("isready")
    assert sink.lines[-1] == "readyok"


def test_missing_net_is_reported_and_go_still_answers(tmp_path):
    sink = Sink()
    proto = UciProtocol(Engine("chess", extra_params=UCI_PARAMS), Writer(sink))
    proto.handle(f"setoption name WeightsFile value {tmp_path / 'nope.onnx'}")
    proto.handle("isready")
    assert any("network file not found" in ln for ln in sink.lines)
    assert sink.lines[-1] == "readyok"
    proto.handle("position startpos")
    proto.handle("go nodes 10")
    best = sink.wait_for("bestmove")[0].split()[1]
    assert chess.Move.from_uci(best) in chess.Board().legal_moves
    proto.shutdown()


def test_mismatched_net_is_reported(tmp_path):
    from netfactory import make_net
    path = make_net(tmp_path / "other.onnx", {"x": (3, 4, 4)}, {"p": (10, "none"), "v": (1, "tanh")})
    sink = Sink()
    proto = UciProtocol(Engine("chess", extra_params=UCI_PARAMS), Writer(sink))
    proto.handle(f"setoption name WeightsFile value {path}")
    proto.handle("isready")
    err = [ln for ln in sink.lines if ln.startswith("info string error")]
    assert err and "no codec accepts" in err[0] and "other.onnx" in err[0]
    proto.shutdown()


def test_not_onnx_file_is_reported(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_text("hello")
    sink = Sink()
    proto = UciProtocol(Engine("chess", extra_params=UCI_PARAMS), Writer(sink))
    proto.handle(f"setoption name WeightsFile value {bad}")
    proto.handle("isready")
    assert any("cannot load" in ln and "bad.onnx" in ln for ln in sink.lines)
    proto.shutdown()


def test_go_fields_in_any_order(uci):
    proto, sink = uci
    proto.handle("position startpos moves e2e4")
    state = proto.engine.state
    lim = proto.parse_go("binc 100 movestogo 5 wtime 1000 btime 2000 winc 7 searchmoves e7e5 d7d5".split(),
                         state)
    assert lim.time_ms == 2000 and lim.inc_ms == 100 and lim.opp_time_ms == 1000
    assert lim.moves_to_go == 5 and len(lim.searchmoves) == 2
    lim = proto.parse_go("nodes 50 infinite ponder depth 3 mate 2 movetime 99".split(), state)
    assert (lim.nodes, lim.infinite, lim.ponder, lim.depth, lim.mate, lim.movetime_ms) == \
        (50, True, True, 3, 2, 99)


def test_one_bestmove_per_go_and_stray_stop_is_silent(uci):
    proto, sink = uci
    proto.handle("isready")
    proto.handle("position startpos")
    proto.handle("go nodes 30")
    sink.wait_for("bestmove")
    proto.handle("stop")
    proto.handle("stop")
    proto.handle("isready")
    sink.wait_for("readyok", 2)
    assert len([ln for ln in sink.lines if ln.startswith("bestmove")]) == 1


def test_infinite_then_stop_and_isready_mid_search(uci):
    proto, sink = uci
    proto.handle("isready")
    proto.handle("position startpos")
    proto.handle("go infinite")
    assert proto.engine.searching()  # go returned with the search thread running
    proto.handle("isready")
    assert sink.lines[-1] == "readyok" or "readyok" in sink.lines[-3:]
    assert not [ln for ln in sink.lines if ln.startswith("bestmove")]
    proto.handle("stop")
    sink.wait_for("bestmove")


def test_info_line_fields(uci):
    proto, sink = uci
    proto.handle("setoption name UCI_ShowWDL value true")
    proto.handle("setoption name MultiPV value 2")
    proto.handle("isready")
    proto.handle("position startpos")
    proto.handle("go nodes 100")
    sink.wait_for("bestmove")
    infos = [ln for ln in sink.lines if ln.startswith("info depth")]
    assert infos
    last = infos[-1].split()
    for key in ["seldepth", "time", "nodes", "score", "wdl", "hashfull", "nps", "multipv", "pv"]:
        assert key in last, key


def test_no_legal_move_answers_0000(uci):
    proto, sink = uci
    proto.handle("isready")
    proto.handle("position fen 7k/5Q2/6K1/8/8/8/8/8 b - - 0 1")
    proto.handle("go movetime 100")
    assert sink.wait_for("bestmove")[0] == "bestmove 0000"


def test_chess960_castling_notation(uci):
    proto, sink = uci
    proto.handle("setoption name UCI_Chess960 value true")
    proto.handle("isready")
    proto.handle("position fen r3k2r/8/8/8/8/8/8/R3K2R w HAha - 0 1 moves e1h1")
    assert not [ln for ln in sink.lines if "error" in ln]
    assert proto.engine.state.board.board_fen() == "r3k2r/8/8/8/8/8/8/R4RK1"
    proto.handle("go nodes 50")
    best = sink.wait_for("bestmove")[0].split()[1]
    assert best in {"e8h8", "e8a8"} or chess.Move.from_uci(best) in proto.engine.state.board.legal_moves


#: what lc0 v0.33 printed (maia-1500, ``go nodes 300``, ``UCI_ShowWDL``, default ``ScoreType``):
#: ``wdl W D L`` per mille and ``score cp``, on 13 positions (session 12, /work/notes/s12/mucheck.py)
LC0_WDL_MU = [((494, 37, 469), 65), ((503, 37, 460), 116), ((535, 40, 425), 281), ((514, 50, 436), 157),
              ((548, 30, 422), 425), ((478, 28, 494), -57), ((426, 34, 540), -342), ((469, 31, 500), -102),
              ((698, 35, 267), 1088), ((913, 75, 12), 326), ((105, 830, 65), 10), ((875, 121, 4), 214)]


@pytest.mark.parametrize("wdl,cp", LC0_WDL_MU, ids=lambda x: str(x))
def test_wdl_mu_scores_agree_with_what_lc0_printed(wdl, cp):
    # lc0 computes from its unrounded W/D/L; from the per-mille figures the score lands within a
    # few per cent (a small D makes mu sensitive to its last digit)
    w, d, loss = (x / 1000 for x in wdl)
    got = score_cp(w - loss, d)
    assert abs(got - cp) <= max(3, 0.04 * abs(cp)), (got, cp)


def test_score_types():
    assert SCORE_TYPES[0] == "WDL_mu"
    for kind in SCORE_TYPES:
        assert score_cp(0.0, 0.3, kind) == (5000 if kind == "win_percentage" else 0)
        assert score_cp(-0.2, 0.3, kind) == (10000 - score_cp(0.2, 0.3, kind) if kind == "win_percentage"
                                             else -score_cp(0.2, 0.3, kind))
    assert abs(score_cp(0.1, 0.3, "centipawn") - 90 * 0.1564) < 3
    assert score_cp(0.5, 0.2, "Q") == score_cp(0.5, 0.2, "W-L") == 5000
    assert score_cp(0.5, 0.2, "win_percentage") == 7500
    # no draw head (D = 0): lc0's fallback, 45·tan(1.56728071628·Q), as lc0 does for a net without WDL
    assert wdl_mu(0.3, 0.0) is None and score_cp(0.3, 0.0) == round(45 * math.tan(1.56728071628 * 0.3))
    # mu itself: W = L gives 0; a larger W a positive mu, growing with Q at a fixed D
    assert wdl_mu(0.0, 0.4) == 0.0 and 0 < wdl_mu(0.2, 0.4) < wdl_mu(0.4, 0.4)
    assert score_cp(1.0, 0.0) == 12800 and score_cp(-1.0, 0.0) == -12800


def test_score_type_option_sets_what_score_cp_shows(random_chess_net):
    sink = Sink()
    proto = UciProtocol(Engine("chess", extra_params=UCI_PARAMS), Writer(sink))
    proto.handle(f"setoption name WeightsFile value {random_chess_net}")
    proto.handle("setoption name UCI_ShowWDL value true")
    seen = {}
    try:
        for kind in ("WDL_mu", "centipawn", "Q"):
            proto.handle(f"setoption name ScoreType value {kind}")
            proto.handle("position startpos moves e2e4 e7e5")
            proto.handle("go nodes 30")
            sink.wait_for("bestmove")
            info = [ln for ln in sink.lines if ln.startswith("info") and " score cp " in ln][-1].split()
            cp, (w, d, loss) = int(info[info.index("cp") + 1]), (int(x) for x in info[info.index("wdl") + 1:][:3])
            # the per-mille W/D/L printed beside it gives the same score, to its rounding
            assert abs(cp - score_cp((w - loss) / 1000, d / 1000, kind)) <= max(10, 0.05 * abs(cp)), (kind, info)
            seen[kind] = cp
            sink.lines.clear()
        assert seen["Q"] != seen["centipawn"]
        proto.handle("setoption name ScoreType value nonsense")
        assert any("takes one of" in ln for ln in sink.lines)  # refused with a message, the old value kept
        assert proto.engine.options["ScoreType"] == "Q"
    finally:
        proto.shutdown()


def test_wdl_permille():
    assert wdl_permille(0.0, 1.0) == (0, 1000, 0)
    assert sum(wdl_permille(0.3, 0.2)) == 1000


# -- end to end: python-chess drives `tabula uci` ------------------------------------------------

def _engine_cmd(net) -> list[str]:
    return [sys.executable, "-m", "tabula.protocols.cli", "uci", "--net", str(net)]


@pytest.mark.slow
def test_python_chess_plays_a_full_game(random_chess_net):
    with chess.engine.SimpleEngine.popen_uci(_engine_cmd(random_chess_net), timeout=30) as eng:
        board = chess.Board()
        while not board.is_game_over(claim_draw=True) and board.ply() < 120:
            result = eng.play(board, chess.engine.Limit(nodes=20))
            assert result.move in board.legal_moves
            board.push(result.move)
        eng.quit()
    assert board.ply() > 0


@pytest.mark.slow
def test_python_chess_analyse_multipv(random_chess_net):
    with chess.engine.SimpleEngine.popen_uci(_engine_cmd(random_chess_net), timeout=30) as eng:
        infos = eng.analyse(chess.Board(), chess.engine.Limit(nodes=300), multipv=3)
        assert len(infos) == 3
        moves = [i["pv"][0] for i in infos]
        assert len(set(moves)) == 3
        for i in infos:
            assert "score" in i and "nodes" in i and "depth" in i
        eng.quit()


@pytest.mark.slow
def test_python_chess_ponder_hit_and_stop(random_chess_net):
    with chess.engine.SimpleEngine.popen_uci(_engine_cmd(random_chess_net), timeout=30) as eng:
        board = chess.Board()
        res = eng.play(board, chess.engine.Limit(white_clock=5, black_clock=5), ponder=True)
        assert res.move in board.legal_moves
        eng.quit()
    # raw protocol: go ponder must wait for ponderhit/stop
    proc = subprocess.Popen(_engine_cmd(random_chess_net), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    try:
        send = lambda s: (proc.stdin.write(s + "\n"), proc.stdin.flush())  # noqa: E731
        send("uci"), send("isready")
        _read_until(proc, "readyok")
        send("position startpos moves e2e4 e7e5")
        send("go ponder wtime 2000 btime 2000")
        time.sleep(0.5)
        send("isready")
        lines = _read_until(proc, "readyok")
        assert not any(ln.startswith("bestmove") for ln in lines)
        send("ponderhit")
        lines = _read_until(proc, "bestmove", timeout=10)
        send("position startpos moves d2d4")
        send("go ponder wtime 2000 btime 2000")
        time.sleep(0.3)
        send("stop")
        _read_until(proc, "bestmove", timeout=5)
        send("quit")
        proc.wait(timeout=10)
    finally:
        proc.kill()


def _read_until(proc, prefix: str, timeout: float = 20.0) -> list[str]:
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"no {prefix} in {lines[-10:]}")


@pytest.mark.slow
def test_raw_pipe_latency_of_readyok_and_stop(random_chess_net):
    proc = subprocess.Popen(_engine_cmd(random_chess_net), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    try:
        send = lambda s: (proc.stdin.write(s + "\n"), proc.stdin.flush())  # noqa: E731
        send("uci")
        _read_until(proc, "uciok")
        send("isready")
        _read_until(proc, "readyok")
        send("position startpos")
        send("go infinite")
        time.sleep(1.0)
        t0 = time.monotonic()
        send("isready")
        _read_until(proc, "readyok")
        ready_latency = time.monotonic() - t0
        t0 = time.monotonic()
        send("stop")
        _read_until(proc, "bestmove")
        stop_latency = time.monotonic() - t0
        send("quit")
        assert proc.wait(timeout=10) == 0
        assert ready_latency < 0.2, ready_latency
        assert stop_latency < 0.5, stop_latency
    finally:
        proc.kill()


@pytest.mark.slow
def test_short_clock_game_never_flags(random_chess_net):
    """Self-play at 2 s + 20 ms per side, clocks kept here as a GUI keeps them."""
    clocks = {chess.WHITE: 2.0, chess.BLACK: 2.0}
    inc = 0.02
    with chess.engine.SimpleEngine.popen_uci(_engine_cmd(random_chess_net), timeout=30) as eng:
        board = chess.Board()
        while not board.is_game_over(claim_draw=True) and board.ply() < 60:
            limit = chess.engine.Limit(white_clock=clocks[chess.WHITE], black_clock=clocks[chess.BLACK],
                                       white_inc=inc, black_inc=inc)
            t0 = time.monotonic()
            result = eng.play(board, limit)
            spent = time.monotonic() - t0
            clocks[board.turn] -= spent
            assert clocks[board.turn] > 0, f"flagged at ply {board.ply()}"
            clocks[board.turn] += inc
            assert result.move in board.legal_moves
            board.push(result.move)
        eng.quit()


def test_option_flag_sets_engine_options(monkeypatch, capsys):
    from clirun import options_after_cli
    from tabula.protocols.cli import uci_main

    got = options_after_cli(monkeypatch, UciProtocol, uci_main,
                            "-o", "CPuct=1.2", "--option", "Move Overhead = 50")
    assert (got["CPuct"], got["Move Overhead"], got["MinibatchSize"]) == (1.2, 50, 16)
    for bad, why in (("CPuct=abc", "takes a number"), ("Nope=1", "unknown option"), ("CPuct", "NAME=VALUE")):
        with pytest.raises(SystemExit) as exit_:
            options_after_cli(monkeypatch, UciProtocol, uci_main, "-o", bad)
        assert exit_.value.code == 2 and why in capsys.readouterr().err


def test_verbose_move_stats_lists_every_root_move(uci):
    proto, sink = uci
    proto.handle("setoption name VerboseMoveStats value true")
    proto.handle("isready")
    proto.handle("position startpos")
    proto.handle("go nodes 60")
    sink.wait_for("bestmove")
    stats = [ln.split() for ln in sink.lines if ln.startswith("info string") and " N: " in ln]
    moves = [ln[2] for ln in stats[:-1]]
    assert sorted(moves) == sorted(ChessState().move_to_text(m) for m in ChessState().legal_moves())
    visits = [int(ln[ln.index("N:") + 1]) for ln in stats]
    assert visits[:-1] == sorted(visits[:-1])          # fewest visits first, as lc0 prints them
    assert sum(visits[:-1]) == visits[-1] - 1 == 59    # the last line is the root: 60 nodes
    best = sink.lines[-1].split()[1]
    assert moves[-1] == best


def test_verbose_move_stats_is_off_by_default(uci):
    proto, sink = uci
    proto.handle("position startpos")
    proto.handle("go nodes 20")
    sink.wait_for("bestmove")
    assert not any(" N: " in ln for ln in sink.lines)


def test_a_report_notice_is_printed_as_info_string(uci):
    from tabula.engine.controller import Report
    from tabula.engine.search.mcts import SearchStats
    proto, sink = uci
    proto._on_info(Report(SearchStats(), [], 0, notice="search tree full (9 nodes, Hash 16 MB): searching on"))
    assert "info string search tree full (9 nodes, Hash 16 MB): searching on" in sink.lines


def test_setoption_the_moment_bestmove_arrives_is_accepted(uniform_chess_net):
    """A GUI may send setoption as soon as it reads bestmove, while the search thread is still
    exiting: the engine has answered, so it takes the option (no 'cannot set … while searching')."""
    class SlowSink(Sink):
        def write(self, text: str) -> None:
            super().write(text)
            if text.startswith("bestmove"):
                threading.Event().wait(0.3)  # hold the search thread inside its answer

    sink = SlowSink()
    proto = UciProtocol(Engine("chess", extra_params=UCI_PARAMS), Writer(sink))
    try:
        proto.handle(f"setoption name WeightsFile value {uniform_chess_net}")
        proto.handle("isready")
        proto.handle("position startpos")
        proto.handle("go nodes 16")
        sink.wait_for("bestmove")
        assert proto.engine.searching() is False
        proto.handle("setoption name MultiPV value 2")
        assert proto.engine.options["MultiPV"] == 2
        assert not [ln for ln in sink.lines if "while searching" in ln]
    finally:
        proto.shutdown()
