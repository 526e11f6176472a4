"""USI front end: shogi GUIs (ShogiGUI, Shogidokoro), cshogi and other USI match runners.

What differs from UCI (``shared/formats/uci-usi.md`` §2):

- option names have no spaces (``Move Overhead`` shows as ``MoveOverhead``); the GUI's
  ``USI_Hash`` sets the tree memory (``Hash``) and ``USI_Ponder`` is accepted;
- ``go btime/wtime`` name Black (sente, the first player) and White; ``byoyomi`` is
  the time per move after the main time, less ``ByoyomiMargin`` and ``MoveOverhead``;
- ``score cp`` is dlshogi's mapping of the win probability ``p = (Q + 1) / 2``:
  ``cp = -756·ln(1/p − 1)``, capped at ±30000 (:func:`winrate_to_cp`); ``score mate N``
  counts plies (negative when Tabula is being mated);
- ``bestmove win`` when the side to move may declare an entering-king win (checked
  before searching), ``bestmove resign`` with no legal move or when the best move's
  win probability is below ``ResignThreshold`` per mille (0, the default, never resigns);
- ``go mate <ms|infinite>`` runs cshogi's df-pn solver and answers ``checkmate <moves>``,
  ``checkmate nomate`` or ``checkmate timeout`` — never ``bestmove``. cshogi's df-pn
  holds the GIL while it searches, so it runs in a child process that is killed at the
  deadline or on ``stop``; the reading thread stays free to answer ``isready``. The
  solver keeps every node (~150 bytes each), so ``Hash`` (MB) also bounds its nodes:
  past that it answers ``checkmate timeout``.

>>> winrate_to_cp(0.0), winrate_to_cp(1.0), winrate_to_cp(-1.0)
(0, 30000, -30000)
>>> mate_plies(1), mate_plies(-1), mate_plies(2)
(1, -2, 3)
"""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import threading
import time
from typing import Callable, Iterable

from tabula.engine.controller import Engine, Limits, Report
from tabula.engine.games.base import GameState, InvalidPositionError
from tabula.engine.games.shogi_game import DEFAULT_MAX_MOVES, ShogiState
from tabula.engine.options import Param
from tabula.engine.search.params import with_default

from .common import RESIGN_THRESHOLD, EngineProtocol, Writer

log = logging.getLogger(__name__)

#: dlshogi's ``Eval_Coef``: centipawns per logit of the win probability.
EVAL_COEF: float = 756.0
#: the largest |cp| reported (and the score of a certain win/loss without a mate distance)
CP_CAP: int = 30000

USI_PARAMS: tuple[Param, ...] = (
    Param("USI_Ponder", "check", False, "Think on the opponent's time (the GUI sends go ponder)."),
    Param("USI_Hash", "spin", 256, "Search tree memory in MB as the GUI sends it (sets Hash).",
          1, 65536),
    Param("ByoyomiMargin", "spin", 100,
          "Milliseconds of byoyomi left unused (on top of MoveOverhead) so a slow GUI never flags us.",
          0, 60000),
    RESIGN_THRESHOLD,
    Param("MaxMovesToDraw", "spin", DEFAULT_MAX_MOVES,
          "Game length (moves) at which the game is a draw, as the GUI counts it (0: no limit).",
          0, 100000),
    # measured with the bundled net, 400 playouts a move: 16 against 64 scored 64 % over 60 games
    # from random 8-ply openings (nets/shogi-default.md)
    with_default("MinibatchSize", 16, "Shogi: 16, as wider virtual-loss batches cost search quality at "
                 "the few hundred playouts a move of a CPU; raise it on a GPU."),
)


def winrate_to_cp(q: float) -> int:
    """dlshogi's score: ``-756·ln(1/p − 1)`` with ``p = (q + 1) / 2``, capped at ±30000."""
    p = (max(-1.0, min(1.0, q)) + 1.0) / 2.0
    if p >= 1.0:
        return CP_CAP
    if p <= 0.0:
        return -CP_CAP
    cp = -EVAL_COEF * math.log(1.0 / p - 1.0)
    return int(round(max(-CP_CAP, min(CP_CAP, cp))))


