"""A GTP referee: two GTP engines play each other, a neutral GNU Go scores the games.

Colours alternate (engine A takes Black in odd games). Every move is checked with
our own rules (:class:`engine.games.go.GoState`: positional superko, no suicide);
an illegal move, a reply that is not a vertex, a crash or a flag loses the game.
After two passes (or ``--max-moves``) the scorer — ``gnugo --mode gtp
--chinese-rules`` by default, with dead-stone removal — gives ``final_score``. Each
game is written as SGF and a JSON summary is printed::

    python -m tabula.bench.gtp_referee --size 9 --games 2 --sgf-dir /tmp/games \\
        -a "tabula gtp --net go9.onnx --visits 200" -b "/usr/games/gnugo --mode gtp --level 0"

With ``--time MAIN BYO STONES`` both engines get ``time_settings`` (Canadian
byo-yomi), ``time_left`` before each move, and the referee enforces the clock.
"""

from __future__ import annotations

import argparse
import json
import queue
import shlex
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from tabula.engine.games.go import BLACK, WHITE, GoState, parse_vertex, vertex

from .match.errors import EngineFailure
from .match.writers import sgf_text

SCORER = "/usr/games/gnugo --mode gtp --chinese-rules"


class GtpClient:
    """One GTP engine in a subprocess; ``send`` returns the reply text or raises."""

    def __init__(self, command: str, timeout: float = 120.0) -> None:
        self.command, self.timeout = command, timeout
        self.proc = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.name = f"{self.send('name')} {self.send('version')}".strip()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.put(line.rstrip("\r\n"))
        self.lines.put(None)

    def send(self, cmd: str, timeout: float | None = None) -> str:
        try:
            self.proc.stdin.write(cmd + "\n")  # type: ignore[union-attr]
            self.proc.stdin.flush()  # type: ignore[union-attr]
        except OSError as exc:
            raise EngineFailure("crash", f"{self.command}: cannot send {cmd!r}: {exc}") from None
        deadline = time.monotonic() + (timeout or self.timeout)
        reply: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise EngineFailure("time", f"{self.command}: no reply to {cmd!r} in time") from None
            if line is None:
                raise EngineFailure("crash", f"{self.command}: exited while answering {cmd!r}")
            if not reply and not line.strip():
                continue
            if reply and not line.strip():
                break
            reply.append(line)
        head = reply[0]
        text = "\n".join([head[1:].lstrip("0123456789").strip(), *reply[1:]]).strip()
        if head.startswith("?"):
            raise EngineFailure("protocol", f"{self.command}: {cmd!r} failed: {text}")
        return text

    def close(self) -> None:
        try:
            self.send("quit", timeout=5)
        except EngineFailure:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Game:
    """One game's record and result."""

    black: str
    white: str
    moves: list[str] = field(default_factory=list)
    result: str = ""
    reason: str = ""
    winner: str = ""  # "a", "b" or "" (jigo / no result)
    seconds: dict[str, float] = field(default_factory=lambda: {"B": 0.0, "W": 0.0})


