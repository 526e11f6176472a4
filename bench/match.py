"""Engine-against-engine matches: chess over UCI, shogi over USI; Elo, LOS and SPRT.

Two engines, each a command line with options, play every opening twice (once with
each colour), under a time control (Fischer clock, byoyomi) or a node / depth /
fixed-time limit, on ``concurrency`` boards at once. The referee keeps the clocks and
the rules: an engine that crashes, answers too late, or plays an illegal move loses
that game with the reason recorded, is restarted, and the match goes on. Games can be
adjudicated by score (resign, draw) and by length. Results go to PGN (chess), CSA or
SFEN-move lines (shogi); the statistics (:mod:`bench.elo`) include an SPRT that ends the
match early.

>>> spec = EngineSpec.parse("cmd='tabula uci --net n.onnx' name=T option.Threads=1 nodes=200")
>>> spec.cmd, spec.name, spec.options, spec.nodes
(['tabula', 'uci', '--net', 'n.onnx'], 'T', {'Threads': '1'}, 200)

Chess engines are driven by python-chess's ``chess.engine``; shogi engines by the small
USI client here (cshogi's runs engines without arguments); go engines by
:mod:`bench.gtp_referee` (its GTP client and game loop, GNU Go as the neutral scorer;
go games start from the empty board and take a clock or the engines' own strength
settings, since GTP has no node limit).
"""

from __future__ import annotations

import asyncio
import datetime
import io
import logging
import queue
import random
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .elo import EloEstimate, SprtBounds, Tally, sprt_decision

log = logging.getLogger(__name__)

GAMES = ("chess", "shogi", "go")
PROTOCOL_OF_GAME = {"chess": "uci", "shogi": "usi", "go": "gtp"}


class MatchError(RuntimeError):
    """The match cannot be set up (bad engine spec, engine does not start, bad openings…)."""


class EngineFailure(RuntimeError):
    """An engine broke the game: crash, timeout, illegal move, protocol error.

    ``kind`` is one of ``crash``, ``time``, ``illegal``, ``protocol``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


# -- time controls and engine specs -----------------------------------------------------------
@dataclass(frozen=True)
class TimeControl:
    """A clock: ``base`` seconds, ``inc`` seconds per move (Fischer), ``byoyomi`` seconds per
    move once the base is spent (shogi). ``base=None`` means no clock.

    >>> TimeControl.parse("10+0.1"), TimeControl.parse("0+0", byoyomi=1).describe()
    (TimeControl(base=10.0, inc=0.1, byoyomi=0.0), '0+0 byoyomi 1')
    """

    base: float | None = None
    inc: float = 0.0
    byoyomi: float = 0.0

    @classmethod
    def parse(cls, text: str | None, byoyomi: float = 0.0) -> "TimeControl":
        """From ``base+inc`` or ``base`` in seconds (``inf``/empty: no clock)."""
        if text is None or text.strip().lower() in ("", "inf", "none"):
            return cls(None, 0.0, float(byoyomi)) if byoyomi else cls()
        t = text.strip()
        try:
            if "+" in t:
                b, i = t.split("+", 1)
                return cls(float(b), float(i), float(byoyomi))
            return cls(float(t), 0.0, float(byoyomi))
        except ValueError:
            raise MatchError(f"bad time control {text!r}: use BASE+INC in seconds, e.g. 10+0.1") from None

    @property
    def clocked(self) -> bool:
        """Whether there is a clock at all."""
        return self.base is not None or self.byoyomi > 0

    def describe(self) -> str:
        """Short text; PGN's ``TimeControl`` style for Fischer clocks."""
        if not self.clocked:
            return "-"
        s = f"{self.base or 0:g}+{self.inc:g}"
        return s + (f" byoyomi {self.byoyomi:g}" if self.byoyomi else "")


@dataclass
class EngineSpec:
    """One engine: its command line, name, options and (optionally) its own limits.

    Parsed from ``key=value`` fields (shell quoting): ``cmd`` (the command line, split
    like a shell would), ``arg`` (one more argument, repeatable), ``name``, ``proto``
    (uci|usi|gtp), ``dir`` (working directory), ``option.NAME=VALUE`` (repeatable),
    and per-engine limits ``tc``, ``byoyomi``, ``nodes``, ``st`` (seconds per move),
    ``depth`` that override the match's.
    """

    cmd: list[str]
    name: str = ""
    options: dict[str, str] = field(default_factory=dict)
    proto: str | None = None
    cwd: str | None = None
    tc: TimeControl | None = None
    nodes: int | None = None
    movetime: float | None = None
    depth: int | None = None

    @classmethod
    def parse(cls, text: str) -> "EngineSpec":
        """Parse ``"cmd='…' name=… option.X=Y …"``; a spec without ``=`` is the command itself."""
        try:
            tokens = shlex.split(text)
        except ValueError as exc:
            raise MatchError(f"engine spec {text!r}: {exc}") from None
        if tokens and all("=" not in t for t in tokens):
            tokens = [f"cmd={text}"]
        spec = cls(cmd=[])
        tc_text, byo = None, 0.0
        for tok in tokens:
            if "=" not in tok:
                raise MatchError(f"engine spec field {tok!r} is not key=value (in {text!r})")
            k, v = tok.split("=", 1)
            try:
                if k == "cmd":
                    spec.cmd += shlex.split(v)
                elif k == "arg":
                    spec.cmd.append(v)
                elif k == "name":
                    spec.name = v
                elif k == "proto":
                    if v not in ("uci", "usi", "gtp"):
                        raise MatchError(f"proto must be uci, usi or gtp, not {v!r}")
                    spec.proto = v
                elif k == "dir":
                    spec.cwd = v
                elif k.startswith("option."):
                    spec.options[k[len("option."):]] = v
                elif k == "tc":
                    tc_text = v
                elif k == "byoyomi":
                    byo = float(v)
                elif k == "nodes":
                    spec.nodes = int(v)
                elif k == "st":
                    spec.movetime = float(v)
                elif k == "depth":
                    spec.depth = int(v)
                else:
                    raise MatchError(f"unknown engine spec field {k!r} (in {text!r}); use cmd, arg, name, "
                                     f"proto, dir, option.NAME, tc, byoyomi, nodes, st, depth")
            except ValueError:
                raise MatchError(f"engine spec field {tok!r}: bad number") from None
        if not spec.cmd:
            raise MatchError(f"engine spec {text!r} has no cmd=")
        if tc_text is not None or byo:
            spec.tc = TimeControl.parse(tc_text, byo)
        if not spec.name:
            spec.name = Path(spec.cmd[0]).name
        return spec


@dataclass(frozen=True)
class Limits:
    """What one engine's moves are limited by (clock, nodes, fixed time, depth)."""

    tc: TimeControl = TimeControl()
    nodes: int | None = None
    movetime: float | None = None
    depth: int | None = None

    def describe(self) -> str:
        """Short text for headers and summaries."""
        parts = []
        if self.tc.clocked:
            parts.append(f"tc {self.tc.describe()}")
        if self.movetime is not None:
            parts.append(f"st {self.movetime:g}")
        if self.nodes is not None:
            parts.append(f"nodes {self.nodes}")
        if self.depth is not None:
            parts.append(f"depth {self.depth}")
        return ", ".join(parts) or "none"