def mate_plies(moves: int) -> int:
    """USI's mate distance in plies from the search's mate in moves (>0: we mate)."""
    return 2 * moves - 1 if moves > 0 else 2 * moves


# -- go mate: df-pn in a child process -------------------------------------------------------

#: Bytes of memory one df-pn node takes in cshogi's solver (measured: ~140).
DFPN_NODE_BYTES: int = 150

#: The child: argv = max nodes, sfen, moves…; prints ``mate N <usi moves>``, ``nomate N`` or
#: ``limit N`` (N = nodes searched).
_DFPN_CHILD = """\
import sys, cshogi
nodes = int(sys.argv[1])
board = cshogi.Board(sys.argv[2])
for m in sys.argv[3:]:
    board.push_usi(m)
dfpn = cshogi.DfPn()
dfpn.set_max_search_node(nodes)
if dfpn.search(board):
    print("mate", dfpn.searched_node, *(cshogi.move_to_usi(m) for m in dfpn.get_pv(board)))
else:
    print("limit" if dfpn.searched_node >= nodes else "nomate", dfpn.searched_node)
"""


class MateSearch:
    """One ``go mate`` search: cshogi's df-pn in a child process, watched by a thread.

    ``on_done(text, nodes, seconds)`` gets the USI reply (``checkmate …``) exactly once:
    the solver's answer, or ``checkmate timeout`` at the deadline, after :meth:`stop` or
    when ``max_nodes`` (the memory bound: cshogi's solver keeps every node) runs out.
    """

    def __init__(self, sfen: str, moves: list[str], limit_s: float | None, max_nodes: int,
                 on_done: Callable[[str, int, float], None]) -> None:
        self.argv = [sys.executable, "-c", _DFPN_CHILD, str(max(1, min(max_nodes, 2**31 - 1))),
                     sfen, *moves]
        self.limit_s = limit_s
        self.on_done = on_done
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tabula-dfpn", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask for ``checkmate timeout`` now (if the solver has not answered yet)."""
        self._stop.set()

    def join(self) -> None:
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        t0 = time.monotonic()
        deadline = t0 + self.limit_s if self.limit_s is not None else math.inf
        text, nodes = "checkmate timeout", 0
        try:
            proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True,
                                    creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        except OSError as exc:
            log.error("cannot start the df-pn solver: %s", exc)
            self.on_done("checkmate notimplemented", 0, 0.0)
            return
        try:
            while True:
                left = deadline - time.monotonic()
                if self._stop.is_set() or left <= 0:
                    proc.kill()
                    proc.wait()
                    break
                try:
                    proc.wait(timeout=min(0.02, left))
                except subprocess.TimeoutExpired:
                    continue
                out = proc.stdout.read().split() if proc.stdout else []
                if proc.returncode == 0 and len(out) >= 2:
                    nodes = int(out[1])
                    if out[0] == "mate" and len(out) > 2:
                        text = "checkmate " + " ".join(out[2:])
                    elif out[0] == "nomate":
                        text = "checkmate nomate"
                else:
                    log.error("df-pn solver failed (exit %s)", proc.returncode)
                break
        finally:
            if proc.poll() is None:  # pragma: no cover - only if something above raised
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        self.on_done(text, nodes, time.monotonic() - t0)


