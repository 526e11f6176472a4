"""What UCI and USI share: the line loop, one locked writer, options, ``go`` parsing,
the idle/searching state machine with exactly one ``bestmove`` per ``go``.

A front end subclasses :class:`EngineProtocol`, names its handshake words and
fills in the game-specific parts (positions, score formatting, move notation).
Every input line is handled on the reading thread and never waits for the
search: ``isready`` is answered at once mid-search, ``stop``/``ponderhit`` only
signal the search thread, which prints ``bestmove`` itself when it ends.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from typing import Callable, ClassVar, Iterable, TextIO

from tabula.engine.controller import Engine, Limits, Report
from tabula.engine.games.base import GameState
from tabula.engine.options import OptionError, Param

log = logging.getLogger(__name__)

#: USI and GTP resign below this win probability of the best move, in per mille: an integer, so a
#: GUI shows it as a spin (USI has no float type), as dlshogi's ``Resign_Threshold`` is
RESIGN_THRESHOLD = Param("ResignThreshold", "spin", 0,
                         "Resign when the best move's win probability is below this, per mille (0: never).",
                         0, 1000)


class Writer:
    """Writes whole lines, flushed, from any thread (no ``0readyok`` interleaving)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def __call__(self, *lines: str) -> None:
        with self._lock:
            for line in lines:
                self.stream.write(line + "\n")
            self.stream.flush()


#: lc0's ``ScoreType`` choices that UCI offers, the default (lc0's) first
SCORE_TYPES = ("WDL_mu", "centipawn", "win_percentage", "Q", "W-L")


def wdl_mu(q: float, d: float) -> float | None:
    """lc0's ``mu`` of a W/D/L: the mean of the logistic model whose win and loss tails are W and
    L, ``(a − b) / (a + b)`` with ``a = ln(1/L − 1)``, ``b = ln(1/W − 1)`` (1 = the win threshold);
    None where W, D or L lies within 1e-4 of 0 or 1, where lc0 computes none.

    >>> round(wdl_mu(0.025, 0.037), 3), wdl_mu(1.0, 0.0)
    (0.676, None)
    """
    w, loss = (1.0 + q - d) / 2.0, (1.0 - q - d) / 2.0
    eps = 1e-4
    if not all(eps < x < 1.0 - eps for x in (w, d, loss)):
        return None
    a, b = math.log(1.0 / loss - 1.0), math.log(1.0 / w - 1.0)
    return (a - b) / (a + b)


def score_cp(q: float, d: float, score_type: str = "WDL_mu") -> int:
    """The ``score cp`` of a line with value Q = W − L and draw rate D, as lc0's ``ScoreType``:

    - ``WDL_mu`` (lc0's default): 100·mu (:func:`wdl_mu`) where W, D and L are all clear of 0
      and 1, |Q| + D < 0.996, and either |mu| < 1 or 100·mu lies farther from zero than the
      fallback, ``45·tan(1.56728071628·Q)``; else the fallback (a net without a draw head, D = 0,
      always gets it);
    - ``centipawn``: ``90·tan(1.5637541897·Q)``, lc0's older default;
    - ``win_percentage``: 5000·Q + 5000; ``Q`` and ``W-L``: 10000·Q (Tabula keeps no draw score,
      so the two agree).

    Capped at ±12800.

    >>> score_cp(0.025, 0.037), score_cp(0.025, 0.037, "centipawn"), score_cp(0.871, 0.121)
    (68, 4, 216)
    """
    q = max(-1.0, min(1.0, q))
    if score_type == "centipawn":
        cp = 90.0 * math.tan(1.5637541897 * q)
    elif score_type == "win_percentage":
        cp = 5000.0 * q + 5000.0
    elif score_type in ("Q", "W-L"):
        cp = 10000.0 * q
    else:
        cp = 45.0 * math.tan(1.56728071628 * q)
        mu = wdl_mu(q, d)
        if mu is not None and mu != 0.0 and abs(q) + d < 0.996 and (abs(mu) < 1.0 or abs(cp) < abs(100.0 * mu)):
            cp = 100.0 * mu
    return int(round(max(-12800.0, min(12800.0, cp))))


def wdl_permille(q: float, d: float) -> tuple[int, int, int]:
    """Win/draw/loss per mille from Q = W − L and D (lc0's ``wdl`` field)."""
    w = round(500 * (1 + q - d))
    loss = round(500 * (1 - q - d))
    w, loss = max(0, min(1000, w)), max(0, min(1000, loss))
    return w, 1000 - w - loss, loss


def parse_int(tokens: list[str], i: int, name: str) -> int:
    """The integer after token ``i``; raises ValueError naming the field."""
    try:
        return int(float(tokens[i + 1]))
    except (IndexError, ValueError):
        raise ValueError(f"go {name} needs a number") from None


