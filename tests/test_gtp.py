"""GTP front end: framing, every command, move-choice rules, analysis dialects, clocks, referee."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tabula.engine.controller import Engine
from tabula.engine.games.go import GoState, handicap_points, parse_vertex, vertex
from netfactory import make_net
from tabula.protocols.common import Writer
from tabula.engine.go.sgf import parse_sgf_main_line, sgf_coord, sgf_point
from tabula.protocols.gtp import GTP_PARAMS, GtpProtocol

pytest.importorskip("onnx")

ROOT = Path(__file__).resolve().parent.parent
GNUGO = "/usr/games/gnugo"


def go_net(path: Path, n: int, *, scale: float = 0.05, pass_bias: float = 0.0, value_bias: float = 0.0,
           seed: int = 0) -> Path:
    bias = np.zeros(n * n + 1, np.float32)
    bias[-1] = pass_bias
    return make_net(path, {"input_planes": (17, n, n)}, {"output_policy": (n * n + 1, "none"),
                                                          "output_value": (1, "tanh")},
                    scale={"output_policy": scale, "output_value": scale}, seed=seed,
                    bias={"output_policy": bias, "output_value": np.array([value_bias])},
                    metadata={"tabula.game": "go", "tabula.codec": "go", "tabula.board_size": str(n),
                              "tabula.value": "tanh"})


@pytest.fixture(scope="module")
def nets(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("gtpnets")
    return {
        "go9": go_net(d / "go9.onnx", 9),
        "go19": go_net(d / "go19.onnx", 19, scale=0.0),
        "passer9": go_net(d / "passer9.onnx", 9, scale=0.0, pass_bias=12.0),
        "loser9": black_loses_net(d / "loser9.onnx"),
        # wants to pass, and rates every position as won for the side to move
        "sure_passer9": go_net(d / "sure_passer9.onnx", 9, scale=0.0, pass_bias=12.0, value_bias=3.0),
        # rates every position as lost for the side to move
        "gloomy9": go_net(d / "gloomy9.onnx", 9, scale=0.0, value_bias=-3.0),
    }


class _Out(io.StringIO):
    """The protocol's stdout: wakes :meth:`Gtp.wait_for` on every write."""

    def __init__(self) -> None:
        super().__init__()
        self.cond = threading.Condition()

    def write(self, text: str) -> int:
        with self.cond:
            n = super().write(text)
            self.cond.notify_all()
            return n


class Gtp:
    """A protocol instance driven line by line; each call returns what it wrote."""

    def __init__(self, net: Path | None = None, finder=None, **options) -> None:
        self.out = _Out()
        self.seen = 0
        self.engine = Engine("go", extra_params=GTP_PARAMS)
        self.engine.set_option("Threads", "1")
        options.setdefault("Visits", 24)
        for k, v in options.items():
            self.engine.set_option(k, str(v))
        self.proto = GtpProtocol(self.engine, Writer(self.out), net=str(net) if net else None,
                                 net_for_size=finder)

    def __call__(self, line: str) -> str:
        """Everything written since the last call (analysis lines in between included)."""
        self.proto.handle(line)
        with self.proto.write._lock:
            text = self.out.getvalue()
        new, self.seen = text[self.seen:], len(text)
        return new

    def ok(self, line: str) -> str:
        """Send a command that must succeed; returns the reply text."""
        raw = self(line)
        assert raw.startswith("=") and raw.endswith("\n\n"), raw
        head, _, rest = raw[:-2].partition("\n")
        text = head[1:].lstrip("0123456789").strip()
        return "\n".join([text, rest]).strip() if rest else text

    def fail(self, line: str) -> str:
        raw = self(line)
        assert raw.startswith("?") and raw.endswith("\n\n") and raw.count("\n\n") == 1, raw
        return raw[1:].lstrip("0123456789").strip()

    def wait_for(self, prefix: str, count: int = 1, since: int = 0, timeout: float = 60.0) -> None:
        """Block until ``count`` lines written after offset ``since`` start with ``prefix``
        (the timeout only keeps a broken engine from hanging the run)."""
        def seen() -> int:
            return sum(ln.startswith(prefix) for ln in self.out.getvalue()[since:].splitlines())
        with self.out.cond:
            assert self.out.cond.wait_for(lambda: seen() >= count, timeout), self.out.getvalue()[since:]

    def close(self) -> None:
        self.proto.shutdown()


@pytest.fixture
def gtp(nets):
    g = Gtp(nets["go9"])
    yield g
    g.close()


# -- framing -------------------------------------------------------------------------------------