class UsiProtocol(EngineProtocol):
    """The engine side of USI."""

    hello = "usi"
    hello_ok = "usiok"
    spaced_names = False

    def __init__(self, engine: Engine, write: Writer | None = None) -> None:
        super().__init__(engine, write)
        self.commands["usinewgame"] = self.cmd_usinewgame
        self.commands["gameover"] = self.cmd_gameover
        self._last_report: Report | None = None
        self._mate: MateSearch | None = None
        self._declare_on_hit = False

    # -- commands ---------------------------------------------------------------------------
    def option_set(self, name: str) -> None:
        """``USI_Hash`` (what shogi GUIs send) sets the tree's ``Hash``, clamped to its range."""
        if name == "USI_Hash":
            hash_param = self.engine.options.param("Hash")
            mb = int(self.engine.options["USI_Hash"])
            mb = max(int(hash_param.min or 1), min(int(hash_param.max or mb), mb))
            self.engine.set_option("Hash", str(mb))

    def cmd_usinewgame(self, args: list[str]) -> None:
        self._halt()
        self.engine.clear()

    def cmd_gameover(self, args: list[str]) -> None:
        """``gameover [win|lose|draw]``: end any search (its answer still comes) and wait."""
        if args and args[0] not in ("win", "lose", "draw"):
            self.error(f"gameover: unknown result {args[0]!r} (expected win, lose or draw)")
        self._halt()

    def cmd_stop(self, args: list[str]) -> None:
        super().cmd_stop(args)
        mate = self._mate
        if mate is not None:
            mate.stop()

    def cmd_ponderhit(self, args: list[str]) -> None:
        super().cmd_ponderhit(args)
        if self._declare_on_hit:
            self.engine.stop()  # the answer is "bestmove win": no need to think

    def cmd_go(self, args: list[str]) -> None:
        self._halt()
        self._last_report = None
        self._declare_on_hit = False
        state = self.engine.state
        if "mate" in args:
            self._go_mate(args)
            return
        if self.position_error is None and isinstance(state, ShogiState):
            waiting = "ponder" in args or "infinite" in args
            if state.declaration_win():
                if not waiting:
                    self._answer(self._new_go(), "bestmove win")
                    return
                self._declare_on_hit = "ponder" in args
            elif not waiting and state.legal_moves() and self._root_mate(state):
                return
        super().cmd_go(args)

    def shutdown(self) -> None:
        mate = self._mate
        if mate is not None:
            mate.stop()
            mate.join()
        super().shutdown()

    # -- go helpers -------------------------------------------------------------------------
    def _halt(self) -> None:
        """Stop the running search or mate search and wait until its answer is out."""
        self.engine.stop()
        self.engine.wait()
        mate = self._mate
        if mate is not None:
            mate.stop()
            mate.join()
            self._mate = None

    def _new_go(self) -> int:
        """Open a go that is answered here, not by the search thread."""
        with self._go_lock:
            self._go_id += 1
            self._pending_go = self._go_id
            return self._go_id

    def _answer(self, go_id: int, text: str) -> None:
        """Write the one answer of go ``go_id`` (dropped if that go was already answered)."""
        with self._go_lock:
            if self._pending_go != go_id:
                return
            self._pending_go = None
        self.write(text)

    def _root_mate(self, state: ShogiState) -> bool:
        """Answer at once with a mate in 1 or 3 found by cshogi's mate search."""
        if state.in_check():
            return False
        for plies in (1, 3):
            move = state.mate_move(plies)
            if move is not None:
                text = state.move_to_text(move)
                go_id = self._new_go()
                self.write(f"info depth {plies} seldepth {plies} nodes 1 score mate {plies} pv {text}")
                self._answer(go_id, f"bestmove {text}")
                return True
        return False

    def _go_mate(self, args: list[str]) -> None:
        """``go mate <ms|infinite>`` → ``checkmate …`` from df-pn in a child process."""
        go_id = self._new_go()
        state = self.engine.state
        if self.position_error is not None or not isinstance(state, ShogiState):
            self.error(self.position_error or "no position set")
            self._answer(go_id, "checkmate nomate")
            return
        i = args.index("mate")
        word = args[i + 1] if i + 1 < len(args) else "infinite"
        limit_s: float | None = None
        if word != "infinite":
            try:
                ms = float(word)
            except ValueError:
                self.error(f"go mate needs milliseconds or infinite, not {word!r}; searching until stop")
            else:
                overhead = float(self.engine.options["Move Overhead"])
                limit_s = max(ms * 0.5, ms - overhead) / 1000.0
        if not state.legal_moves():
            self._answer(go_id, "checkmate nomate")
            return

        def done(text: str, nodes: int, seconds: float) -> None:
            if nodes >= max_nodes:
                self.info_string(f"df-pn gave up after {nodes} nodes: the Hash option bounds its memory")
            if nodes:
                nps = int(nodes / seconds) if seconds > 0 else 0
                self.write(f"info time {int(seconds * 1000)} nodes {nodes} nps {nps}")
            self._answer(go_id, text)

        moves = [state.move_to_text(m) for m in state.moves_played()]
        max_nodes = int(self.engine.options["Hash"]) * (1 << 20) // DFPN_NODE_BYTES
        self._mate = MateSearch(state.start_sfen, moves, limit_s, max_nodes, done)
        self._mate.start()

    def parse_go(self, args: list[str], state: GameState) -> Limits:
        """The base parser, then the byoyomi less ``ByoyomiMargin``."""
        lim = super().parse_go(args, state)
        if lim.byoyomi_ms > 0:
            margin = float(self.engine.options["ByoyomiMargin"])
            lim.byoyomi_ms = max(0.0, lim.byoyomi_ms - margin)
            if lim.time_ms is None:
                lim.time_ms = 0.0  # byoyomi alone: the main time is spent
        return lim

    def clock_sides(self, own: str, opp: str) -> tuple[str, str]:
        # the base class names the first player "w"; in USI the first player (sente) is "b"
        return opp, own

    # -- positions and output -------------------------------------------------------------------
    def parse_position(self, args: list[str]) -> tuple[ShogiState, object, list[int]]:
        if not args:
            raise InvalidPositionError("usage: position startpos|sfen <sfen> [moves …]")
        if "moves" in args:
            k = args.index("moves")
            head, moves = args[:k], args[k + 1:]
        else:
            head, moves = args, []
        if head[0] == "startpos":
            sfen = None
        elif head[0] == "sfen":
            sfen = " ".join(head[1:])
        else:
            raise InvalidPositionError(f"position: expected startpos or sfen, got {head[0]!r}")
        max_moves = int(self.engine.options["MaxMovesToDraw"])
        state = ShogiState(sfen, max_moves=max_moves)
        codes = []
        for text in moves:
            code = state.parse_move(text)
            state.push(code)
            codes.append(code)
        return state, (state.start_sfen, max_moves), codes

    def _on_info(self, report: Report) -> None:
        self._last_report = report
        super()._on_info(report)

    def format_info(self, report: Report) -> list[str]:
        s = report.stats
        state = self.engine.state or ShogiState()
        multi = len(report.lines) > 1
        out = []
        for k, line in enumerate(report.lines, 1):
            if line.mate is not None and line.mate != 0:
                score = f"score mate {mate_plies(line.mate)}"
            else:
                score = f"score cp {winrate_to_cp(line.q)}"
            parts = [f"info depth {max(1, s.depth)} seldepth {max(1, s.seldepth)}",
                     f"time {int(s.elapsed * 1000)} nodes {s.nodes} nps {s.nps}",
                     f"hashfull {report.hashfull}", score]
            if multi:
                parts.append(f"multipv {k}")
            parts.append("pv " + " ".join(state.move_to_text(m) for m in line.pv))
            out.append(" ".join(parts))
        return out

    def _resigns(self, best: int) -> bool:
        """Whether the best move's win probability is below ``ResignThreshold`` per mille."""
        threshold = int(self.engine.options["ResignThreshold"])
        report = self._last_report
        if threshold <= 0 or report is None:
            return False
        for line in report.lines:
            if line.move == best:
                return (line.q + 1.0) * 500.0 < threshold
        return False

    def format_bestmove(self, best: int | None, ponder: int | None, state) -> str:
        if best is None or not isinstance(state, ShogiState):
            return "bestmove resign"
        if state.declaration_win():
            return "bestmove win"
        if self._resigns(best):
            return "bestmove resign"
        text = f"bestmove {state.move_to_text(best)}"
        if ponder is not None:
            after = state.copy()
            after.push(best)
            if ponder in after.legal_moves():
                text += f" ponder {after.move_to_text(ponder)}"
        return text


def run_usi(engine: Engine, lines: Iterable[str], write: Writer | None = None) -> None:
    """Run the USI loop over an iterable of input lines."""
    UsiProtocol(engine, write).run(lines)