class EngineProtocol:
    """Shared engine side of UCI and USI."""

    #: the handshake command and its reply ("uci"/"uciok", "usi"/"usiok")
    hello: ClassVar[str]
    hello_ok: ClassVar[str]
    engine_name: ClassVar[str] = "Tabula"
    author: ClassVar[str] = "the Tabula developers"
    #: whether option names keep their spaces (UCI) or lose them (USI)
    spaced_names: ClassVar[bool] = True
    #: the go keywords that take a number, mapped to Limits fields per side
    protocol_params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, engine: Engine, write: Writer | None = None) -> None:
        self.engine = engine
        self.write = write or Writer()
        self.debug = False
        self._go_id = 0
        self._pending_go: int | None = None
        self._go_lock = threading.Lock()
        self.position_error: str | None = "no position set"
        self.commands: dict[str, Callable[[list[str]], bool | None]] = {
            self.hello: self.cmd_hello,
            "isready": self.cmd_isready,
            "setoption": self.cmd_setoption,
            "position": self.cmd_position,
            "go": self.cmd_go,
            "stop": self.cmd_stop,
            "ponderhit": self.cmd_ponderhit,
            "quit": self.cmd_quit,
            "debug": self.cmd_debug,
        }

    # -- the loop ---------------------------------------------------------------------------
    def run(self, lines: Iterable[str]) -> None:
        """Handle input lines until ``quit`` or end of input."""
        for line in lines:
            if not self.handle(line):
                break
        self.shutdown()

    def handle(self, line: str) -> bool:
        """Handle one line; returns False after ``quit``. Never raises."""
        tokens = line.strip().split()
        if not tokens:
            return True
        handler = self.commands.get(tokens[0])
        if handler is None:
            self.error(f"unknown command: {line.strip()[:80]}")
            return True
        try:
            return handler(tokens[1:]) is not False
        except Exception as exc:  # a bad line must never take the engine down
            log.debug("error handling %r", line, exc_info=True)
            self.error(f"{tokens[0]}: {self.engine.describe_error(exc)}")
            return True

    def info_string(self, text: str) -> None:
        """Send ``info string …`` (the only free-text channel GUIs accept)."""
        self.write(f"info string {text}")

    def error(self, text: str) -> None:
        """Report a problem to the GUI; the engine keeps running."""
        self.info_string(f"error: {text}")

    def shutdown(self) -> None:
        """Stop any search and release the network."""
        self.engine.stop()
        self.engine.wait()
        if self.engine.evaluator is not None:
            self.engine.evaluator.close()

    # -- shared commands --------------------------------------------------------------------
    def cmd_hello(self, args: list[str]) -> None:
        self.write(f"id name {self.engine_name} {self.version()}", f"id author {self.author}")
        self.write(*(p.declaration(spaces=self.spaced_names) for p in self.engine.options))
        self.write(self.hello_ok)

    @staticmethod
    def version() -> str:
        from tabula.engine import __version__

        return __version__

    def cmd_isready(self, args: list[str]) -> None:
        if not self.engine.searching():
            try:
                loaded = self.engine.ensure_ready()
                if loaded:
                    self.info_string(f"loaded {loaded}")
            except Exception as exc:
                self.error(self.engine.describe_error(exc))
        self.write("readyok")

    def cmd_setoption(self, args: list[str]) -> None:
        if "name" not in args:
            raise OptionError("usage: setoption name <id> [value <x>]")
        i = args.index("name")
        if "value" in args:
            j = args.index("value")
            name, value = " ".join(args[i + 1: j]), " ".join(args[j + 1:])
        else:
            name, value = " ".join(args[i + 1:]), None
        if self.engine.searching():
            raise OptionError(f"cannot set {name} while searching")
        self.engine.set_option(name, value)
        self.option_set(self.engine.options.param(name).name)

    def option_set(self, name: str) -> None:
        """Called after ``setoption`` stored the option ``name`` (its declared spelling)."""

    def cmd_debug(self, args: list[str]) -> None:
        self.debug = bool(args) and args[0] == "on"

    def cmd_quit(self, args: list[str]) -> bool:
        return False

    def cmd_stop(self, args: list[str]) -> None:
        self.engine.stop()  # a stray stop while idle does nothing

    def cmd_ponderhit(self, args: list[str]) -> None:
        self.engine.ponderhit()

    def cmd_position(self, args: list[str]) -> None:
        self.position_error = "no valid position"
        state, base, moves = self.parse_position(args)
        self.engine.set_position(state, base, moves)
        self.position_error = None

    def cmd_go(self, args: list[str]) -> None:
        if self.engine.searching():
            self.engine.stop()
            self.engine.wait()
        with self._go_lock:
            self._go_id += 1
            go_id = self._go_id
            self._pending_go = go_id
        if self.position_error is not None or self.engine.state is None:
            self.error(self.position_error or "no position set")
            self._finish(go_id, None, None, None)
            return
        state = self.engine.state
        limits = self.parse_go(args, state)
        try:
            self.engine.go(limits, self._on_info, lambda b, p: self._finish(go_id, b, p, state))
        except Exception as exc:
            self.error(self.engine.describe_error(exc))
            moves = state.legal_moves()
            # no net: answer with a legal move so the GUI is not left waiting
            self._finish(go_id, moves[0] if moves else None, None, state)

    def _finish(self, go_id: int, best: int | None, ponder: int | None, state: GameState | None) -> None:
        with self._go_lock:
            if self._pending_go != go_id:
                return
            self._pending_go = None
        self.write(self.format_bestmove(best, ponder, state))

    def _on_info(self, report: Report) -> None:
        try:
            if report.notice:
                self.info_string(report.notice)
            if report.move_stats and self.engine.state is not None:
                self.write(*self.format_move_stats(report, self.engine.state))
            self.write(*self.format_info(report))
        except Exception:  # reporting must never kill the search
            log.exception("info formatting failed")

    @staticmethod
    def format_move_stats(report: Report, state: GameState) -> list[str]:
        """``VerboseMoveStats``: one ``info string`` per root move (fewest visits first), then the root.

        Q, U and S = Q + U are what PUCT compares (side to move's view, Q in [-1, 1]); an
        unvisited move shows its first-play urgency as Q.
        """
        out = []
        for m in report.move_stats or []:
            tag = " (WIN)" if m.proven > 0 else (" (LOSS)" if m.proven < 0 else "")
            out.append(f"info string {state.move_to_text(m.move):<6} N: {m.visits:7d} (+{m.in_flight:2d}) "
                       f"(P: {100 * m.prior:5.2f}%) (Q: {m.q:+.5f}) (D: {m.d:.3f}) (U: {m.u:.5f}) "
                       f"(S: {m.score:+.5f}){tag}")
        s = report.stats
        q = report.lines[0].q if report.lines else 0.0
        out.append(f"info string node   N: {s.nodes:7d} playouts {s.playouts} collisions {s.collisions} "
                   f"(best Q: {q:+.5f})")
        return out

    # -- parsing helpers ------------------------------------------------------------------------
    def parse_go(self, args: list[str], state: GameState) -> Limits:
        """Any subset of the go fields in any order; unknown words and bad numbers are reported."""
        lim = Limits()
        white_to_move = state.turn == 0
        own, opp = ("w", "b") if white_to_move else ("b", "w")
        own, opp = self.clock_sides(own, opp)
        numeric = {f"{own}time": "time_ms", f"{opp}time": "opp_time_ms", f"{own}inc": "inc_ms",
                   "movestogo": "moves_to_go", "movetime": "movetime_ms", "nodes": "nodes",
                   "depth": "depth", "mate": "mate", "byoyomi": "byoyomi_ms"}
        ignored_numeric = {f"{opp}inc"}
        i = 0
        while i < len(args):
            tok = args[i]
            if tok in numeric or tok in ignored_numeric:
                try:
                    value = parse_int(args, i, tok)
                except ValueError as exc:
                    self.error(str(exc))
                    i += 1
                    continue
                if tok in numeric:
                    field = numeric[tok]
                    if field in ("time_ms", "opp_time_ms", "inc_ms", "movetime_ms", "byoyomi_ms"):
                        value = max(0, value)
                    setattr(lim, field, value)
                i += 2
            elif tok == "infinite":
                lim.infinite = True
                i += 1
            elif tok == "ponder":
                lim.ponder = True
                i += 1
            elif tok == "searchmoves":
                i += 1
                while i < len(args) and args[i] not in numeric and args[i] not in (
                        "infinite", "ponder", "searchmoves"):
                    try:
                        lim.searchmoves.append(state.parse_move(args[i]))
                    except ValueError as exc:
                        self.error(str(exc))
                    i += 1
            else:
                i += self.parse_go_extra(args, i, lim)
        if lim.moves_to_go is not None and lim.moves_to_go <= 0:
            lim.moves_to_go = None
        return lim

    def clock_sides(self, own: str, opp: str) -> tuple[str, str]:
        """Map (w, b) prefixes to this protocol's clock keywords (USI swaps colours)."""
        return own, opp

    def parse_go_extra(self, args: list[str], i: int, lim: Limits) -> int:
        """Handle a protocol-specific go word at ``i``; return tokens consumed (≥ 1)."""
        self.error(f"go: ignoring unknown word {args[i]!r}")
        return 1

    # -- to be provided by each protocol ------------------------------------------------------
    def parse_position(self, args: list[str]) -> tuple[GameState, object, list[int]]:
        """(state, hashable base description, move codes) from ``position …`` arguments."""
        raise NotImplementedError

    def format_info(self, report: Report) -> list[str]:
        raise NotImplementedError

    def format_bestmove(self, best: int | None, ponder: int | None, state: GameState | None) -> str:
        raise NotImplementedError