def test_ids_are_echoed_and_replies_end_with_a_blank_line(gtp):
    assert gtp("1 name") == "=1 Tabula\n\n"
    assert gtp("42 protocol_version") == "=42 2\n\n"
    assert gtp("version") == "= 0.1.0\n\n" or re.fullmatch(r"= \d+\.\d+\.\d+\n\n", gtp("version"))
    assert gtp("7 boardsize 9") == "=7\n\n"
    assert gtp("8 frobnicate") == "?8 unknown command\n\n"


def test_empty_lines_comments_and_control_characters(gtp):
    assert gtp("") == "" and gtp("   \t ") == "" and gtp("# just a comment") == ""
    assert gtp("name # trailing comment") == "= Tabula\n\n"
    assert gtp("name\r") == "= Tabula\n\n"
    assert gtp("3\tname") == "=3 Tabula\n\n"


def test_no_substring_or_case_dispatch(gtp):
    assert gtp.fail("NAME") == "unknown command"
    assert gtp.fail("versionx") == "unknown command"
    assert gtp.ok("known_command protocol_version") == "true"
    assert gtp.ok("known_command protocol") == "false"


def test_version_is_dotted_numeric_as_lizzie_parses_it(gtp):
    ver = gtp.ok("version")
    parts = ver.split(".")
    assert len(parts) >= 2 and all(p.isdigit() for p in parts)
    int(parts[1])  # Lizzie: Integer.parseInt(ver.split("\\.")[1])


def test_list_commands_is_the_dispatch_table(gtp):
    names = gtp.ok("list_commands").splitlines()
    assert names == list(gtp.proto.commands)
    assert all(gtp.ok(f"known_command {n}") == "true" for n in names)
    assert gtp.ok("known_command foo") == "false"


# -- every command -------------------------------------------------------------------------------


def test_every_listed_command_runs(gtp, tmp_path):
    sgf = tmp_path / "g.sgf"
    samples = {
        "protocol_version": "protocol_version", "name": "name", "version": "version",
        "known_command": "known_command play", "list_commands": "list_commands",
        "boardsize": "boardsize 9", "clear_board": "clear_board", "komi": "komi 6.5",
        "play": "play b E5", "genmove": "genmove w", "undo": "undo",
        "fixed_handicap": None, "place_free_handicap": None, "set_free_handicap": None,
        "final_score": "final_score", "final_status_list": "final_status_list dead",
        "showboard": "showboard", "loadsgf": None, "printsgf": f"printsgf {sgf}",
        "time_settings": "time_settings 0 1 0", "time_left": "time_left b 30 0",
        "kgs-time_settings": "kgs-time_settings none", "kgs-genmove_cleanup": "kgs-genmove_cleanup b",
        "kgs-game_over": "kgs-game_over", "lz-analyze": None, "lz-genmove_analyze": None,
        "kata-analyze": None, "kata-genmove_analyze": None,
        "gogui-analyze_commands": "gogui-analyze_commands", "tabula-best_moves": "tabula-best_moves",
        "tabula-ownership": "tabula-ownership", "tabula-network": "tabula-network", "quit": None,
    }
    assert set(samples) == set(gtp.ok("list_commands").splitlines())
    for name, line in samples.items():
        if line is not None:
            gtp.ok(line)
    assert sgf.read_text().startswith("(;GM[1]")
    gtp.ok(f"loadsgf {sgf}")
    gtp.ok("clear_board")
    gtp.ok("fixed_handicap 2")
    gtp.ok("clear_board")
    gtp.ok("place_free_handicap 3")
    gtp.ok("clear_board")
    gtp.ok("set_free_handicap C3 G7")
    for cmd in ("lz-analyze 10", "kata-analyze 10"):
        start = gtp.seen
        head = gtp(cmd)
        gtp.wait_for("info move", since=start)
        assert head.startswith("=") and (head + gtp("")).endswith("\n\n")
    for cmd in ("lz-genmove_analyze b 10", "kata-genmove_analyze w 10"):
        out = gtp(cmd)
        assert out.startswith("=") and re.search(r"^play \S+\n\n$", out, re.M), out
    assert gtp("quit") == "=\n\n"


def test_quit_stops_the_loop(nets):
    out = io.StringIO()
    eng = Engine("go", extra_params=GTP_PARAMS)
    GtpProtocol(eng, Writer(out), net=str(nets["go9"])).run(["1 name\n", "2 quit\n", "3 name\n"])
    assert out.getvalue() == "=1 Tabula\n\n=2\n\n"


# -- board size and networks ------------------------------------------------------------------------


def test_boardsize_needs_a_net_of_that_size(gtp):
    assert gtp.proto.size == 9  # --net given: its size is the starting size
    assert gtp.fail("boardsize 19") == "unacceptable size: no network for board size 19 (go9.onnx is a 9x9 net)"
    assert gtp.ok("play b E5") == ""  # still up, still 9x9
    assert gtp.fail("boardsize 1").startswith("unacceptable size")
    assert gtp.fail("boardsize 26").startswith("unacceptable size")
    assert "integer" in gtp.fail("boardsize nine")
    assert "usage" in gtp.fail("boardsize")