def play_game(black: GtpClient, white: GtpClient, scorer: GtpClient | None, size: int, komi: float,
              max_moves: int, clock: tuple[float, float, int] | None, opening: Sequence[str] = ()) -> Game:
    """Play one game; the result is ``B+3.5`` style, ``B+R`` (resign), ``B+T`` (time), ``B+F`` (forfeit).

    ``opening``: vertices played first, alternately from Black, sent to both engines with
    ``play`` (off the clock; they count towards ``max_moves`` and are part of the record)."""
    game = Game(black.name, white.name)
    players = {BLACK: black, WHITE: white}
    state = GoState(size, komi)
    left = {c: [clock[0], 0] if clock else None for c in (BLACK, WHITE)}
    for p in players.values():
        for cmd in (f"boardsize {size}", "clear_board", f"komi {komi:g}"):
            p.send(cmd)
        if clock:
            p.send(f"time_settings {clock[0]:g} {clock[1]:g} {clock[2]}")
    for text in opening:
        move = parse_vertex(text, size)
        word = "bw"[state.turn]
        state.push(move)
        game.moves.append(vertex(move, size))
        for p in players.values():
            p.send(f"play {word} {vertex(move, size)}")

    def lose(colour: int, tag: str, why: str) -> Game:
        game.result, game.reason = f"{'BW'[1 - colour]}+{tag}", why
        return game

    while len(game.moves) < max_moves and state.consecutive_passes < 2:
        c = state.turn
        me, other = players[c], players[1 - c]
        word = "bw"[c]
        try:
            if clock:
                me.send(f"time_left {word} {max(0, int(left[c][0]))} {left[c][1]}")
            t0 = time.monotonic()
            reply = me.send(f"genmove {word}")
            spent = time.monotonic() - t0
        except EngineFailure as exc:
            return lose(c, "F", str(exc))
        game.seconds["BW"[c]] += spent
        if clock:
            t, stones = left[c]
            t -= spent
            if stones == 0 and t < 0:  # main time over: the overflow counts in the first period
                t, stones = clock[1] + t, clock[2]
            if t < 0:
                return lose(c, "T", f"{me.name} overstepped the clock by {-t:.2f} s")
            if stones > 0:
                stones -= 1
                if stones == 0:
                    t, stones = clock[1], clock[2]
            left[c] = [t, stones]
        if reply.lower() == "resign":
            return lose(c, "R", f"{me.name} resigned")
        try:
            move = parse_vertex(reply, size)
            if not state.is_legal(move):
                raise ValueError("illegal")
        except ValueError:
            return lose(c, "F", f"{me.name} played an illegal move {reply!r}")
        state.push(move)
        game.moves.append(vertex(move, size))
        try:
            other.send(f"play {word} {vertex(move, size)}")
        except EngineFailure as exc:
            return lose(1 - c, "F", str(exc))
    own = state.score_text()
    if scorer is not None:
        for cmd in (f"boardsize {size}", "clear_board", f"komi {komi:g}"):
            scorer.send(cmd)
        for i, m in enumerate(game.moves):
            scorer.send(f"play {'bw'[i % 2]} {m}")
        game.result = scorer.send("final_score", timeout=300)
        game.reason = f"scored by {scorer.name} (Tromp-Taylor of the final board: {own})"
    else:
        game.result, game.reason = own, "Tromp-Taylor score of the final board"
    return game


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description="Play two GTP engines against each other.")
    ap.add_argument("-a", "--engine-a", required=True, help="command line of engine A")
    ap.add_argument("-b", "--engine-b", required=True, help="command line of engine B")
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--komi", type=float, default=7.0)
    ap.add_argument("--games", type=int, default=2)
    ap.add_argument("--max-moves", type=int, default=0, help="stop and score after this many (default 3·N²)")
    ap.add_argument("--scorer", default=SCORER, help="GTP scorer command ('' for Tromp-Taylor only)")
    ap.add_argument("--time", nargs=3, type=float, metavar=("MAIN", "BYO", "STONES"), default=None,
                    help="Canadian time control in seconds, enforced by the referee")
    ap.add_argument("--sgf-dir", type=Path, default=None)
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds an engine may take per reply")
    a = ap.parse_args(argv)
    clock = (a.time[0], a.time[1], int(a.time[2])) if a.time else None
    engines = {"a": GtpClient(a.engine_a, a.timeout), "b": GtpClient(a.engine_b, a.timeout)}
    scorer = GtpClient(a.scorer, a.timeout) if a.scorer else None
    games: list[Game] = []
    try:
        for g in range(a.games):
            first, second = ("a", "b") if g % 2 == 0 else ("b", "a")
            game = play_game(engines[first], engines[second], scorer, a.size, a.komi,
                             a.max_moves or 3 * a.size * a.size, clock)
            if game.result[:2] in ("B+", "W+"):
                game.winner = first if game.result[0] == "B" else second
            games.append(game)
            if a.sgf_dir:
                a.sgf_dir.mkdir(parents=True, exist_ok=True)
                (a.sgf_dir / f"game{g + 1:03d}.sgf").write_text(sgf_text(game, a.size, a.komi), encoding="utf-8")
            print(f"game {g + 1}: B {game.black} vs W {game.white}: {game.result} "
                  f"({len(game.moves)} moves; {game.reason})", flush=True)
    finally:
        for e in (*engines.values(), *([scorer] if scorer else [])):
            e.close()
    summary = {
        "engine_a": engines["a"].name, "engine_b": engines["b"].name, "size": a.size, "komi": a.komi,
        "games": len(games), "wins_a": sum(g.winner == "a" for g in games),
        "wins_b": sum(g.winner == "b" for g in games), "results": [asdict(g) for g in games],
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "results"}))
    return summary


if __name__ == "__main__":
    main()
