"""The USI engine client (shogi): a small process-and-pipe client (cshogi's runs engines without arguments)."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from typing import Callable, Sequence

from .errors import EngineFailure
from .player import MoveAnswer, Player
from .records import Clock


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