def test_net_chosen_by_board_size(nets):
    g = Gtp(finder={9: str(nets["go9"]), 19: str(nets["go19"])}.get)
    try:
        assert g.proto.size == 19
        assert g.ok("boardsize 19") == ""
        assert parse_vertex(g.ok("genmove b"), 19) < 362
        assert g.ok("boardsize 9") == ""
        assert parse_vertex(g.ok("genmove b"), 9) < 82
        assert g.engine.evaluator.codec.board_size == 9
        assert g.fail("boardsize 13") == ("unacceptable size: no network for board size 13 "
                                          "(no bundled go13 net; start with --net PATH)")
    finally:
        g.close()


def test_missing_net_is_an_error_not_a_crash(nets, tmp_path):
    g = Gtp(finder=lambda n: None)
    try:
        assert g.fail("genmove b").startswith("no network for board size 19")
        assert g.ok("play b D4") == "" and g.ok("name") == "Tabula"
    finally:
        g.close()
    g = Gtp(tmp_path / "missing.onnx")
    try:
        assert g.fail("genmove b").startswith("network not loaded: network file not found")
        assert g.ok("name") == "Tabula"
    finally:
        g.close()


# -- moves -------------------------------------------------------------------------------------------


def test_play_undo_and_bad_moves(gtp):
    gtp.ok("boardsize 9")
    gtp.ok("play b E5")
    assert gtp.fail("play w E5") == "illegal move: point occupied"
    assert gtp.fail("play x E5") == "invalid color 'x'"
    assert gtp.fail("play b Z1").startswith("invalid vertex")
    assert gtp.fail("play b I5").startswith("invalid vertex")
    assert gtp.fail("play b E10").startswith("invalid vertex")
    assert gtp.fail("play b").startswith("usage")
    gtp.ok("play W pass")
    gtp.ok("undo")
    gtp.ok("undo")
    assert gtp.fail("undo") == "cannot undo"
    for m in ("w A2", "w B1"):
        gtp.ok(f"play {m}")
    assert gtp.fail("play b A1") == "illegal move: suicide"


def test_superko_is_refused(gtp):
    for m in ("b D5", "w F4", "b E4", "w F6", "b E6", "w G5", "b A1", "w E5", "b F5"):
        gtp.ok(f"play {m}")
    assert gtp.fail("play w E5") == "illegal move: superko"


def test_out_of_turn_play_and_genmove(gtp):
    gtp.ok("play w E5")
    gtp.ok("play w D5")  # white twice
    mv = gtp.ok("genmove w")  # and a third time
    assert gtp.proto.state.turn == 0 and mv.lower() != "resign"
    assert sum(1 for v in gtp.proto.state.board_list() if v == 2) == 3 - (mv == "pass")


def test_genmove_plays_a_legal_move_and_records_it(gtp):
    mv = gtp.ok("genmove b")
    p = parse_vertex(mv, 9)
    assert gtp.proto.state.ply == 1 and gtp.proto.state.move_history() == [(0, p)]
    assert gtp.fail("genmove x").startswith("invalid color")


# -- handicap ---------------------------------------------------------------------------------------


def test_fixed_and_free_handicap(nets):
    g = Gtp(finder={19: str(nets["go19"])}.get)
    try:
        assert g.ok("fixed_handicap 9").split() == [vertex(p, 19) for p in handicap_points(19, 9)]
        assert g.proto.state.turn == 1
        assert g.fail("fixed_handicap 2") == "board not empty"
        g.ok("clear_board")
        assert g.fail("fixed_handicap 10").startswith("invalid number of stones")
        pts = g.ok("place_free_handicap 12").split()
        assert len(set(pts)) == 12 and g.proto.state.turn == 1
        g.ok("clear_board")
        assert g.fail("set_free_handicap D4 D4").startswith("bad vertex list")
        assert g.fail("set_free_handicap D4 Z99").startswith("invalid vertex")
        g.ok("set_free_handicap D4 Q16 K10")
        assert sum(g.proto.state.board_list()) == 3 and "HA[3]" in g.ok("printsgf")
    finally:
        g.close()


# -- scoring, dead stones, cleanup, pass rules --------------------------------------------------------


