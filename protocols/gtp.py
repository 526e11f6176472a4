"""GTP v2 front end: Sabaki, GoGui, Lizzie, KGS clients and referees talk to Tabula through this.

This module parses GTP, calls the engine and formats the answers. How Tabula plays and
records go lives under :mod:`engine.go`, one job per module:

* ``genmove``, ``kgs-genmove_cleanup``: :func:`engine.go.move_choice.choose_move` runs the
  pass and resign rules around the search (no pass while behind, pass to end a won game,
  the pass veto, cleanup without pass while dead stones remain). **Resign** below
  ``ResignThreshold`` per mille, as in USI (default 50, a 5 % winrate; 0 turns it off),
  after ``ResignMinVisits`` root visits, never in cleanup; ``--resign-threshold`` takes the
  winrate as a fraction (0.05). ``NetScoresPasses`` (on by default): inside the search a
  double pass the net disputes is worth the net's rating, not Tromp–Taylor's exact ±1.
* ``final_score``, ``final_status_list``, ``tabula-ownership``: ownership from the net's own
  head (KataGo) or random playouts (:mod:`engine.go.playouts`); the score is Tromp–Taylor
  area with the dead stones removed, minus komi. **Seki is not detected**
  (``final_status_list seki`` is always empty).
* ``loadsgf``, ``printsgf``: :mod:`engine.go.sgf`, the project's one SGF reader and writer.
* ``time_settings`` (absolute, Canadian byo-yomi), ``kgs-time_settings``
  (none/absolute/canadian/byoyomi), ``time_left``: :class:`engine.go.clock.GoClock`, which
  turns them into :class:`~engine.controller.Limits`; without ``time_left`` the clock is run
  down from the measured thinking time. Without a clock each move searches until the root
  has ``Visits`` visits (those kept from the last move's tree count, as in Leela Zero and
  KataGo), or until ``Playouts`` new playouts, or ``MoveTime`` seconds.
* ``boardsize``, ``loadsgf``: :class:`engine.go.network.GoNetwork` finds the net for the size.
* ``place_free_handicap``: :func:`engine.go.handicap.free_handicap`.

Framing (GTP v2): a command is ``[id] name args``; the answer is ``=[id] text`` or
``?[id] reason``, ended by an empty line, the id echoed. Empty lines and ``#``
comments are ignored. Bad input (unknown command, bad vertex, illegal move, bad
size, missing net) is answered with ``? reason`` and the engine keeps running.
One ordered table, :attr:`GtpProtocol.commands`, dispatches every command and
also answers ``list_commands`` / ``known_command``.

Networks and board sizes: the net must be of the board's size. Without ``--net``
the front end asks ``nets.default_net("go9")`` / ``("go19")`` … for the size set by
``boardsize``; with ``--net`` that one net is used, and ``boardsize`` to another
size fails with ``? unacceptable size: no network for board size N …``.

Analysis: ``lz-analyze`` (Leela Zero dialect: winrate/prior/lcb as integers
×10000, every candidate on one line), ``kata-analyze`` (KataGo dialect: floats;
``scoreMean``/``scoreLead`` only from a net with a score head), and their genmove variants.
``lcb`` is ``w − 1.96·sqrt(w(1−w)/visits)`` (a Bernoulli bound: the tree keeps no
variance). The engine reports about once a second, so intervals shorter than
100 centiseconds give one line per second.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from tabula.engine.controller import ENGINE_PARAMS, Engine, Limits, Report
from tabula.engine.games.base import IllegalMoveError, InvalidPositionError
from tabula.engine.games.go import BLACK, WHITE, GoState, colour_of, handicap_points, parse_vertex, vertex
from tabula.engine.go.clock import GoClock
from tabula.engine.go.handicap import free_handicap
from tabula.engine.go.move_choice import choose_move, winrate
from tabula.engine.go.network import GoNetwork, NoNetwork
from tabula.engine.go.playouts import dead_stones, score_without
from tabula.engine.go.sgf import SgfGame, SgfPropertyError, write_sgf
from tabula.engine.options import OptionError, Param, find_param
from tabula.engine.search.mcts import Line
from tabula.engine.search.params import with_default

from .common import RESIGN_THRESHOLD, Writer

log = logging.getLogger(__name__)

ENGINE_NAME = "Tabula"

GTP_PARAMS: tuple[Param, ...] = (
    Param("Visits", "spin", 800, "Root visits per move without a clock (and a cap with one), those kept "
          "from the last move's tree included, as Leela Zero's --visits and KataGo's maxVisits; 0: no cap "
          "(then Playouts, MoveTime or the clock bounds the move, else 5 s).", 0, 1_000_000_000),
    Param("Playouts", "spin", 0, "New playouts per move, the visits kept from the last move's tree not "
          "counted (Leela Zero's --playouts, KataGo's maxPlayouts); 0: no cap. With Visits too, the first "
          "reached ends the move.", 0, 1_000_000_000),
    Param("MoveTime", "float", 0.0, "Seconds per move without a clock (0: use Visits).", 0.0, 86400.0),
    RESIGN_THRESHOLD.with_default(50, "Go: 50 (a 5 % winrate)."),
    Param("ResignMinVisits", "spin", 200, "Root visits needed before Tabula resigns.", 1,
          1_000_000_000),
    with_default("NetScoresPasses", True, "Go: on."),
    # the engine's defaults suit UCI; go's, declared once here, replace them
    with_default("PolicyTemperature", 1.0, "Go: 1.0, as go nets (Leela Zero too) use a plain softmax."),
    find_param(ENGINE_PARAMS, "Move Overhead").with_default(300, "GTP: 300, for GUI and server lag."),
    # measured with the bundled 9x9 net, 400 visits a move: 16 against 64 scored 57.1 % over 120
    # games from 60 random 4-ply openings, +50 +/- 61 Elo, LOS 94 % (nets/go9-default.md)
    with_default("MinibatchSize", 16, "Go: 16, as for chess and shogi: on a CPU as fast as 64 and "
                 "better at a few hundred visits a move; raise it on a GPU."),
    # measured with the bundled 9x9 net, 200 visits a move, against the main before go was compiled
    # (Python search, batch 64), 120 games from 60 random 4-ply openings: two search threads scored
    # 37.1 % (-92 +/- 55 Elo), one 50 % (nets/go9-default.md)
    find_param(ENGINE_PARAMS, "SearchThreads").with_default(1, "Go: 1: at a few hundred visits a move "
                                                             "two threads' batches in flight played "
                                                             "clearly worse; raise it on a GPU."),
)


class GtpError(Exception):
    """A command failed; the message is sent as ``? message``."""


_STREAMING = object()  # handler wrote its own '=' line; the terminator follows later

Handler = Callable[[list[str]], "str | None | object"]


@dataclass
class _Analysis:
    """A running ``lz-analyze``/``kata-analyze``."""

    kata: bool
    interval_s: float
    minmoves: int = 0
    maxmoves: int = 0
    last_print: float = -1e9
    ownership: bool = False   #: kata-analyze ``ownership true``
    root_info: bool = False   #: kata-analyze ``rootInfo true``


# -- parsing -----------------------------------------------------------------------------------

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _parse_colour(text: str) -> int:
    colour = colour_of(text)
    if colour is None:
        raise GtpError(f"invalid color {text!r}")
    return colour


def _parse_int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise GtpError(f"{what} must be an integer, not {text!r}") from None


def _parse_float(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise GtpError(f"{what} must be a number, not {text!r}") from None
    if not math.isfinite(v):
        raise GtpError(f"{what} must be finite")
    return v


# -- formatting --------------------------------------------------------------------------------

def score_text(score: float) -> str:
    """``B+3.5`` / ``W+0.5`` / ``0``, as ``final_score`` writes it."""
    if score == 0:
        return "0"
    return f"B+{score:g}" if score > 0 else f"W+{-score:g}"


def winrate_lcb(q: float, visits: int) -> tuple[float, float]:
    """(winrate, lower confidence bound) for a mean value ``q`` in [−1, 1] after ``visits``."""
    w = winrate(q)
    if visits <= 0:
        return w, 0.0
    return w, max(0.0, w - 1.96 * math.sqrt(w * (1.0 - w) / visits))


# -- the protocol ------------------------------------------------------------------------------


class GtpProtocol:
    """The engine side of GTP v2 for one :class:`Engine` (``Engine("go", extra_params=GTP_PARAMS)``).

    ``net_for_size(n)`` names the net for an n×n board when no ``net`` was given
    (the CLI passes ``nets.default_net("go<n>")``).
    """

    def __init__(self, engine: Engine, write: Writer | None = None, *, size: int | None = None, komi: float = 7.5,
                 net: str | None = None, net_for_size: Callable[[int], str | None] | None = None) -> None:
        for p in GTP_PARAMS:
            engine.options.param(p.name)  # OptionError: build the Engine with extra_params=GTP_PARAMS
        self.engine = engine
        self.write = write or Writer()
        self.network = GoNetwork(engine, net, net_for_size)
        if size is None:  # the net's size with --net, else 19
            size = (self.network.board_size() if net else None) or 19
        self.size = size
        self.komi = komi
        self.clock = GoClock()
        self._epoch = 0
        self._setup: tuple[list[int], list[int], int, int] = ([], [], BLACK, 0)  # black, white, to move, HA
        self.state = GoState(size, komi)
        self.network.use(self.network.net_for_size(size))
        self._analysis: _Analysis | None = None
        self._last_report: Report | None = None
        self._quit = False
        self.commands: dict[str, Handler] = {
            "protocol_version": lambda a: "2",
            "name": lambda a: ENGINE_NAME,
            "version": self.cmd_version,
            "known_command": self.cmd_known_command,
            "list_commands": self.cmd_list_commands,
            "quit": self.cmd_quit,
            "boardsize": self.cmd_boardsize,
            "clear_board": self.cmd_clear_board,
            "komi": self.cmd_komi,
            "play": self.cmd_play,
            "genmove": self.cmd_genmove,
            "undo": self.cmd_undo,
            "fixed_handicap": self.cmd_fixed_handicap,
            "place_free_handicap": self.cmd_place_free_handicap,
            "set_free_handicap": self.cmd_set_free_handicap,
            "final_score": self.cmd_final_score,
            "final_status_list": self.cmd_final_status_list,
            "showboard": self.cmd_showboard,
            "loadsgf": self.cmd_loadsgf,
            "printsgf": self.cmd_printsgf,
            "time_settings": self.cmd_time_settings,
            "time_left": self.cmd_time_left,
            "kgs-time_settings": self.cmd_kgs_time_settings,
            "kgs-genmove_cleanup": self.cmd_kgs_genmove_cleanup,
            "kgs-game_over": lambda a: "",
            "lz-analyze": lambda a: self.cmd_analyze(a, kata=False),
            "lz-genmove_analyze": lambda a: self.cmd_genmove_analyze(a, kata=False),
            "kata-analyze": lambda a: self.cmd_analyze(a, kata=True),
            "kata-genmove_analyze": lambda a: self.cmd_genmove_analyze(a, kata=True),
            "gogui-analyze_commands": self.cmd_gogui_analyze_commands,
            "tabula-best_moves": self.cmd_best_moves,
            "tabula-ownership": self.cmd_ownership,
            "tabula-network": self.cmd_network,
        }
        self._current_id = ""

    # -- the loop --------------------------------------------------------------------------------
    def run(self, lines: Iterable[str]) -> None:
        """Handle lines (read on their own thread) until ``quit`` or end of input."""
        q: queue.Queue[str | None] = queue.Queue()

        def reader() -> None:
            try:
                for line in lines:
                    q.put(line)
            finally:
                q.put(None)

        threading.Thread(target=reader, name="tabula-gtp-input", daemon=True).start()
        while True:
            line = q.get()
            if line is None or not self.handle(line):
                break
        self.shutdown()

    def handle(self, line: str) -> bool:
        """Handle one input line; returns False after ``quit``. Never raises."""
        if self._analysis is not None:  # any input, even an empty line, ends the analysis
            self._end_analysis()
        text = "".join(ch for ch in line.split("#", 1)[0] if ch >= " " or ch in "\t").replace("\t", " ").strip()
        if not text:
            return True
        tokens = text.split()
        cid = ""
        if tokens[0].isdigit():
            cid = tokens.pop(0)
        if not tokens:
            self._reply(False, cid, "missing command")
            return True
        name, args = tokens[0], tokens[1:]
        handler = self.commands.get(name)
        if handler is None:
            self._reply(False, cid, "unknown command")
            return True
        self._current_id = cid
        try:
            result = handler(args)
        except GtpError as exc:
            self._reply(False, cid, str(exc))
            return True
        except (IllegalMoveError, InvalidPositionError, OptionError, ValueError) as exc:
            self._reply(False, cid, _first_line(exc))
            return True
        except Exception as exc:  # never let a command take the engine down
            log.exception("GTP command %r failed", text)
            self._reply(False, cid, f"internal error: {_first_line(exc)}")
            return True
        if result is _STREAMING:
            return True
        self._reply(True, cid, "" if result is None else str(result))
        return not self._quit

    def _reply(self, ok: bool, cid: str, text: str) -> None:
        head = ("=" if ok else "?") + cid
        lines = [ln for ln in text.splitlines() if ln.strip()]  # an empty line would end the reply
        if text.startswith("\n") or not lines:  # a board or table starts on the line after '='
            self.write(head, *lines, "")
        else:
            self.write(f"{head} {lines[0]}", *lines[1:], "")

    def shutdown(self) -> None:
        """Stop any search and release the network."""
        if self._analysis is not None:
            self._end_analysis()
        self.engine.stop()
        self.engine.wait()
        if self.engine.evaluator is not None:
            self.engine.evaluator.close()

    # -- administrative ----------------------------------------------------------------------------
    def cmd_version(self, args: list[str]) -> str:
        from tabula.engine import __version__

        return __version__

    def cmd_known_command(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpError("usage: known_command <name>")
        return "true" if args[0] in self.commands else "false"

    def cmd_list_commands(self, args: list[str]) -> str:
        return "\n".join(self.commands)

    def cmd_quit(self, args: list[str]) -> str:
        self._quit = True
        return ""

    # -- board setup ----------------------------------------------------------------------------------
    def _check_size(self, n: int) -> str | None:
        """The default net for an n×n board (None with --net); ``? unacceptable size: …`` when there is none."""
        try:
            return self.network.check_size(n)
        except NoNetwork as exc:
            raise GtpError(str(exc)) from None

    def _new_game(self, size: int, black: Sequence[int] = (), white: Sequence[int] = (),
                  to_move: int = BLACK, handicap: int = 0) -> None:
        self.state = GoState(size, self.komi, black=black, white=white, to_move=to_move)
        self.size = size
        self._setup = (list(black), list(white), to_move, handicap)
        self._epoch += 1

    def cmd_boardsize(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpError("usage: boardsize <size>")
        n = _parse_int(args[0], "board size")
        self.network.use(self._check_size(n))
        self._new_game(n)
        return ""

    def cmd_clear_board(self, args: list[str]) -> str:
        self._new_game(self.size)
        return ""

    def cmd_komi(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpError("usage: komi <float>")
        self.komi = _parse_float(args[0], "komi")
        self.state.komi = self.komi
        self._epoch += 1
        return ""

    def _board_empty(self) -> bool:
        return self.state.ply == 0 and not any(self.state.board_list())

    def _set_handicap(self, pts: list[int]) -> str:
        if not self._board_empty():
            raise GtpError("board not empty")
        self._new_game(self.size, black=pts, to_move=WHITE, handicap=len(pts))
        return " ".join(vertex(p, self.size) for p in pts)

    def cmd_fixed_handicap(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpError("usage: fixed_handicap <number of stones>")
        count = _parse_int(args[0], "number of stones")
        try:
            pts = handicap_points(self.size, count)
        except ValueError as exc:
            raise GtpError(f"invalid number of stones: {exc}") from None
        return self._set_handicap(pts)

    def cmd_place_free_handicap(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpError("usage: place_free_handicap <number of stones>")
        count = _parse_int(args[0], "number of stones")
        if not 2 <= count <= self.size * self.size - 1:
            raise GtpError(f"invalid number of stones: 2..{self.size * self.size - 1}")
        return self._set_handicap(free_handicap(self.size, count))

    def cmd_set_free_handicap(self, args: list[str]) -> str:
        if not self._board_empty():
            raise GtpError("board not empty")
        try:
            pts = [parse_vertex(a, self.size) for a in args]
        except IllegalMoveError as exc:
            raise GtpError(f"invalid vertex: {_first_line(exc)}") from None
        if self.size * self.size in pts:
            raise GtpError("bad vertex list: pass is not a handicap stone")
        if len(set(pts)) != len(pts) or not 2 <= len(pts) <= self.size * self.size - 1:
            raise GtpError("bad vertex list: 2 or more distinct points")
        self._set_handicap(pts)
        return ""

    # -- moves -------------------------------------------------------------------------------------
    def _vertex(self, text: str) -> int:
        try:
            return parse_vertex(text, self.size)
        except IllegalMoveError as exc:
            raise GtpError(f"invalid vertex: {_first_line(exc)}") from None

    def cmd_play(self, args: list[str]) -> str:
        if len(args) != 2:
            raise GtpError("usage: play <color> <vertex>")
        colour = _parse_colour(args[0])
        move = self._vertex(args[1])
        irregular = colour != self.state.turn
        try:
            self.state.play_color(colour, move)
        except IllegalMoveError as exc:
            msg = _first_line(exc)
            raise GtpError("illegal move" + (msg[msg.index(":"):] if ":" in msg else "")) from None
        if irregular:
            self._epoch += 1
        return ""

    def cmd_undo(self, args: list[str]) -> str:
        if self.state.ply == 0:
            raise GtpError("cannot undo")
        self.state.pop()
        self._epoch += 1  # a move given back out of turn must not meet the old tree
        return ""

    # -- searching ------------------------------------------------------------------------------------
    def _require_net(self) -> None:
        """Load the net for this board; GtpError with the reason if there is none or it is the wrong size."""
        try:
            self.network.prepare(self.size)
        except NoNetwork as exc:
            raise GtpError(str(exc)) from None

    def _position(self, colour: int | None = None) -> GoState:
        """Hand the position to the engine (``colour`` to move: out of turn for analysis)."""
        state = self.state
        tag: object = None
        if colour is not None and colour != state.turn:
            state = state.copy()
            state.set_turn(colour)
            tag = colour
        codes = [m for _, m in state.move_history()]
        self.engine.set_position(state, (self._epoch, self.size, self.komi, tag), codes)
        return state

    def _set_multipv(self, k: int) -> None:
        if self.engine.options["MultiPV"] != k:
            self.engine.set_option("MultiPV", str(k))

    def _search(self, limits: Limits, on_info: Callable[[Report], None] | None = None,
                colour: int | None = None) -> tuple[int | None, Report | None]:
        """Run one search to its end; returns (best move, final report)."""
        self._require_net()
        self._position(colour)
        done = threading.Event()
        result: dict[str, int | None] = {}
        self._last_report = None

        def info(rep: Report) -> None:
            self._last_report = rep
            if on_info is not None:
                try:
                    on_info(rep)
                except Exception:  # reporting must never kill the search
                    log.exception("analysis output failed")

        def finished(best: int | None, ponder: int | None) -> None:
            result["best"] = best
            done.set()

        self.engine.last_error = None
        self.engine.go(limits, info, finished)
        done.wait()
        self.engine.wait()
        if self.engine.last_error is not None:
            raise GtpError(f"search failed: {_first_line(self.engine.last_error)}")
        return result.get("best"), self._last_report

    def _time_options(self) -> dict[str, float]:
        o = self.engine.options
        return {"visits": int(o["Visits"]), "playouts": int(o["Playouts"]), "movetime_s": float(o["MoveTime"]),
                "overhead_ms": float(o["Move Overhead"])}

    def _move_limits(self, colour: int, spent_s: float = 0.0) -> Limits:
        """Limits for ``colour``'s move, less ``spent_s`` already used on it."""
        return self.clock.move_limits(colour, spent_s=spent_s, **self._time_options())

    def _aside_seconds(self, colour: int) -> float:
        """Time the net-free playouts may take on this move."""
        return self.clock.aside_seconds(colour, **self._time_options())

    def _genmove(self, args: list[str], *, cleanup: bool = False,
                 on_info: Callable[[Report], None] | None = None, info_interval: float | None = None) -> str:
        if len(args) < 1:
            raise GtpError("usage: genmove <color>")
        colour = _parse_colour(args[0])
        self._require_net()
        t0 = time.monotonic()
        if colour != self.state.turn:
            self.state.set_turn(colour)
            self._epoch += 1

        def search(moves: list[int]) -> tuple[int | None, Report | None]:
            limits = self._move_limits(colour, time.monotonic() - t0)
            limits.searchmoves = moves
            if info_interval is not None:  # genmove_analyze reports at its own interval
                limits.info_interval = max(0.05, info_interval)
            self._set_multipv(1 if on_info is None else 500)
            return self._search(limits, on_info)

        options = self.engine.options
        choice = choose_move(self.state, self.network, search, cleanup=cleanup,
                             aside_s=self._aside_seconds(colour),
                             resign_permille=int(options["ResignThreshold"]),
                             resign_min_visits=int(options["ResignMinVisits"]))
        if choice.move is not None:
            self.state.play_color(colour, choice.move)
        self.clock.spend(colour, time.monotonic() - t0)
        return "resign" if choice.move is None else vertex(choice.move, self.size)

    def cmd_genmove(self, args: list[str]) -> str:
        return self._genmove(args)

    def cmd_kgs_genmove_cleanup(self, args: list[str]) -> str:
        return self._genmove(args, cleanup=True)

    # -- analysis ----------------------------------------------------------------------------------------
    def format_analysis(self, report: Report, kata: bool, minmoves: int = 0, maxmoves: int = 0, *,
                        ownership: bool = False, root_info: bool = False) -> str:
        """All candidates of ``report`` on one line, ``info move …`` each (LZ or KataGo dialect).

        KataGo dialect: ``scoreMean``/``scoreLead`` when the net has a score head, then
        ``rootInfo`` and ``ownership`` (N² values, A19 first, +1 = side to move) when asked
        and available. Everything is from the side to move's view, as KataGo's default.
        """
        n = self.size
        lines: list[Line] = [ln for ln in report.lines if ln.visits > 0]
        if len(lines) < minmoves:
            lines += [ln for ln in report.lines if ln.visits == 0][:minmoves - len(lines)]
        if maxmoves > 0:
            lines = lines[:maxmoves]
        parts = []
        for order, ln in enumerate(lines):
            w, lcb = winrate_lcb(ln.q, ln.visits)
            pv = " ".join(vertex(m, n) for m in (ln.pv or [ln.move]))
            if kata:
                sc = f"scoreMean {ln.score:.4f} scoreLead {ln.score:.4f} " if ln.score is not None else ""
                parts.append(f"info move {vertex(ln.move, n)} visits {ln.visits} winrate {w:.6f} {sc}"
                             f"prior {ln.prior:.6f} lcb {lcb:.6f} order {order} pv {pv}")
            else:
                parts.append(f"info move {vertex(ln.move, n)} visits {ln.visits} winrate {round(w * 10000)} "
                             f"prior {round(ln.prior * 10000)} lcb {round(lcb * 10000)} order {order} pv {pv}")
        if kata and root_info and parts:
            st = report.stats
            q = sum(ln.q * ln.visits for ln in report.lines) / max(1, sum(ln.visits for ln in report.lines))
            sc = f" scoreMean {report.score:.4f} scoreLead {report.score:.4f}" if report.score is not None else ""
            parts.append(f"rootInfo visits {st.nodes} winrate {(q + 1) / 2:.6f}{sc}")
        if kata and ownership and parts and report.ownership is not None:
            own = report.ownership
            parts.append("ownership " + " ".join(f"{own[r * n + c]:.4f}" for r in range(n - 1, -1, -1)
                                                 for c in range(n)))
        return " ".join(parts)

    def _parse_analysis_args(self, args: list[str], kata: bool) -> tuple[int | None, _Analysis, list[int]]:
        """([colour], settings, root moves) from ``[color] [interval] key value …``."""
        colour = None
        i = 0
        if i < len(args) and args[i].lower() in ("b", "w", "black", "white"):
            colour = _parse_colour(args[i])
            i += 1
        a = _Analysis(kata=kata, interval_s=1.0)
        if i < len(args) and args[i].lstrip("-").isdigit():
            a.interval_s = _parse_int(args[i], "interval") / 100.0
            i += 1
        avoid: set[int] = set()
        allow: set[int] = set()
        to_move = self.state.turn if colour is None else colour
        while i < len(args):
            key = args[i]
            if key in ("interval", "minmoves", "maxmoves") and i + 1 < len(args):
                v = _parse_int(args[i + 1], key)
                if key == "interval":
                    a.interval_s = v / 100.0
                elif key == "minmoves":
                    a.minmoves = v
                else:
                    a.maxmoves = v
                i += 2
            elif key in ("avoid", "allow") and i + 3 < len(args):
                who = _parse_colour(args[i + 1])
                pts = {self._vertex(v) for v in args[i + 2].split(",") if v}
                _parse_int(args[i + 3], "untilDepth")
                if who == to_move:  # only the root is restricted
                    (avoid if key == "avoid" else allow).update(pts)
                i += 4
            elif kata and key in ("ownership", "rootInfo") and i + 1 < len(args):
                flag = args[i + 1].lower()
                if flag not in ("true", "false"):
                    raise GtpError(f"{key} takes true or false, not {args[i + 1]!r}")
                setattr(a, "ownership" if key == "ownership" else "root_info", flag == "true")
                i += 2
            elif kata and key in ("ownershipStdev", "pvVisits", "movesOwnership",
                                  "movesOwnershipStdev", "pvEdgeVisits") and i + 1 < len(args):
                i += 2  # accepted; not computed, so these add nothing
            else:
                raise GtpError(f"invalid analysis argument {key!r}")
        moves: list[int] = []
        if avoid or allow:
            state = self.state
            legal = [m for m in state.legal_moves()] if colour in (None, state.turn) else None
            if legal is None:
                tmp = state.copy()
                tmp.set_turn(colour)
                legal = list(tmp.legal_moves())
            moves = [m for m in legal if m not in avoid and (not allow or m in allow)]
            if not moves:
                raise GtpError("avoid/allow leave no move to analyse")
        return colour, a, moves

    def _analysis_printer(self, a: _Analysis) -> Callable[[Report], None]:
        """The info callback of a running analysis: one line per interval, none for the final report."""

        def info(rep: Report) -> None:
            now = time.monotonic()
            if rep.final or now - a.last_print < a.interval_s - 0.05:
                return
            a.last_print = now
            text = self.format_analysis(rep, a.kata, a.minmoves, a.maxmoves, ownership=a.ownership,
                                        root_info=a.root_info)
            if text:
                self.write(text)

        return info

    def cmd_analyze(self, args: list[str], *, kata: bool) -> object:
        colour, a, moves = self._parse_analysis_args(args, kata)
        self._require_net()
        self._set_multipv(500)
        self._position(colour)
        self.write("=" + self._current_id)
        self._analysis = a

        self.engine.last_error = None
        self.engine.go(Limits(infinite=True, searchmoves=moves, info_interval=max(0.05, a.interval_s)),
                       self._analysis_printer(a), lambda b, p: None)
        return _STREAMING

    def _end_analysis(self) -> None:
        self.engine.stop()
        self.engine.wait()
        self._analysis = None
        self.write("")

    def cmd_genmove_analyze(self, args: list[str], *, kata: bool) -> object:
        if not args:
            raise GtpError("usage: lz-genmove_analyze <color> [interval] …")
        colour = _parse_colour(args[0])
        _, a, _ = self._parse_analysis_args(args, kata)
        self._require_net()
        self.write("=" + self._current_id)

        try:
            move = self._genmove(args[:1], on_info=self._analysis_printer(a), info_interval=a.interval_s)
        except GtpError as exc:  # the '=' is out already: pass (on our board too) and end the response
            log.warning("%s failed: %s", "kata-genmove_analyze" if kata else "lz-genmove_analyze", exc)
            self.state.play_color(colour, self.state.nn)
            move = "pass"
        self.write(f"play {move}", "")
        return _STREAMING

    # -- scoring --------------------------------------------------------------------------------------
    def cmd_final_score(self, args: list[str]) -> str:
        dead, _ = dead_stones(self.state, self.network.ownership(self.state))
        return score_text(score_without(self.state, dead))

    def cmd_final_status_list(self, args: list[str]) -> str:
        if len(args) != 1 or args[0] not in ("alive", "dead", "seki"):
            raise GtpError("usage: final_status_list alive|dead|seki")
        if args[0] == "seki":
            return ""
        dead, alive = dead_stones(self.state, self.network.ownership(self.state))
        groups = dead if args[0] == "dead" else alive
        return "\n".join(" ".join(vertex(p, self.size) for p in g) for g in groups)

    def cmd_showboard(self, args: list[str]) -> str:
        return "\n" + str(self.state)

    # -- SGF ------------------------------------------------------------------------------------------
    def cmd_loadsgf(self, args: list[str]) -> str:
        if not 1 <= len(args) <= 2:
            raise GtpError("usage: loadsgf <file> [move_number]")
        try:
            text = Path(args[0]).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise GtpError(f"cannot load file: {exc.strerror or exc}") from None
        limit = _parse_int(args[1], "move number") if len(args) == 2 else None
        try:
            game = SgfGame.parse(text)
        except ValueError as exc:
            raise GtpError(f"cannot load file: {exc}") from None
        size = game.board_size()
        path = self._check_size(size)
        komi = game.komi(self.komi)
        try:
            loaded = game.load(size, komi, limit)
        except SgfPropertyError:  # a bad PL is answered as it is, like a bad SZ or KM
            raise
        except (ValueError, IllegalMoveError, InvalidPositionError) as exc:
            raise GtpError(f"cannot load file: {_first_line(exc)}") from None
        self.network.use(path)
        self.komi = komi
        self._new_game(size, loaded.black, loaded.white, loaded.to_move, loaded.handicap)
        self.state = loaded.state
        return ""

    def to_sgf(self) -> str:
        """The game so far as SGF (set-up stones, komi, moves)."""
        from tabula.engine import __version__

        black, white, to_move, handicap = self._setup
        return write_sgf(self.size, self.komi, self.state.move_history(), app=f"{ENGINE_NAME}:{__version__}",
                         handicap=handicap, black=black, white=white, to_move=to_move)

    def cmd_printsgf(self, args: list[str]) -> str:
        sgf = self.to_sgf()
        if args:
            try:
                Path(args[0]).write_text(sgf + "\n", encoding="utf-8")
            except OSError as exc:
                raise GtpError(f"cannot write file: {exc.strerror or exc}") from None
            return ""
        return sgf

    # -- time ---------------------------------------------------------------------------------------------
    def cmd_time_settings(self, args: list[str]) -> str:
        if len(args) != 3:
            raise GtpError("usage: time_settings <main time> <byo-yomi time> <byo-yomi stones>")
        self.clock.time_settings(_parse_float(args[0], "main time"), _parse_float(args[1], "byo-yomi time"),
                                 _parse_int(args[2], "byo-yomi stones"))
        return ""

    def cmd_kgs_time_settings(self, args: list[str]) -> str:
        if not args:
            raise GtpError("usage: kgs-time_settings none|absolute|canadian|byoyomi …")
        if not self.clock.kgs_time_settings(args[0].lower(), [_parse_float(a, "time") for a in args[1:]]):
            raise GtpError(f"invalid kgs-time_settings {' '.join(args)!r}")
        return ""

    def cmd_time_left(self, args: list[str]) -> str:
        if len(args) != 3:
            raise GtpError("usage: time_left <color> <time> <stones>")
        colour = _parse_colour(args[0])
        self.clock.set_left(colour, _parse_float(args[1], "time"), _parse_int(args[2], "stones"))
        return ""

    # -- GoGui ---------------------------------------------------------------------------------------------
    def cmd_gogui_analyze_commands(self, args: list[str]) -> str:
        return "\n".join([
            "gfx/Best moves/tabula-best_moves",
            "dboard/Ownership (playouts)/tabula-ownership",
            "plist/Dead stones/final_status_list dead",
            "plist/Alive stones/final_status_list alive",
            "string/Final score/final_score",
            "string/Network/tabula-network",
        ])

    def cmd_best_moves(self, args: list[str]) -> str:
        """gfx: search as for a move (nothing is played); label the best moves with winrates, show the PV."""
        colour = self.state.turn
        lim = self._move_limits(colour)
        self._set_multipv(10)
        _, rep = self._search(lim)
        if rep is None or not rep.lines:
            return ""
        labels = " ".join(f"{vertex(ln.move, self.size)} {round(100 * winrate_lcb(ln.q, ln.visits)[0])}"
                          for ln in rep.lines if ln.visits > 0 and ln.move != self.state.nn)
        pv = rep.lines[0].pv
        var = " ".join(f"{'bw'[(colour + k) % 2]} {vertex(m, self.size)}" for k, m in enumerate(pv))
        out = []
        if var:
            out.append(f"VAR {var}")
        if labels:
            out.append(f"LABEL {labels}")
        return "\n".join(out)

    def cmd_ownership(self, args: list[str]) -> str:
        """dboard: ownership (the net's, else playouts'), +1 Black … −1 White, top row first."""
        own = self.network.ownership(self.state)
        n = self.size
        return "\n".join(" ".join(f"{own[r * n + c]:.2f}" for c in range(n)) for r in range(n - 1, -1, -1))

    def cmd_network(self, args: list[str]) -> str:
        self._require_net()
        return self.engine.evaluator.describe()  # every Evaluator describes itself


def run_gtp(engine: Engine, lines: Iterable[str], write: Writer | None = None, **kwargs) -> None:
    """Run the GTP loop over an iterable of input lines."""
    GtpProtocol(engine, write, **kwargs).run(lines)


__all__ = ["GtpProtocol", "GtpError", "GTP_PARAMS", "run_gtp", "score_text", "winrate_lcb"]