def limits_for(spec: EngineSpec, default: Limits) -> Limits:
    """The engine's own limits where it gives them, the match's otherwise."""
    return Limits(spec.tc if spec.tc is not None else default.tc,
                  spec.nodes if spec.nodes is not None else default.nodes,
                  spec.movetime if spec.movetime is not None else default.movetime,
                  spec.depth if spec.depth is not None else default.depth)


# -- openings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Opening:
    """A start position (FEN/SFEN; None: the standard start) plus moves in protocol notation."""

    fen: str | None = None
    moves: tuple[str, ...] = ()
    label: str = ""


def _parse_position_line(line: str, game: str) -> Opening:
    text = line.split("#", 1)[0].strip()
    tokens = text.split()
    if tokens and tokens[0] == "position":
        tokens = tokens[1:]
    moves: list[str] = []
    if "moves" in tokens:
        i = tokens.index("moves")
        tokens, moves = tokens[:i], tokens[i + 1:]
    head = "fen" if game == "chess" else "sfen"
    if not tokens or tokens[0] == "startpos":
        fen = None
    elif tokens[0] == head:
        fen = " ".join(tokens[1:])
    else:
        fen = " ".join(tokens)
    return Opening(fen, tuple(moves), line.split("#", 1)[1].strip() if "#" in line else "")


def _chess_openings(path: Path, plies: int | None) -> list[Opening]:
    import chess
    import chess.pgn

    text = path.read_text()
    out: list[Opening] = []
    if path.suffix.lower() == ".pgn":
        stream = io.StringIO(text)
        while True:
            game = chess.pgn.read_game(stream)
            if game is None:
                break
            board = game.board()
            fen = None if board.fen() == chess.STARTING_FEN else board.fen()
            moves = [m.uci() for m in game.mainline_moves()]
            if plies is not None:
                moves = moves[:plies]
            out.append(Opening(fen, tuple(moves), game.headers.get("Opening", game.headers.get("Event", ""))))
        return out
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.split()[0] in ("startpos", "fen", "position"):
            op = _parse_position_line(line, "chess")
        else:  # a FEN, or EPD (four FEN fields, then operations)
            try:
                op = Opening(chess.Board(line).fen(), ())
            except ValueError:
                board, ops = chess.Board.from_epd(line)
                op = Opening(board.fen(), (), str(ops.get("id", "")))
        board = chess.Board(op.fen or chess.STARTING_FEN)
        for m in op.moves:
            board.push_uci(m)
        out.append(op)
    return out


def _shogi_openings(path: Path, plies: int | None) -> list[Opening]:
    import cshogi

    out = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        op = _parse_position_line(line, "shogi")
        if plies is not None:
            op = Opening(op.fen, op.moves[:plies], op.label)
        board = cshogi.Board(op.fen) if op.fen else cshogi.Board()
        for m in op.moves:
            mv = board.move_from_usi(m)
            if not mv or not board.is_legal(mv):
                raise MatchError(f"{path}: illegal move {m!r} in opening {line!r}")
            board.push(mv)
        out.append(op)
    return out


def load_openings(path: str | Path, game: str, plies: int | None = None) -> list[Opening]:
    """Openings from a file: chess EPD / FEN lines / PGN (first ``plies`` moves of each game),
    shogi ``[position] startpos|sfen S [moves …]`` lines or bare SFENs. Each is checked."""
    p = Path(path)
    if not p.is_file():
        raise MatchError(f"openings file not found: {p}")
    try:
        ops = _chess_openings(p, plies) if game == "chess" else _shogi_openings(p, plies)
    except MatchError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one clear message
        raise MatchError(f"{p}: cannot read openings: {exc}") from None
    if not ops:
        raise MatchError(f"{p}: no openings in the file")
    return ops


# -- game records -----------------------------------------------------------------------------
@dataclass
class MoveRecord:
    """One move as played: text, time used, the mover's reported score and depth."""

    move: str
    seconds: float
    score_cp: int | None = None
    mate: int | None = None
    depth: int | None = None
    book: bool = False


@dataclass
class GameRecord:
    """A finished game. ``players[0]`` moved first from the opening's start position."""

    number: int
    pair: int
    players: tuple[str, str]
    engine_of_side: tuple[int, int]  #: index of the engine (0 = first --engine) playing each side
    opening: Opening
    moves: list[MoveRecord] = field(default_factory=list)
    result: str = "*"                #: "1-0", "0-1", "1/2-1/2" (first side's view, PGN style)
    winner_side: int | None = None   #: 0/1 = side that won, None = draw
    reason: str = ""                 #: what ended it, in words ("White mates", "Black loses on time", …)
    termination: str = "normal"      #: normal | adjudication | time forfeit | rules infraction | abandoned
    start_time: str = ""
    start_side: int = 0              #: whose move it was at the start position (0 white/black-sente)
    native: object = None            #: the game as another referee recorded it (go: gtp_referee.Game)

    @property
    def score_first_engine(self) -> float:
        """The game's score for the first engine (``--engine`` #1)."""
        if self.winner_side is None:
            return 0.5
        return 1.0 if self.engine_of_side[self.winner_side] == 0 else 0.0


# -- clocks --------------------------------------------------------------------------------------
class Clock:
    """One side's clock under a :class:`TimeControl`, in seconds."""

    def __init__(self, tc: TimeControl) -> None:
        self.tc = tc
        self.remaining = tc.base or 0.0

    def available(self) -> float:
        """Seconds the side may use for this move."""
        return self.remaining + self.tc.byoyomi

    def spend(self, seconds: float, margin: float) -> bool:
        """Charge a move; False when it ran over (flag fell)."""
        if seconds > self.available() + margin:
            return False
        if seconds > self.remaining:
            self.remaining = 0.0
        else:
            self.remaining -= seconds
        self.remaining += self.tc.inc
        return True


# -- players ---------------------------------------------------------------------------------------
@dataclass
class MoveAnswer:
    """An engine's answer: move text (or ``resign``/``win``), score, depth, time."""

    move: str | None
    seconds: float
    score_cp: int | None = None
    mate: int | None = None
    depth: int | None = None