def endgame_sgf(path: Path, dead_black: bool = True) -> Path:
    """9×9, Black to move: Black owns A–E (eyes B2, B8), White F–J (eyes H2, H8).

    A dead White stone sits at C5 (its one liberty C4 is Black's to fill), and with
    ``dead_black`` a dead Black stone at H5 (liberty H4). Area scores, komi 7.5:
    dead stones removed B+1.5 either way; Tromp–Taylor as it stands B+1.5 with
    ``dead_black``, W+1.5 without.
    """
    n = 9
    black, white = [], []
    holes = {"B2", "B8", "C4", "H2", "H8"} | ({"H4"} if dead_black else set())
    for row in range(1, 10):
        for col in "ABCDEFGHJ":
            v = f"{col}{row}"
            if v in holes:
                continue
            if v == "C5":
                white.append(v)
            elif v == "H5" and dead_black:
                black.append(v)
            elif col in "ABCDE":
                black.append(v)
            else:
                white.append(v)
    ab = "".join(f"[{sgf_coord(parse_vertex(v, n), n)}]" for v in black)
    aw = "".join(f"[{sgf_coord(parse_vertex(v, n), n)}]" for v in white)
    path.write_text(f"(;GM[1]FF[4]SZ[9]KM[7.5]AB{ab}AW{aw}PL[B])")
    return path


def test_final_score_and_status_list(gtp, tmp_path):
    gtp.ok(f"loadsgf {endgame_sgf(tmp_path / 'end.sgf', dead_black=False)}")
    assert gtp.proto.state.score() == -1.5  # Tromp–Taylor counts the dead stone as White's
    assert gtp.ok("final_score") == "B+1.5"
    assert gtp.ok("final_status_list dead") == "C5"
    alive = gtp.ok("final_status_list alive").splitlines()
    assert len(alive) == 2 and sum(len(line.split()) for line in alive) == 81 - 5 - 1
    assert gtp.ok("final_status_list seki") == ""
    assert gtp.fail("final_status_list maybe").startswith("usage")
    gtp.ok(f"loadsgf {endgame_sgf(tmp_path / 'end2.sgf')}")
    assert sorted(gtp.ok("final_status_list dead").splitlines()) == ["C5", "H5"]
    assert gtp.ok("final_score") == "B+1.5"


def test_no_pass_while_behind(nets, tmp_path):
    g = Gtp(nets["passer9"])  # a net that wants to pass everywhere
    try:
        assert g.ok("genmove w") == "pass"  # empty board: White leads by komi, may pass
        g.ok("clear_board")
        assert g.ok("genmove b") != "pass"  # Black trails by komi: must play on
        g.ok(f"loadsgf {endgame_sgf(tmp_path / 'end.sgf', dead_black=False)}")
        assert g.ok("genmove b") != "pass"  # behind by Tromp–Taylor (the dead stone still counts)
        g.ok(f"loadsgf {endgame_sgf(tmp_path / 'end2.sgf')}")
        assert g.ok("genmove b") == "pass"  # ahead by Tromp–Taylor: passing is fine
    finally:
        g.close()


def test_no_pass_when_dead_stones_turn_the_win_into_a_loss(nets, tmp_path, monkeypatch):
    """Ahead by Tromp–Taylor only thanks to stones the estimate calls dead: play on, even after
    the opponent's pass, and never into an own eye; a pass net cannot end such a game."""
    import tabula.engine.go.move_choice as move_choice

    g = Gtp(nets["passer9"])
    try:
        g.ok(f"loadsgf {endgame_sgf(tmp_path / 'end.sgf')}")
        assert g.proto.state.score() > 0  # Black ahead as the board stands
        assert g.ok("genmove b") == "pass"  # and, dead stones removed, still ahead: pass is fine
        monkeypatch.setattr(move_choice, "score_without", lambda state, dead: -4.5)  # the estimate: Black loses
        for opener in ("undo", "play w pass"):
            g.ok(opener)
            mv = g.ok("genmove b")
            assert mv not in ("pass", "resign", "B2", "B8")
            g.ok("undo")
    finally:
        g.close()


def test_no_pass_when_the_net_gives_the_game_to_the_opponent(nets, tmp_path):
    """Ahead on the board and by the playout estimate, but the net rates the position after our
    pass as won for the opponent (here: every position, for its side to move): play on."""
    g = Gtp(nets["sure_passer9"])
    try:
        g.ok(f"loadsgf {endgame_sgf(tmp_path / 'end.sgf')}")
        assert g.ok("genmove b") not in ("pass", "resign", "B2", "B8")
        g.ok("undo")
        g.ok("play w pass")
        assert g.ok("genmove b") not in ("pass", "resign", "B2", "B8")
    finally:
        g.close()


@pytest.mark.parametrize("net_scores", [True, False])
def test_a_disputed_double_pass_is_worth_the_nets_value(nets, tmp_path, net_scores):
    """White has passed; Black's pass would end a game Black wins by Tromp-Taylor. A net that rates
    Black's position as lost disputes that end: with NetScoresPasses the pass is worth the net's
    value inside the search (about -1 for Black), without it the exact +1."""
    from tabula.engine.controller import Limits

    g = Gtp(nets["gloomy9"], NetScoresPasses=str(net_scores).lower(), MultiPV=500)
    try:
        g.ok(f"loadsgf {endgame_sgf(tmp_path / 'end.sgf')}")
        g.ok("play w pass")
        assert g.proto.state.score() > 0
        _, report = g.proto._search(Limits(nodes=64))
        q = {ln.move: ln.q for ln in report.lines}[g.proto.state.nn]
        assert (q < -0.9) if net_scores else (q == 1.0)
    finally:
        g.close()


def test_cleanup_never_passes_while_dead_stones_remain(nets, tmp_path):
    g = Gtp(nets["passer9"])
    try:
        g.ok(f"loadsgf {endgame_sgf(tmp_path / 'end.sgf')}")
        mv = g.ok("kgs-genmove_cleanup b")
        assert mv not in ("pass", "resign", "B2", "B8")  # no pass, and never its own eyes
        g.ok("play w pass")
        for _ in range(6):  # Black keeps cleaning up until the dead White stone is gone
            if g.proto.state.board_list()[parse_vertex("C5", 9)] != 2:
                break
            assert g.ok("kgs-genmove_cleanup b") != "pass"
            g.ok("play w pass")
    finally:
        g.close()


def test_pass_to_end_a_won_game(nets, tmp_path):
    g = Gtp(nets["go9"], Visits=0, MoveTime=30)  # a search would take 30 s: the rule answers at once
    try:
        g.ok(f"loadsgf {endgame_sgf(tmp_path / 'end.sgf')}")
        g.ok("play w pass")  # White passes; Black wins by area with or without the dead stones
        g.engine.go = lambda *a, **k: pytest.fail("the pass rule must answer without a search")
        assert g.ok("genmove b") == "pass"
    finally:
        g.close()


def black_loses_net(path: Path) -> Path:
    """A 9×9 net whose value says Black is lost: −4 logit with Black to move, +4 with White."""
    import onnx
    from onnx import numpy_helper

    go_net(path, 9, scale=1e-6)
    model = onnx.load(str(path))
    for init in model.graph.initializer:
        if init.name == "output_value__w":
            w = np.zeros((17 * 81, 1), np.float32)
            w[16 * 81:17 * 81] = -8.0 / 81  # plane 16: Black to move
            init.CopyFrom(numpy_helper.from_array(w, init.name))
        elif init.name == "output_value__b":
            init.CopyFrom(numpy_helper.from_array(np.array([4.0], np.float32), init.name))
    onnx.save(model, str(path))
    return path


def test_resign_threshold(nets):
    g = Gtp(nets["loser9"], ResignMinVisits=10, Visits=30)
    try:
        assert g.engine.options["ResignThreshold"] == 50  # per mille, as in USI
        assert g.ok("genmove b") == "resign"
        assert g.proto.state.ply == 0
        g.engine.set_option("ResignThreshold", "0")
        assert g.ok("genmove b") != "resign"
    finally:
        g.close()


# -- analysis -------------------------------------------------------------------------------------------


def sabaki_parse(line: str, command: str) -> list[dict]:
    """Sabaki: split on 'info', key/value pairs up to 'pv'; kata → floats, else integers ×10000."""
    out = []
    for chunk in [c for c in re.split(r"\s*info\s+", line) if c.strip()]:
        toks = chunk.split()
        d: dict = {}
        i = 0
        while i < len(toks):
            if toks[i] == "pv":
                d["pv"] = toks[i + 1:]
                break
            d[toks[i]] = toks[i + 1]
            i += 2
        floats = command.startswith("kata") or "." in d["winrate"]
        d["winrate"] = float(d["winrate"]) * (100 if floats else 0.01)
        d["visits"] = int(d["visits"])
        out.append(d)
    return out


def lizzie_parse(line: str) -> list[dict]:
    """Lizzie (lz-analyze): line.substring(5).split(' info '), Integer.parseInt on winrate/prior/lcb."""
    moves = []
    for var in line[5:].split(" info "):
        data = var.strip().split(" ")
        d: dict = {}
        i = 0
        while i < len(data):
            key = data[i]
            if key == "pv":
                d["pv"] = data[i + 1:]
                break
            value = data[i + 1]
            i += 2
            if key == "visits":
                d["visits"] = int(value)
            elif key in ("winrate", "prior", "lcb"):
                if not re.fullmatch(r"-?\d+", value):
                    raise ValueError(f"Integer.parseInt({value!r})")
                d[key] = int(value) / 100.0
            elif key == "move":
                d["move"] = value
        moves.append(d)
    return moves