class Player:
    """One engine process for one board; restarted after it breaks."""

    def __init__(self, spec: EngineSpec, limits: Limits, *, start_timeout: float = 30.0,
                 stderr: int | None = subprocess.DEVNULL) -> None:
        self.spec = spec
        self.limits = limits
        self.start_timeout = start_timeout
        self.stderr = stderr
        self.starts = 0

    @property
    def name(self) -> str:
        """The engine's display name."""
        return self.spec.name

    def ensure_started(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def kill(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def quit(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class UciPlayer(Player):
    """A UCI engine through python-chess's ``SimpleEngine``."""

    def __init__(self, *a, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*a, **kw)
        self.engine = None

    def ensure_started(self) -> None:
        """Start the process, handshake, set the options (raises :class:`EngineFailure`)."""
        if self.engine is not None:
            if not self.engine.protocol.returncode.done():
                return
            self.kill()  # died since its last move: start a fresh one
        import chess.engine

        self.starts += 1
        try:
            eng = chess.engine.SimpleEngine.popen_uci(self.spec.cmd, timeout=self.start_timeout,
                                                      cwd=self.spec.cwd, stderr=self.stderr)
        except (OSError, chess.engine.EngineError, asyncio.TimeoutError, TimeoutError) as exc:
            raise EngineFailure("crash", f"{self.name} did not start: {type(exc).__name__}: {exc}") from None
        try:
            if self.spec.options:
                eng.configure(dict(self.spec.options))
            eng.ping()
        except (chess.engine.EngineError, asyncio.TimeoutError, TimeoutError) as exc:
            self._close(eng)
            raise EngineFailure("crash", f"{self.name}: setting options failed: {exc}") from None
        self.engine = eng

    @staticmethod
    def _close(eng) -> None:  # noqa: ANN001
        try:
            eng.close()
        except Exception:  # noqa: BLE001 - closing a broken engine may fail in many ways
            pass

    def kill(self) -> None:
        """Stop the process at once (next game restarts it)."""
        if self.engine is not None:
            self._close(self.engine)
            self.engine = None

    def quit(self) -> None:
        """Send ``quit`` and wait briefly; kill if it lingers."""
        eng, self.engine = self.engine, None
        if eng is None:
            return
        try:
            eng.quit()
        except Exception:  # noqa: BLE001
            pass
        self._close(eng)

    def play(self, board, clocks: tuple[Clock, Clock], game_id: object, timeout: float) -> MoveAnswer:  # noqa: ANN001
        """Ask for a move in ``board``; ``timeout`` seconds at most (raises :class:`EngineFailure`)."""
        import chess
        import chess.engine

        self.ensure_started()
        eng = self.engine
        lim = self.limits
        kw: dict = {}
        if lim.tc.clocked:
            w, b = clocks
            kw.update(white_clock=w.remaining, black_clock=b.remaining,
                      white_inc=w.tc.inc, black_inc=b.tc.inc)
        if lim.nodes is not None:
            kw["nodes"] = lim.nodes
        if lim.movetime is not None:
            kw["time"] = lim.movetime
        if lim.depth is not None:
            kw["depth"] = lim.depth
        limit = chess.engine.Limit(**kw)
        coro = asyncio.wait_for(eng.protocol.play(board, limit, game=game_id, info=chess.engine.INFO_SCORE),
                                timeout)
        t0 = time.perf_counter()
        try:
            # python-chess's own timeout ignores clocks; the referee's is the engine's time left
            res = asyncio.run_coroutine_threadsafe(coro, eng.protocol.loop).result(timeout + 5.0)
        except (asyncio.TimeoutError, TimeoutError):
            raise EngineFailure("time", f"{self.name} did not answer within {timeout:.2f} s") from None
        except chess.engine.EngineTerminatedError as exc:
            raise EngineFailure("crash", f"{self.name} terminated: {exc}") from None
        except chess.engine.EngineError as exc:
            text = str(exc)
            kind = "illegal" if "illegal" in text or "invalid" in text else "protocol"
            raise EngineFailure(kind, f"{self.name}: {text}") from None
        except RuntimeError as exc:  # the engine's event loop is gone
            raise EngineFailure("crash", f"{self.name}: {exc}") from None
        dt = time.perf_counter() - t0
        ans = MoveAnswer(res.move.uci() if res.move else None, dt)
        score = res.info.get("score")
        if res.resigned:
            ans.move = "resign"
        if score is not None:
            rel = score.relative
            if rel.is_mate():
                ans.mate = rel.mate()
            else:
                ans.score_cp = rel.score()
        ans.depth = res.info.get("depth")
        return ans


class UsiEngine:
    """A minimal USI client: a process, a reader thread, and line-level expectations."""

    def __init__(self, cmd: Sequence[str], *, cwd: str | None = None, stderr: int | None = subprocess.DEVNULL,
                 name: str = "engine") -> None:
        self.name = name
        try:
            self.proc = subprocess.Popen(list(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                         cwd=cwd, text=True, bufsize=1)
        except OSError as exc:
            raise EngineFailure("crash", f"{name} did not start: {exc}") from None
        self.lines: "queue.Queue[str | None]" = queue.Queue()
        self.options: dict[str, str] = {}
        self.id_name = ""
        self._reader = threading.Thread(target=self._read, name=f"usi-{name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                self.lines.put(line.rstrip("\r\n"))
        except (OSError, ValueError):  # the pipe was closed under us (kill)
            pass
        self.lines.put(None)

    def send(self, line: str) -> None:
        """Write one command (raises :class:`EngineFailure` if the pipe is gone)."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise EngineFailure("crash", f"{self.name} terminated (pipe closed)") from None

    def expect(self, token: str, deadline: float, on_line: Callable[[str], None] | None = None) -> str:
        """Read lines until one whose first word is ``token``; returns that line."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EngineFailure("time", f"{self.name}: no {token!r} in time")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.poll()
                raise EngineFailure("crash", f"{self.name} terminated (exit code {code})")
            if on_line is not None:
                on_line(line)
            if line.split(" ", 1)[0] == token:
                return line

    def handshake(self, options: dict[str, str], timeout: float) -> None:
        """``usi`` … ``usiok``, the options, ``isready`` … ``readyok``."""
        def seen(line: str) -> None:
            parts = line.split()
            if line.startswith("id name "):
                self.id_name = line[8:].strip()
            elif len(parts) >= 3 and parts[0] == "option" and parts[1] == "name":
                self.options[parts[2]] = line
        self.send("usi")
        self.expect("usiok", time.monotonic() + timeout, seen)
        for k, v in options.items():
            self.send(f"setoption name {k} value {v}")
        self.isready(timeout)

    def isready(self, timeout: float) -> None:
        """``isready`` … ``readyok``."""
        self.send("isready")
        self.expect("readyok", time.monotonic() + timeout)

    def close(self, grace: float = 2.0) -> None:
        """``quit``, then kill after ``grace`` seconds."""
        if self.proc.poll() is None:
            try:
                self.send("quit")
            except EngineFailure:
                pass
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass

    def kill(self) -> None:
        """Kill the process now."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close(0)


def _parse_info_score(line: str, ans: MoveAnswer) -> None:
    parts = line.split()
    for i, p in enumerate(parts[:-1]):
        if p == "depth":
            try:
                ans.depth = int(parts[i + 1])
            except ValueError:
                pass
        elif p == "score" and i + 2 < len(parts):
            kind, val = parts[i + 1], parts[i + 2]
            try:
                if kind == "cp":
                    ans.score_cp, ans.mate = int(val), None
                elif kind == "mate":
                    v = val.lstrip("+")
                    ans.mate = (1 if v == "" else int(v)) if v not in ("-",) else -1
                    ans.score_cp = None
            except ValueError:
                pass


class UsiPlayer(Player):
    """A USI engine through :class:`UsiEngine`."""

    def __init__(self, *a, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*a, **kw)
        self.engine: UsiEngine | None = None

    def ensure_started(self) -> None:
        """Start and handshake (raises :class:`EngineFailure`)."""
        if self.engine is not None:
            return
        self.starts += 1
        eng = UsiEngine(self.spec.cmd, cwd=self.spec.cwd, stderr=self.stderr, name=self.name)
        try:
            eng.handshake(self.spec.options, self.start_timeout)
        except EngineFailure as exc:
            eng.kill()
            raise EngineFailure("crash", f"{self.name} did not start: {exc}") from None
        self.engine = eng

    def new_game(self) -> None:
        """``isready`` and ``usinewgame`` before a game."""
        self.ensure_started()
        assert self.engine is not None
        self.engine.isready(self.start_timeout)
        self.engine.send("usinewgame")

    def game_over(self, result: str) -> None:
        """``gameover win|lose|draw`` (errors ignored: the game is over)."""
        if self.engine is not None:
            try:
                self.engine.send(f"gameover {result}")
            except EngineFailure:
                self.kill()

    def kill(self) -> None:
        """Stop the process at once (next game restarts it)."""
        if self.engine is not None:
            self.engine.kill()
            self.engine = None

    def quit(self) -> None:
        """``quit``, then kill if it lingers."""
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def play(self, position: str, clocks: tuple[Clock, Clock], timeout: float) -> MoveAnswer:
        """Send ``position`` and ``go``; wait ``timeout`` seconds at most for ``bestmove``."""
        self.ensure_started()
        eng = self.engine
        assert eng is not None
        lim = self.limits
        go = ["go"]
        if lim.tc.clocked:
            b, w = clocks
            go += [f"btime {int(b.remaining * 1000)}", f"wtime {int(w.remaining * 1000)}"]
            if lim.tc.byoyomi:
                go.append(f"byoyomi {int(lim.tc.byoyomi * 1000)}")
            elif lim.tc.inc:
                go += [f"binc {int(b.tc.inc * 1000)}", f"winc {int(w.tc.inc * 1000)}"]
        elif lim.movetime is not None:
            go += ["btime 0", "wtime 0", f"byoyomi {int(lim.movetime * 1000)}"]
        if lim.nodes is not None:
            go.append(f"nodes {lim.nodes}")
        if lim.depth is not None:
            go.append(f"depth {lim.depth}")
        if len(go) == 1:
            go.append("infinite")  # pragma: no cover - a match always sets some limit
        ans = MoveAnswer(None, 0.0)
        t0 = time.perf_counter()
        eng.send(position)
        eng.send(" ".join(go))

        def on_line(line: str) -> None:
            if line.startswith("info "):
                _parse_info_score(line, ans)
        try:
            line = eng.expect("bestmove", time.monotonic() + timeout, on_line)
        except EngineFailure as exc:
            if exc.kind == "time":
                raise EngineFailure("time", f"{self.name} did not answer within {timeout:.2f} s") from None
            raise
        ans.seconds = time.perf_counter() - t0
        parts = line.split()
        ans.move = parts[1] if len(parts) > 1 else None
        return ans


# -- adjudication -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Adjudication:
    """Ending games by score and length (off by default).

    * resign: a side whose own score stays at or below ``-resign_score`` centipawns for
      ``resign_moves`` of its consecutive moves loses;
    * draw: from move ``draw_movenumber`` on, when both sides' scores stay within
      ``±draw_score`` for ``draw_moves`` consecutive moves each, the game is drawn;
    * max_moves: the game is drawn after that many moves (chess: full moves; shogi: plies,
      as each game counts them).
    """

    resign_moves: int = 0
    resign_score: int = 1000
    draw_movenumber: int = 40
    draw_moves: int = 0
    draw_score: int = 10
    max_moves: int = 0


def _score_cp(m: MoveRecord) -> float | None:
    if m.book:
        return None
    if m.mate is not None:
        return 100_000.0 if m.mate > 0 else -100_000.0
    return None if m.score_cp is None else float(m.score_cp)


def adjudicate(moves: Sequence[MoveRecord], rules: Adjudication, move_number: int) -> tuple[str, int | None] | None:
    """Check the last moves: ``("resign", loser_offset)`` or ``("draw", None)`` or None.

    ``loser_offset`` is 0 when the side that just moved resigns, 1 for its opponent (never:
    only a mover's own scores count). ``move_number`` is the game's current move number.
    """
    if rules.resign_moves > 0 and len(moves) >= 2 * rules.resign_moves - 1:
        own = [_score_cp(m) for m in moves[::-1][::2][: rules.resign_moves]]
        if len(own) == rules.resign_moves and all(s is not None and s <= -rules.resign_score for s in own):
            return "resign", 0
    if rules.draw_moves > 0 and move_number >= rules.draw_movenumber and len(moves) >= 2 * rules.draw_moves:
        last = [_score_cp(m) for m in moves[-2 * rules.draw_moves:]]
        if all(s is not None and abs(s) <= rules.draw_score for s in last):
            return "draw", None
    return None


# -- referees ------------------------------------------------------------------------------------------
@dataclass
class GameSetup:
    """What a referee needs besides the two players."""

    number: int
    pair: int
    opening: Opening
    engine_of_side: tuple[int, int]
    adjudication: Adjudication
    margin: float = 0.1          #: seconds over the clock tolerated (pipe latency)
    move_timeout: float = 60.0   #: seconds per move when no clock bounds it


def _timeout_for(player: Player, clock: Clock, setup: GameSetup) -> float:
    lim = player.limits
    if lim.tc.clocked:
        return clock.available() + setup.margin
    if lim.movetime is not None:
        return lim.movetime + setup.margin + min(setup.move_timeout, 5.0 + lim.movetime)
    return setup.move_timeout


_SIDE_NAMES = {"chess": ("White", "Black"), "shogi": ("Sente", "Gote")}


def _finish(rec: GameRecord, winner_side: int | None, reason: str, termination: str) -> GameRecord:
    rec.winner_side = winner_side
    rec.reason = reason
    rec.termination = termination
    if winner_side is None:
        rec.result = "1/2-1/2"
    else:
        # PGN/CSA results are from the first side's (White/Sente) view
        first_won = winner_side == 0
        rec.result = "1-0" if first_won else "0-1"
    return rec


def _failure_result(rec: GameRecord, side: int, names: tuple[str, str], exc: EngineFailure) -> GameRecord:
    what = {"crash": "crashed", "time": "loses on time", "illegal": "makes an illegal move",
            "protocol": "breaks the protocol"}[exc.kind]
    term = {"crash": "abandoned", "time": "time forfeit", "illegal": "rules infraction",
            "protocol": "rules infraction"}[exc.kind]
    return _finish(rec, 1 - side, f"{names[side]} {what}: {exc}", term)


def play_chess_game(players: tuple[UciPlayer, UciPlayer], setup: GameSetup) -> GameRecord:
    """Play one chess game; ``players[0]`` is White. Failures lose, they never raise."""
    import chess

    op = setup.opening
    board = chess.Board(op.fen or chess.STARTING_FEN)
    rec = GameRecord(setup.number, setup.pair, (players[0].name, players[1].name), setup.engine_of_side, op,
                     start_time=datetime.datetime.now().strftime("%Y.%m.%d %H:%M:%S"))
    for m in op.moves:
        board.push_uci(m)
        rec.moves.append(MoveRecord(m, 0.0, book=True))
    # side 0 = White; clocks indexed by colour
    clocks = (Clock(players[0].limits.tc), Clock(players[1].limits.tc))
    names = ("White", "Black")
    game_id = object()
    while True:
        outcome = board.outcome(claim_draw=True)
        if outcome is not None:
            return _chess_outcome(rec, outcome)
        side = 0 if board.turn == chess.WHITE else 1
        player = players[side]
        try:
            ans = player.play(board, clocks, game_id, _timeout_for(player, clocks[side], setup))
        except EngineFailure as exc:
            player.kill()
            return _failure_result(rec, side, names, exc)
        if player.limits.tc.clocked and not clocks[side].spend(ans.seconds, setup.margin):
            return _finish(rec, 1 - side, f"{names[side]} loses on time ({ans.seconds:.3f} s)", "time forfeit")
        if ans.move == "resign":
            return _finish(rec, 1 - side, f"{names[side]} resigns", "normal")
        if ans.move is None:
            return _finish(rec, 1 - side, f"{names[side]} sent no move in a position with legal moves",
                           "rules infraction")
        move = chess.Move.from_uci(ans.move)
        if move not in board.legal_moves:  # python-chess checks already; belt and braces
            return _finish(rec, 1 - side, f"{names[side]} makes an illegal move: {ans.move}", "rules infraction")
        board.push(move)
        rec.moves.append(MoveRecord(ans.move, ans.seconds, ans.score_cp, ans.mate, ans.depth))
        verdict = adjudicate(rec.moves, setup.adjudication, board.fullmove_number)
        if verdict is not None:
            kind, _ = verdict
            if kind == "resign":
                return _finish(rec, 1 - side, f"{names[side]} resigns (adjudication by score)", "adjudication")
            return _finish(rec, None, "Draw by adjudication (scores)", "adjudication")
        if setup.adjudication.max_moves and board.fullmove_number > setup.adjudication.max_moves:
            return _finish(rec, None, f"Draw by adjudication (move {setup.adjudication.max_moves} reached)",
                           "adjudication")


def _chess_outcome(rec: GameRecord, outcome) -> GameRecord:  # noqa: ANN001
    import chess

    t = outcome.termination
    if t == chess.Termination.CHECKMATE:
        winner = 0 if outcome.winner == chess.WHITE else 1
        return _finish(rec, winner, f"{('White', 'Black')[winner]} mates", "normal")
    text = {
        chess.Termination.STALEMATE: "Draw by stalemate",
        chess.Termination.INSUFFICIENT_MATERIAL: "Draw by insufficient mating material",
        chess.Termination.SEVENTYFIVE_MOVES: "Draw by 75-move rule",
        chess.Termination.FIVEFOLD_REPETITION: "Draw by fivefold repetition",
        chess.Termination.FIFTY_MOVES: "Draw by fifty moves rule",
        chess.Termination.THREEFOLD_REPETITION: "Draw by 3-fold repetition",
    }.get(t, f"Game over: {t.name.lower()}")
    return _finish(rec, None, text, "normal")


def _shogi_position_key(board) -> str:  # noqa: ANN001
    return board.sfen().rsplit(" ", 1)[0]


def play_shogi_game(players: tuple[UsiPlayer, UsiPlayer], setup: GameSetup) -> GameRecord:
    """Play one shogi game; ``players[0]`` moves first from the start position (usually Sente).

    Rules the referee applies: no legal move loses (mate), ``bestmove resign`` loses,
    ``bestmove win`` wins with a valid entering-king declaration and loses otherwise, the
    fourth occurrence of a position is sennichite (a draw, or a loss for the side that gave
    check on every move of the cycle), and ``max_moves`` plies end in a draw.
    """
    import cshogi

    op = setup.opening
    board = cshogi.Board(op.fen) if op.fen else cshogi.Board()
    first_turn = board.turn  # 0 = black (sente)
    rec = GameRecord(setup.number, setup.pair, (players[0].name, players[1].name), setup.engine_of_side, op,
                     start_time=datetime.datetime.now().strftime("%Y/%m/%d %H:%M:%S"), start_side=first_turn)
    base = f"position sfen {op.fen}" if op.fen else "position startpos"
    played: list[str] = []
    seen: dict[str, list[int]] = {_shogi_position_key(board): [0]}
    gave_check: list[bool] = []
    for m in op.moves:
        board.push(board.move_from_usi(m))
        played.append(m)
        gave_check.append(bool(board.is_check()))
        seen.setdefault(_shogi_position_key(board), []).append(len(played))
        rec.moves.append(MoveRecord(m, 0.0, book=True))
    # side index 0 = the player who moves first from the start position
    side_of_turn = {first_turn: 0, 1 - first_turn: 1}
    colour_names = ("Sente", "Gote")
    names = (colour_names[first_turn], colour_names[1 - first_turn])
    # clocks by player side; USI wants them by colour (btime = sente)
    clocks = (Clock(players[0].limits.tc), Clock(players[1].limits.tc))
    for p in players:
        try:
            p.new_game()
        except EngineFailure as exc:
            p.kill()
            side = players.index(p)
            _send_gameover(players, None)
            return _failure_result(rec, side, names, exc)
    max_plies = setup.adjudication.max_moves
    while True:
        side = side_of_turn[board.turn]
        if board.is_game_over():
            _send_gameover(players, 1 - side)
            return _finish(rec, 1 - side, f"{names[1 - side]} mates", "normal")
        player = players[side]
        by_colour = (clocks[side_of_turn[0]], clocks[side_of_turn[1]])  # (sente, gote)
        position = base + (" moves " + " ".join(played) if played else "")
        try:
            ans = player.play(position, by_colour, _timeout_for(player, clocks[side], setup))
        except EngineFailure as exc:
            player.kill()
            _send_gameover(players, 1 - side)
            return _failure_result(rec, side, names, exc)
        if player.limits.tc.clocked and not clocks[side].spend(ans.seconds, setup.margin):
            _send_gameover(players, 1 - side)
            return _finish(rec, 1 - side, f"{names[side]} loses on time ({ans.seconds:.3f} s)", "time forfeit")
        if ans.move == "resign":
            _send_gameover(players, 1 - side)
            return _finish(rec, 1 - side, f"{names[side]} resigns", "normal")
        if ans.move == "win":
            if board.is_nyugyoku():
                _send_gameover(players, side)
                return _finish(rec, side, f"{names[side]} wins by entering-king declaration", "normal")
            _send_gameover(players, 1 - side)
            return _finish(rec, 1 - side, f"{names[side]} declares an entering-king win without the points",
                           "rules infraction")
        mv = board.move_from_usi(ans.move) if ans.move else 0
        if not mv or not board.is_legal(mv):
            _send_gameover(players, 1 - side)
            return _finish(rec, 1 - side, f"{names[side]} makes an illegal move: {ans.move}", "rules infraction")
        board.push(mv)
        played.append(ans.move)
        gave_check.append(bool(board.is_check()))
        rec.moves.append(MoveRecord(ans.move, ans.seconds, ans.score_cp, ans.mate, ans.depth))
        occ = seen.setdefault(_shogi_position_key(board), [])
        occ.append(len(played))
        if len(occ) >= 4:
            cycle = range(occ[-2], occ[-1])  # plies of the last cycle (indices into gave_check)
            for s in (0, 1):
                # plies of side s in the cycle: ply index i was played by side (i + first mover) parity
                mine = [gave_check[i] for i in cycle if (i % 2 == 0) == (s == 0)]
                if mine and all(mine):
                    _send_gameover(players, 1 - s)
                    return _finish(rec, 1 - s, f"{names[s]} loses by perpetual check", "normal")
            _send_gameover(players, None)
            return _finish(rec, None, "Draw by sennichite (fourfold repetition)", "normal")
        verdict = adjudicate(rec.moves, setup.adjudication, len(played) // 2 + 1)
        if verdict is not None:
            kind, _ = verdict
            if kind == "resign":
                _send_gameover(players, 1 - side)
                return _finish(rec, 1 - side, f"{names[side]} resigns (adjudication by score)", "adjudication")
            _send_gameover(players, None)
            return _finish(rec, None, "Draw by adjudication (scores)", "adjudication")
        if max_plies and len(played) >= max_plies:
            _send_gameover(players, None)
            return _finish(rec, None, f"Draw by adjudication ({max_plies} plies reached)", "adjudication")


def _send_gameover(players: tuple[UsiPlayer, UsiPlayer], winner_side: int | None) -> None:
    for s, p in enumerate(players):
        p.game_over("draw" if winner_side is None else ("win" if s == winner_side else "lose"))


class GtpPlayer(Player):
    """A GTP engine through :class:`bench.gtp_referee.GtpClient`."""

    def __init__(self, *a, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*a, **kw)
        self.client = None
        self.reply_timeout = 60.0

    def ensure_started(self) -> None:
        """Start the process (again, if it died) and read its name."""
        from .gtp_referee import EngineFailure as GtpFailure
        from .gtp_referee import GtpClient

        if self.client is not None:
            if self.client.proc.poll() is None:
                return
            self.kill()
        if self.spec.cwd or self.spec.options:
            raise MatchError(f"{self.name}: GTP engines take no dir= or option.*; put them on the command line")
        self.starts += 1
        try:
            self.client = GtpClient(shlex.join(self.spec.cmd), timeout=self.reply_timeout)
        except (OSError, GtpFailure) as exc:
            raise EngineFailure("crash", f"{self.name} did not start: {exc}") from None

    def kill(self) -> None:
        """Stop the process at once (next game restarts it)."""
        if self.client is not None:
            if self.client.proc.poll() is None:
                self.client.proc.kill()
                self.client.proc.wait()
            self.client = None

    def quit(self) -> None:
        """``quit``, then kill if it lingers."""
        if self.client is not None:
            if self.client.proc.poll() is None:
                self.client.close()
            self.client = None


def go_clock(tc: TimeControl) -> tuple[float, float, int] | None:
    """A :class:`TimeControl` as the GTP referee's Canadian clock (main, period, stones)."""
    if not tc.clocked:
        return None
    if tc.inc:
        raise MatchError("GTP clocks have no increment: use --tc BASE with --byoyomi S")
    return (tc.base or 0.0, tc.byoyomi, 1 if tc.byoyomi else 0)


def play_go_game(players: tuple[GtpPlayer, GtpPlayer], setup: GameSetup, scorer, size: int, komi: float,  # noqa: ANN001
                 max_moves: int) -> GameRecord:
    """Play one go game with :func:`bench.gtp_referee.play_game`; ``players[0]`` is Black."""
    from .gtp_referee import EngineFailure as GtpFailure
    from .gtp_referee import play_game

    rec = GameRecord(setup.number, setup.pair, (players[0].name, players[1].name), setup.engine_of_side,
                     setup.opening, start_time=datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"))
    names = ("Black", "White")
    for side, p in enumerate(players):
        try:
            p.reply_timeout = setup.move_timeout
            p.ensure_started()
        except EngineFailure as exc:
            p.kill()
            return _failure_result(rec, side, names, exc)
    clock = go_clock(players[0].limits.tc)
    try:
        g = play_game(players[0].client, players[1].client, scorer, size, komi, max_moves or 3 * size * size, clock)
    except GtpFailure as exc:  # a set-up command or the scorer failed
        dead = [s for s, p in enumerate(players) if p.client is None or p.client.proc.poll() is not None]
        for p in players:
            p.kill()
        if dead:
            return _failure_result(rec, dead[0], names, EngineFailure("crash", str(exc)))
        return _finish(rec, None, f"Game abandoned: {exc}", "abandoned")
    rec.native = g
    rec.moves = [MoveRecord(m, 0.0) for m in g.moves]
    res = g.result.strip()
    tag = res[2:] if res[:2] in ("B+", "W+") else ""
    if res[:2] in ("B+", "W+"):
        winner = 0 if res[0] == "B" else 1
        loser = players[1 - winner]
        term = {"T": "time forfeit", "F": "rules infraction", "R": "normal"}.get(tag, "normal")
        if tag in ("T", "F"):
            loser.kill()  # it may be hung or gone: start afresh
            if "exited" in g.reason or "no reply" in g.reason:
                term = "abandoned"
        return _finish(rec, winner, f"{res}: {g.reason}", term)
    return _finish(rec, None, f"{res or 'no result'}: {g.reason}", "normal")


# -- writers -------------------------------------------------------------------------------------------
def pgn_text(rec: GameRecord, *, event: str = "Tabula match", round_: str | None = None,
             time_control: str = "-") -> str:
    """The game as PGN, with cutechess-style move comments ``{+0.31/12 0.52s}``."""
    import chess
    import chess.pgn

    game = chess.pgn.Game()
    h = game.headers
    h["Event"] = event
    h["Site"] = "?"
    h["Date"] = rec.start_time.split(" ")[0] if rec.start_time else "????.??.??"
    h["Round"] = round_ or str(rec.number)
    h["White"], h["Black"] = rec.players
    h["Result"] = rec.result
    if rec.opening.fen:
        game.setup(chess.Board(rec.opening.fen))
    h["TimeControl"] = time_control
    h["Termination"] = rec.termination
    h["PlyCount"] = str(len(rec.moves))
    node: chess.pgn.GameNode = game
    for m in rec.moves:
        mv = chess.Move.from_uci(m.move)
        if m.book:
            comment = "book"
        else:
            if m.mate is not None:
                ev = f"{'+' if m.mate > 0 else '-'}M{abs(m.mate)}"
            elif m.score_cp is not None:
                ev = f"{m.score_cp / 100:+.2f}"
            else:
                ev = "?"
            comment = f"{ev}/{m.depth or 0} {m.seconds:.3f}s"
        node = node.add_variation(mv, comment=comment)
    node.comment = (node.comment + ", " if node.comment and node is not game else "") + rec.reason
    if node is game:
        game.comment = rec.reason
    exporter = chess.pgn.StringExporter(headers=True, variations=False, comments=True)
    return game.accept(exporter) + "\n\n"


def _csa_end(rec: GameRecord) -> str:
    """The CSA special move that ended the game."""
    t, r = rec.termination, rec.reason
    if t == "time forfeit":
        return "%TIME_UP"
    if t == "rules infraction":
        return "%ILLEGAL_MOVE"
    if t == "abandoned":
        return "%CHUDAN"
    if t == "adjudication":  # CSA has no adjudication; the result is in the comment that follows
        return "%JISHOGI" if "plies reached" in r else "%CHUDAN"
    # special moves are made by the side to move: the mated side resigns, the declarer declares
    for key, code in (("resigns", "%TORYO"), ("mates", "%TORYO"), ("perpetual", "%OUTE_SENNICHITE"),
                      ("sennichite", "%SENNICHITE"), ("declaration", "%KACHI")):
        if key in r:
            return code
    return "%CHUDAN"


def csa_text(rec: GameRecord, *, event: str = "Tabula match", time_control: str = "-") -> str:
    """The game as one CSA record (``V2.2``); records in a file are separated by ``/``."""
    import cshogi

    out = ["V2.2", f"N+{rec.players[rec.start_side]}", f"N-{rec.players[1 - rec.start_side]}",
           f"$EVENT:{event}", f"$START_TIME:{rec.start_time}", f"$TIME_LIMIT:{time_control}"]
    board = cshogi.Board(rec.opening.fen) if rec.opening.fen else cshogi.Board()
    if rec.opening.fen:
        out.append(board.csa_pos().rstrip("\n"))
    else:
        out += ["PI", "+"]
    for m in rec.moves:
        mv = board.move_from_usi(m.move)
        out.append(("+" if board.turn == 0 else "-") + cshogi.move_to_csa(mv))
        out.append(f"T{int(m.seconds)}")
        if m.book:
            out.append("'book")
        elif m.score_cp is not None or m.mate is not None:
            out.append(f"'** {m.score_cp if m.mate is None else ('+' if m.mate > 0 else '-') + 'M' + str(abs(m.mate))}")
        board.push(mv)
    out.append(_csa_end(rec))
    out.append(f"'{rec.result} {rec.reason}")
    return "\n".join(out) + "\n"


def sfen_line(rec: GameRecord) -> str:
    """One line per game: the USI position, then the result and the reason as a comment."""
    base = f"sfen {rec.opening.fen}" if rec.opening.fen else "startpos"
    moves = " ".join(m.move for m in rec.moves)
    return (f"{base}{' moves ' + moves if moves else ''}  # game {rec.number}: {rec.players[0]} vs "
            f"{rec.players[1]} {rec.result} {rec.reason}\n")


# -- the match -------------------------------------------------------------------------------------------
@dataclass
class MatchConfig:
    """Everything a match needs; see ``tabula match --help`` for the meaning of each."""

    game: str
    engines: tuple[EngineSpec, EngineSpec]
    games: int = 2
    openings: list[Opening] = field(default_factory=lambda: [Opening()])
    opening_order: str = "sequential"
    seed: int | None = None
    limits: Limits = Limits()
    concurrency: int = 1
    adjudication: Adjudication = Adjudication()
    sprt: SprtBounds | None = None
    out: str | None = None
    margin: float = 0.1
    move_timeout: float = 60.0
    start_timeout: float = 30.0
    event: str = "Tabula match"
    engine_stderr: bool = False
    go_size: int = 9
    go_komi: float = 7.0
    go_scorer: str | None = None     #: GTP scorer command; None: GNU Go; "": Tromp-Taylor only


@dataclass
class MatchResult:
    """The match's games and statistics (first engine's view)."""

    config: MatchConfig
    games: list[GameRecord]
    tally: Tally
    sprt_llr: float | None = None
    sprt_result: str | None = None
    stopped_early: bool = False
    restarts: tuple[int, int] = (0, 0)
    seconds: float = 0.0

    @property
    def elo(self) -> EloEstimate:
        """Elo with a 95 % interval (pentanomial when pairs were completed)."""
        return self.tally.elo()

    def failures(self) -> dict[str, int]:
        """How many games ended by each kind of failure or adjudication."""
        out: dict[str, int] = {}
        for g in self.games:
            out[g.termination] = out.get(g.termination, 0) + 1
        return out

    def summary(self) -> str:
        """cutechess-cli style text."""
        a, b = (e.name for e in self.config.engines)
        t = self.tally
        n = t.games
        score = (t.wins + t.draws / 2) / n if n else 0.0
        e = self.elo
        kind = "pentanomial" if sum(t.pairs) else "trinomial"
        lines = [f"Score of {a} vs {b}: {t.wins} - {t.losses} - {t.draws}  [{score:.3f}] {n}"]
        if n:
            lines.append(f"Elo difference: {_fmt_elo(e.elo)} +/- {_fmt_elo(e.error)} (95%, {kind}), "
                         f"LOS: {100 * t.los():.1f} %, DrawRatio: {100 * t.draws / n:.1f} %")
        if sum(t.pairs):
            lines.append(f"Ptnml(0-2): [{', '.join(str(x) for x in t.pairs)}]")
        if self.config.sprt is not None and self.sprt_llr is not None:
            s = self.config.sprt
            lines.append(f"SPRT: llr {self.sprt_llr:.3f}, lbound {s.lower:.3f}, ubound {s.upper:.3f} "
                         f"(elo0 {s.elo0:g}, elo1 {s.elo1:g}, alpha {s.alpha:g}, beta {s.beta:g})"
                         + (f" - {self.sprt_result} accepted" if self.sprt_result else ""))
        ends = ", ".join(f"{k} {v}" for k, v in sorted(self.failures().items()))
        lines.append(f"Terminations: {ends}")
        if any(self.restarts):
            lines.append(f"Engine (re)starts beyond the first: {a} {self.restarts[0]}, {b} {self.restarts[1]}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        """Plain data for ``--json``."""
        t, e = self.tally, self.elo
        return {
            "game": self.config.game,
            "engines": [s.name for s in self.config.engines],
            "games": t.games, "wins": t.wins, "losses": t.losses, "draws": t.draws,
            "pentanomial": list(t.pairs),
            "elo": _json_num(e.elo), "elo_lo": _json_num(e.lo), "elo_hi": _json_num(e.hi),
            "los": t.los(),
            "sprt": None if self.config.sprt is None else {
                "elo0": self.config.sprt.elo0, "elo1": self.config.sprt.elo1, "alpha": self.config.sprt.alpha,
                "beta": self.config.sprt.beta, "llr": self.sprt_llr, "lower": self.config.sprt.lower,
                "upper": self.config.sprt.upper, "result": self.sprt_result},
            "stopped_early": self.stopped_early,
            "terminations": self.failures(),
            "restarts": list(self.restarts),
            "seconds": round(self.seconds, 2),
            "results": [{"game": g.number, "pair": g.pair, **side_names(g, self.config.game),
                         "result": g.result, "reason": g.reason, "termination": g.termination,
                         "plies": len(g.moves)} for g in self.games],
        }


def side_names(rec: GameRecord, game: str) -> dict[str, str]:
    """Who played which colour: ``{"white": …, "black": …}`` (chess, go) or ``{"sente": …, "gote": …}``."""
    if game == "chess":
        return {"white": rec.players[0], "black": rec.players[1]}
    if game == "go":
        return {"black": rec.players[0], "white": rec.players[1]}
    return {"sente": rec.players[rec.start_side], "gote": rec.players[1 - rec.start_side]}


def _fmt_elo(x: float) -> str:
    if x != x:  # nan
        return "nan"
    return "inf" if x == float("inf") else ("-inf" if x == float("-inf") else f"{x + 0.0:.1f}".replace("-0.0", "0.0"))


def _json_num(x: float) -> float | None:
    return None if x in (float("inf"), float("-inf")) else round(x, 2)


GameCallback = Callable[[GameRecord, "MatchResult"], None]


def run_match(cfg: MatchConfig, on_game: GameCallback | None = None) -> MatchResult:
    """Play the match; ``on_game`` is called (under a lock) after each finished game."""
    if cfg.game not in GAMES:
        raise MatchError(f"match supports {', '.join(GAMES)} (go over GTP is not wired in yet), not {cfg.game!r}")
    for spec in cfg.engines:
        want = PROTOCOL_OF_GAME[cfg.game]
        if spec.proto and spec.proto != want:
            raise MatchError(f"{spec.name}: {cfg.game} is played over {want}, not {spec.proto}")
    if cfg.games < 1:
        raise MatchError("a match needs at least one game")
    if cfg.game == "go":
        if cfg.limits.nodes is not None or cfg.limits.movetime is not None or cfg.limits.depth is not None or \
                any(s.nodes is not None or s.movetime is not None or s.depth is not None for s in cfg.engines):
            raise MatchError("GTP has no node/time-per-move/depth limits: set them on the engine's command "
                             "line (e.g. tabula gtp --visits N) or give a clock with --tc/--byoyomi")
        go_clock(cfg.limits.tc)
    ops = list(cfg.openings) or [Opening()]
    if cfg.opening_order == "random":
        random.Random(cfg.seed).shuffle(ops)
    tasks = []
    for g in range(cfg.games):
        pair = g // 2
        swap = g % 2 == 1
        tasks.append(GameSetup(g + 1, pair, ops[pair % len(ops)], (1, 0) if swap else (0, 1),
                               cfg.adjudication, cfg.margin, cfg.move_timeout))
    pending: "queue.Queue[GameSetup]" = queue.Queue()
    for t in tasks:
        pending.put(t)
    result = MatchResult(cfg, [], Tally())
    lock = threading.Lock()
    stop = threading.Event()
    pair_scores: dict[int, list[float]] = {}
    starts = [0, 0]
    errors: list[BaseException] = []
    player_cls = {"chess": UciPlayer, "shogi": UsiPlayer, "go": GtpPlayer}[cfg.game]
    stderr = None if cfg.engine_stderr else subprocess.DEVNULL
    limits = [limits_for(s, cfg.limits) for s in cfg.engines]
    t_start = time.monotonic()

    # fail fast when an engine cannot start at all; these processes then play on board 1
    first_players: list[Player] = []
    for i, spec in enumerate(cfg.engines):
        p = player_cls(spec, limits[i], start_timeout=cfg.start_timeout, stderr=stderr)
        try:
            p.ensure_started()
        except EngineFailure as exc:
            for q in first_players:
                q.quit()
            raise MatchError(str(exc)) from None
        first_players.append(p)

    def record(rec: GameRecord) -> None:
        with lock:
            result.games.append(rec)
            s = rec.score_first_engine
            result.tally.add_game(s)
            ps = pair_scores.setdefault(rec.pair, [])
            ps.append(s)
            paired = sum(1 for t in tasks if t.pair == rec.pair)
            if len(ps) == 2 and paired == 2:
                result.tally.add_pair(ps[0], ps[1])
            if cfg.sprt is not None:
                result.sprt_llr = result.tally.llr(cfg.sprt)
                decision = sprt_decision(result.sprt_llr, cfg.sprt)
                if decision and not result.sprt_result:
                    result.sprt_result = decision
                    if len(result.games) < cfg.games:
                        result.stopped_early = True
                    stop.set()
            if cfg.out:
                _append_record(cfg, rec, limits)
            if on_game is not None:
                on_game(rec, result)

    def worker(players: list[Player] | None) -> None:
        if players is None:
            players = [player_cls(s, limits[i], start_timeout=cfg.start_timeout, stderr=stderr)
                       for i, s in enumerate(cfg.engines)]
        scorer = None
        try:
            if cfg.game == "chess":
                play: Callable = play_chess_game
            elif cfg.game == "shogi":
                play = play_shogi_game
            else:
                from .gtp_referee import SCORER, GtpClient

                cmd = SCORER if cfg.go_scorer is None else cfg.go_scorer
                if cmd:
                    scorer = GtpClient(cmd, timeout=max(cfg.move_timeout, 60.0))

                def play(sp, st):  # noqa: ANN001, ANN202
                    return play_go_game(sp, st, scorer, cfg.go_size, cfg.go_komi, cfg.adjudication.max_moves)
            while not stop.is_set():
                try:
                    setup = pending.get_nowait()
                except queue.Empty:
                    return
                side_players = (players[setup.engine_of_side[0]], players[setup.engine_of_side[1]])
                rec = play(side_players, setup)  # type: ignore[arg-type]
                record(rec)
        except BaseException as exc:  # noqa: BLE001 - reported after the match
            errors.append(exc)
            stop.set()
        finally:
            for i, p in enumerate(players):
                with lock:
                    starts[i] += max(0, p.starts - 1)
                p.quit()
            if scorer is not None:
                scorer.close()

    if cfg.out:
        Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.out).write_text("")
    n_workers = max(1, min(cfg.concurrency, cfg.games))
    threads = [threading.Thread(target=worker, args=(first_players if i == 0 else None,), name=f"match-{i}",
                                daemon=True) for i in range(n_workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        exc = errors[0]
        from .gtp_referee import EngineFailure as GtpFailure

        if isinstance(exc, (EngineFailure, GtpFailure, OSError)):
            raise MatchError(f"{type(exc).__name__}: {exc}") from exc
        raise exc
    result.games.sort(key=lambda g: g.number)
    result.restarts = (starts[0], starts[1])
    result.seconds = time.monotonic() - t_start
    if cfg.sprt is not None and result.sprt_llr is None:
        result.sprt_llr = result.tally.llr(cfg.sprt)
    return result


def _append_record(cfg: MatchConfig, rec: GameRecord, limits: Sequence[Limits]) -> None:
    path = Path(cfg.out)  # type: ignore[arg-type]
    tc = limits[rec.engine_of_side[0]].tc.describe()
    if cfg.game == "chess":
        text = pgn_text(rec, event=cfg.event, time_control=tc)
    elif cfg.game == "go":
        from .gtp_referee import sgf

        text = sgf(rec.native, cfg.go_size, cfg.go_komi) if rec.native is not None else ""
    elif path.suffix.lower() == ".csa":
        text = ("/\n" if path.stat().st_size else "") + csa_text(rec, event=cfg.event, time_control=tc)
    else:
        text = sfen_line(rec)
    with path.open("a") as f:
        f.write(text)