def run_analysis(g: Gtp, cmd: str, reports: int) -> list[str]:
    """Start an analysis, wait for ``reports`` progress lines, end it; the lines after the ``=``."""
    start = g.seen
    head = g(cmd)
    g.wait_for("info move", reports, since=start)
    tail = g("")  # any line (even an empty one) ends the analysis
    text = head + tail
    assert text.endswith("\n\n") and text.count("\n\n") == 1, text
    lines = text[:-2].split("\n")
    assert re.fullmatch(r"=\d*", lines[0]), lines[0]
    return lines[1:]


def test_lz_analyze_parses_like_sabaki_and_lizzie(gtp):
    gtp.ok("play b E5")
    infos = run_analysis(gtp, "5 lz-analyze w 20", 3)
    assert infos and all(ln.startswith("info move ") for ln in infos)
    legal = {vertex(m, 9) for m in gtp.proto.state.legal_moves()}
    for ln in infos:
        liz = lizzie_parse(ln)
        sab = sabaki_parse(ln, "lz-analyze")
        assert [d["move"] for d in liz] == [d["move"] for d in sab]
        assert all(d["move"] in legal and 0 <= d["winrate"] <= 100 and d["pv"][0] == d["move"] for d in liz)
        assert all(0 <= d["lcb"] <= d["winrate"] for d in liz)
        orders = [int(m) for m in re.findall(r" order (\d+) ", ln)]
        assert orders == list(range(len(orders)))
        # best first: most visits first, except that a proven loss (winrate 0) ranks last
        # whatever its visits (the engine will not play it), as the order field says
        lost = [d["winrate"] == 0 for d in liz]
        assert lost == sorted(lost)
        visits = [d["visits"] for d, gone in zip(sab, lost) if not gone]
        assert visits == sorted(visits, reverse=True) and min(d["visits"] for d in sab) > 0
    assert gtp.ok("name") == "Tabula"  # the engine is back in command mode


def test_kata_analyze_float_dialect(gtp):
    infos = run_analysis(gtp, "kata-analyze b 10 maxmoves 4 ownership true", 3)
    assert infos
    for ln in infos:
        parsed = sabaki_parse(ln, "kata-analyze")
        assert 1 <= len(parsed) <= 4
        for d in parsed:
            assert 0.0 <= float(d["prior"]) <= 1.0 and "." in d["lcb"] and "scoreLead" not in d
            assert 0 <= d["winrate"] <= 100


def test_analysis_restrictions_and_bad_arguments(gtp):
    infos = run_analysis(gtp, "lz-analyze b 10 allow b E5,D4 1", 3)
    moves = {d["move"] for ln in infos for d in lizzie_parse(ln)}
    assert moves and moves <= {"E5", "D4"}
    assert gtp.fail("lz-analyze b 10 bogus 3").startswith("invalid analysis argument")


def test_genmove_analyze_framing(gtp):
    gtp.engine.set_option("Visits", "0")
    gtp.engine.set_option("MoveTime", "1.5")
    out = gtp("9 lz-genmove_analyze b 10")
    lines = out[:-2].split("\n")
    assert out.endswith("\n\n") and lines[0] == "=9" and lines[-1].startswith("play ")
    assert all(ln.startswith("info move ") for ln in lines[1:-1]) and len(lines) >= 3
    mv = lines[-1].split()[1]
    assert gtp.proto.state.move_history() == [(0, parse_vertex(mv, 9))]


# -- time ------------------------------------------------------------------------------------------------


def test_time_settings_commands(gtp):
    gtp.ok("time_settings 0 1 0")
    assert gtp.proto.clock.kind == "none"
    gtp.ok("time_settings 300 30 5")
    assert gtp.proto.clock.kind == "canadian"
    gtp.ok("time_settings 60 0 0")
    assert gtp.proto.clock.kind == "absolute"
    gtp.ok("kgs-time_settings byoyomi 10 5 3")
    assert gtp.proto.clock.kind == "byoyomi" and gtp.proto.clock.periods == 3
    gtp.ok("kgs-time_settings canadian 10 5 3")
    assert gtp.fail("kgs-time_settings fischer 10 5").startswith("invalid kgs-time_settings")
    assert gtp.fail("time_settings 1 2").startswith("usage")
    assert gtp.fail("time_left b x 0").startswith("time must be a number")
    gtp.ok("kgs-time_settings none")
    gtp.engine.set_option("Visits", "0")  # nothing bounds the move: a fixed time instead of forever
    assert gtp.proto._move_limits(0).movetime_ms == 5000


def test_genmove_limits_follow_the_clock(gtp):
    """The clock's limits for each move, and the engine's budget from them, stay inside the period."""
    gtp.engine.set_option("Visits", "0")  # no playout cap: only the clock bounds the search
    gtp.ok("time_settings 0 1.5 1")  # Canadian: 1.5 s for every move
    first = gtp.proto._move_limits(0)
    assert (first.time_ms, first.moves_to_go) == (1500.0, 1)
    assert gtp.engine._budget(first, gtp.proto.state).hard_ms < 1500
    gtp.ok("time_left w 1 1")  # White: 1 s left for 1 stone
    second = gtp.proto._move_limits(1)
    assert (second.time_ms, second.moves_to_go) == (1000.0, 1)
    assert gtp.engine._budget(second, gtp.proto.state).hard_ms < 1000


@pytest.mark.slow
def test_genmove_respects_the_clock(gtp):
    """End to end: the moves come within the clock (wall time; slow, as every latency check)."""
    gtp.engine.set_option("Visits", "0")  # no playout cap: only the clock stops the search
    gtp.ok("time_settings 0 1.5 1")  # Canadian: 1.5 s for every move
    t0 = time.monotonic()
    gtp.ok("genmove b")
    assert time.monotonic() - t0 < 1.5
    gtp.ok("time_left w 1 1")
    t0 = time.monotonic()
    gtp.ok("genmove w")
    assert time.monotonic() - t0 < 1.0


# -- SGF ---------------------------------------------------------------------------------------------------


def test_printsgf_loadsgf_round_trip(gtp, tmp_path):
    for m in ("b C3", "w G7", "b pass", "w E5"):
        gtp.ok(f"play {m}")
    gtp.ok("komi 6.5")
    board = gtp.ok("showboard")
    path = tmp_path / "game.sgf"
    gtp.ok(f"printsgf {path}")
    gtp.ok("clear_board")
    gtp.ok(f"loadsgf {path}")
    assert gtp.ok("showboard") == board and gtp.proto.komi == 6.5
    gtp.ok(f"loadsgf {path} 3")  # the position before move 3
    assert gtp.proto.state.ply == 2 and gtp.proto.state.turn == 0
    assert gtp.fail(f"loadsgf {tmp_path / 'nope.sgf'}").startswith("cannot load file")
    (tmp_path / "bad.sgf").write_text("(;SZ[9];B[zz])")
    assert gtp.fail(f"loadsgf {tmp_path / 'bad.sgf'}").startswith("cannot load file")
    (tmp_path / "big.sgf").write_text("(;SZ[19];B[dd])")
    assert gtp.fail(f"loadsgf {tmp_path / 'big.sgf'}").startswith("unacceptable size")


# -- GoGui -------------------------------------------------------------------------------------------------


def test_gogui_analyze_commands_are_known_and_work(gtp):
    entries = gtp.ok("gogui-analyze_commands").splitlines()
    for entry in entries:
        kind, label, command = entry.split("/", 2)
        assert kind in ("gfx", "dboard", "plist", "string") and label
        assert gtp.ok(f"known_command {command.split()[0]}") == "true"
    gfx = gtp.ok("tabula-best_moves")
    assert gfx.startswith("VAR b ") and "LABEL " in gfx
    rows = gtp.ok("tabula-ownership").splitlines()
    assert len(rows) == 9 and all(len(r.split()) == 9 for r in rows)


# -- processes -------------------------------------------------------------------------------------------


@pytest.mark.slow  # end to end: starts a `tabula gtp` process
def test_tabula_gtp_process(nets):
    cmd = [sys.executable, "-m", "tabula.protocols.cli", "gtp", "--net", str(nets["go9"]), "--visits", "16",
           "--threads", "1"]
    proc = subprocess.run(cmd, input="1 name\n2 boardsize 9\n3 genmove b\n4 boardsize 19\n5 quit\n",
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    replies = proc.stdout.split("\n\n")
    assert replies[0] == "=1 Tabula" and replies[1] == "=2" and re.fullmatch(r"=3 ([A-HJ][1-9]|pass)", replies[2])
    assert replies[3].startswith("?4 unacceptable size") and replies[4] == "=5"


@pytest.mark.slow  # end to end: starts a `tabula gtp` process
def test_tabula_gtp_pass_scoring_flag(nets):
    cmd = [sys.executable, "-m", "tabula.protocols.cli", "gtp", "--net", str(nets["go9"]), "--visits", "8",
           "--threads", "1", "--tromp-taylor-passes"]
    proc = subprocess.run(cmd, input="1 genmove b\n2 quit\n", capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"=1 ([A-HJ][1-9]|pass)", proc.stdout.split("\n\n")[0])


@pytest.mark.slow
@pytest.mark.skipif(not Path(GNUGO).exists(), reason="gnugo not installed (apt-get install gnugo)")
def test_referee_tabula_vs_gnugo(nets, tmp_path):
    from tabula.bench.gtp_referee import main as referee

    tabula = f"{sys.executable} -m protocols.cli gtp --net {nets['go9']} --visits 16 --threads 1"
    summary = referee(["-a", tabula, "-b", f"{GNUGO} --mode gtp --level 0", "--size", "9", "--games", "1",
                       "--sgf-dir", str(tmp_path), "--time", "60", "5", "10"])
    assert summary["games"] == 1
    game = summary["results"][0]
    assert re.fullmatch(r"[BW]\+(\d+(\.\d+)?|R|T|F)|0", game["result"]), game
    assert not game["result"].endswith(("+T", "+F")), game  # no forfeit, no loss on time
    sgf = (tmp_path / "game001.sgf").read_text()
    nodes = parse_sgf_main_line(sgf)
    s = GoState(9, 7.0)
    for node in nodes[1:]:  # every recorded move is legal
        (colour, value), = node.items()
        move = sgf_point(value[0], 9)
        assert s.is_legal(move) and s.turn == "BW".index(colour)
        s.push(move)


def test_tabula_gtp_option_flag_sets_engine_options(monkeypatch):
    from click.testing import CliRunner

    import tabula.protocols.gtp
    from tabula.protocols.cli import main

    seen = {}

    class Capture:
        def __init__(self, engine, **kw):
            seen.update(cpuct=engine.options["CPuct"], temp=engine.options["PolicyTemperature"])

        def run(self, lines):
            pass

    monkeypatch.setattr(tabula.protocols.gtp, "GtpProtocol", Capture)
    ok = CliRunner().invoke(main, ["gtp", "-o", "CPuct=1.2", "--option", "PolicyTemperature = 1.0"])
    assert ok.exit_code == 0, ok.output
    assert seen == {"cpuct": 1.2, "temp": 1.0}
    for bad, why in (("CPuct=abc", "takes a number"), ("Nope=1", "unknown option"), ("CPuct", "NAME=VALUE")):
        res = CliRunner().invoke(main, ["gtp", "-o", bad])
        assert res.exit_code == 2 and why in res.output, res.output


def _gtp_cli_options(monkeypatch, *args: str) -> dict:
    """The engine's options once ``tabula-gtp ARGS`` has built its GtpProtocol (no net loaded)."""
    from clirun import options_after_cli
    from tabula.protocols.cli import gtp_main

    return options_after_cli(monkeypatch, GtpProtocol, gtp_main, *args)


def test_gtp_defaults_are_declared_and_an_explicit_generic_default_survives(monkeypatch):
    got = _gtp_cli_options(monkeypatch)
    assert (got["Move Overhead"], got["PolicyTemperature"], got["NetScoresPasses"]) == (300, 1.0, True)
    got = _gtp_cli_options(monkeypatch, "-o", "Move Overhead=100", "-o", "PolicyTemperature=1.359",
                           "--tromp-taylor-passes")
    assert (got["Move Overhead"], got["PolicyTemperature"], got["NetScoresPasses"]) == (100, 1.359, False)


def test_resign_threshold_is_per_mille_as_in_usi_and_the_flag_takes_a_winrate(monkeypatch):
    from click.testing import CliRunner

    from tabula.protocols.cli import main

    assert _gtp_cli_options(monkeypatch)["ResignThreshold"] == 50
    assert _gtp_cli_options(monkeypatch, "--resign-threshold", "0.07")["ResignThreshold"] == 70
    assert _gtp_cli_options(monkeypatch, "-o", "ResignThreshold=120")["ResignThreshold"] == 120
    res = CliRunner().invoke(main, ["gtp", "-o", "ResignThreshold=0.05"])
    assert res.exit_code == 2 and "takes an integer" in res.output, res.output


# -- visits and playouts ---------------------------------------------------------------------------


@pytest.mark.parametrize("cap", ["Visits", "Playouts"])
def test_visits_count_the_kept_tree_and_playouts_only_the_new_search(nets, cap):
    # Leela Zero's --visits / --playouts and KataGo's maxVisits / maxPlayouts: a move after tree
    # reuse reaches the visit cap with fewer new playouts, and makes the playout cap in full
    g = Gtp(nets["go9"], Visits=0 if cap == "Playouts" else 40, Playouts=40 if cap == "Playouts" else 0,
            SmartPruning="false", ResignThreshold=0)
    try:
        seen = []
        for colour in "bwbw":
            g.ok(f"genmove {colour}")
            st = g.proto._last_report.stats
            seen.append((st.nodes, st.playouts))
        assert seen[0][0] == seen[0][1] + 1  # a fresh tree: the root's own evaluation is a visit
        if cap == "Visits":
            assert all(n == 40 for n, _ in seen) and any(p < 40 for _, p in seen[1:]), seen
        else:
            assert all(p == 40 for _, p in seen) and any(n > 40 for n, _ in seen[1:]), seen
    finally:
        g.close()
