"""Generate 9×9 go training data by distilling GNU Go (run as a GTP subprocess).

GNU Go (``--chinese-rules``, komi 7, a low ``--level`` for throughput) plays against
itself. Each game opens with a few uniformly random legal moves (``--random-plies``,
never filling a one-point eye of one's own), then for ``--sample-plies`` more plies the
move is drawn from a softmax over GNU Go's ``top_moves`` valuations (``--sample-temp``
points), and after that GNU Go's own choice is played. At every position the teacher is
asked with ``reg_genmove`` (its move, not played) and ``top_moves`` (up to 10 candidates
with GNU Go's move values in points). Moves are checked and played on our
:class:`~engine.games.go.GoState` (positional superko, no suicide) and mirrored to GNU Go
with ``play``. The game ends after two passes, a resignation or ``--max-plies``; the
result is GNU Go's ``final_score`` (Chinese area scoring with its dead-stone analysis).
The first occurrence of each position (``GoState.key()``: last 8 boards, side to move)
is recorded. Planes are not stored: :mod:`nets.train_go` encodes them with the go codec.

Shards are written atomically (one per ``--games-per-shard`` games), seeded from
``--seed`` and the shard index; a restart skips finished shards::

    nice -n 10 python -m tabula.nets.distill_go --out data/distill/go9 --shards 100

Shard arrays (P positions, G games, K = 10):

Move codes are uint8 up to 15×15 and uint16 above (19×19 has 362 codes); padding is the dtype's
maximum (255 or 65535).

* ``game_moves`` uint8 [sum plies]: :class:`GoState` move codes (``row*N + col``, row 0 =
  GTP row 1, pass = N², which is the go codec's policy index), ``game_offsets`` int64
  [G+1], ``game_result`` int8 [G] (+1 Black won, 0 jigo, −1 White won),
  ``game_margin`` float32 [G] (Black's lead by ``final_score``; NaN after a resignation).
* ``pos_game`` int32, ``pos_ply`` int16, ``pos_key`` uint64 [P];
  ``teacher_move`` uint8 [P] (GNU Go's ``reg_genmove``; pass = N²);
  ``top_moves`` uint8 [P,K] (padding: see above), ``top_values`` float32 [P,K], ``top_count`` uint8;
  ``result_stm`` int8 and ``margin_stm`` float32 [P]: the game's result / margin for the
  side to move.
* ``meta``: JSON with the settings, board size, komi and the teacher's id.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .shard_store import write_shard
from .shards import EngineTeacher, distill, settings_from, shard_parser

from tabula.engine.games.go import GoState, parse_vertex, vertex

TOP_K = 10
PAD = -1  # top_moves padding while collecting; written as the move dtype's maximum


@dataclass
class Settings:
    """Generation settings (also written into every shard's ``meta``)."""

    engine: str = "/usr/games/gnugo"
    level: int = 1
    size: int = 9
    komi: float = 7.0
    random_plies: tuple[int, int] = (1, 6)
    sample_plies: int = 12
    sample_temp: float = 1.5
    max_plies: int = 200
    seed: int = 1
    games_per_shard: int = 100


def move_dtype(size: int) -> type:
    """The smallest unsigned dtype holding every move code of a ``size``×``size`` board and a pad."""
    return np.uint8 if size * size + 1 < 255 else np.uint16


class GtpTeacher:
    """A minimal GTP driver for GNU Go."""

    def __init__(self, s: Settings) -> None:
        args = [s.engine, "--mode", "gtp", "--level", str(s.level), "--chinese-rules",
                "--boardsize", str(s.size), "--komi", f"{s.komi:g}"]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.size = s.size
        self.name = f"{self.cmd('name')} {self.cmd('version')} (level {s.level}, chinese rules, komi {s.komi:g})"

    def cmd(self, c: str) -> str:
        """Send one command; return the response text (raises on ``?``)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(c + "\n")
        self.proc.stdin.flush()
        lines: list[str] = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the teacher engine exited")
            line = line.rstrip("\n")
            if not line.strip():
                if lines:
                    break
                continue
            lines.append(line)
        text = "\n".join(lines)
        if text.startswith("?"):
            raise RuntimeError(f"GTP {c!r}: {text}")
        return text[1:].strip()

    def code(self, v: str) -> int:
        """GTP vertex → our move code (pass = N²)."""
        return parse_vertex(v, self.size)

    def top_moves(self) -> tuple[list[int], list[float]]:
        """``top_moves`` after the last (reg_)genmove: codes and values, best first."""
        tok = self.cmd("top_moves").split()
        moves = [self.code(v) for v in tok[0::2]][:TOP_K]
        return moves, [float(x) for x in tok[1::2]][:TOP_K]

    def quit(self) -> None:
        """Stop the engine process."""
        try:
            self.cmd("quit")
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - best effort
            self.proc.kill()


def random_move(rng: random.Random, st: GoState) -> int:
    """A uniformly random legal non-pass move that does not fill a one-point eye of the mover."""
    board, me, n = st.board_list(), st.turn + 1, st.size
    cand = []
    for m in st.legal_moves():
        if m == st.PASS:
            continue
        r, c = divmod(m, n)
        nb = [board[q] for q in ((r - 1) * n + c if r else -1, (r + 1) * n + c if r < n - 1 else -1,
                                 m - 1 if c else -1, m + 1 if c < n - 1 else -1) if q >= 0]
        if not all(v == me for v in nb):
            cand.append(m)
    return rng.choice(cand) if cand else st.PASS


def parse_score(text: str) -> float:
    """``B+3.0`` / ``W+2.0`` / ``0`` → Black's lead."""
    t = text.strip().upper()
    if t in ("0", "DRAW", "JIGO"):
        return 0.0
    lead = float(t[2:]) if len(t) > 2 else 0.0
    return lead if t.startswith("B") else -lead


class ShardWriter:
    """Accumulates games and positions of one shard and writes them as one npz."""

    def __init__(self) -> None:
        self.games: list[tuple[list[int], int, float]] = []
        self.pos: dict[str, list] = {n: [] for n in ("game", "ply", "key", "teacher", "moves", "values",
                                                     "count", "turn")}

    def add_position(self, game: int, st: GoState, teacher: int, moves: list[int], values: list[float]) -> None:
        p = self.pos
        p["game"].append(game)
        p["ply"].append(st.ply)
        p["key"].append(st.key())
        p["teacher"].append(teacher)
        p["moves"].append(moves + [PAD] * (TOP_K - len(moves)))
        p["values"].append(values + [0.0] * (TOP_K - len(values)))
        p["count"].append(len(moves))
        p["turn"].append(st.turn)

    def save(self, path: Path, meta: dict) -> None:
        """Write atomically: a temp file renamed into place."""
        write_shard(path, self.arrays(meta))

    def arrays(self, meta: dict) -> dict[str, np.ndarray]:
        """The shard's arrays (see the module's docstring)."""
        p = self.pos
        result = np.asarray([g[1] for g in self.games], np.int8)
        margin = np.asarray([g[2] for g in self.games], np.float32)
        pos_game = np.asarray(p["game"], np.int32)
        sign = np.where(np.asarray(p["turn"], np.int8) == 0, 1, -1)
        offsets = np.zeros(len(self.games) + 1, np.int64)
        offsets[1:] = np.cumsum([len(g[0]) for g in self.games])
        n = int(meta["board_size"])
        mdt = move_dtype(n)
        top = np.asarray(p["moves"], np.int64).reshape(-1, TOP_K)
        top[top == PAD] = np.iinfo(mdt).max
        arrays = dict(
            game_moves=np.asarray([m for g in self.games for m in g[0]], mdt), game_offsets=offsets,
            game_result=result, game_margin=margin, pos_game=pos_game,
            pos_ply=np.asarray(p["ply"], np.int16), pos_key=np.asarray(p["key"], np.uint64),
            teacher_move=np.asarray(p["teacher"], mdt),
            top_moves=top.astype(mdt),
            top_values=np.asarray(p["values"], np.float32).reshape(-1, TOP_K),
            top_count=np.asarray(p["count"], np.uint8),
            result_stm=(result[pos_game] * sign).astype(np.int8),
            margin_stm=(margin[pos_game] * sign).astype(np.float32), meta=np.asarray(json.dumps(meta)),
        )
        return arrays


def play_game(eng: GtpTeacher, rng: random.Random, s: Settings, seen: set[int], writer: ShardWriter,
              game_idx: int) -> tuple[int, int]:
    """Play one game; returns (positions recorded, plies)."""
    eng.cmd("clear_board")
    st = GoState(s.size, s.komi)
    n_random = rng.randint(*s.random_plies)
    moves: list[int] = []
    recorded = 0
    resigned: int | None = None  # colour (0/1) that resigned
    while st.consecutive_passes < 2 and st.ply < s.max_plies:
        colour = "black" if st.turn == 0 else "white"
        reply = eng.cmd(f"reg_genmove {colour}")
        if reply.lower() == "resign":
            resigned = st.turn
            break
        teacher = eng.code(reply)
        top, values = eng.top_moves()
        if not top:
            top, values = [teacher], [0.0]
        key = st.key()
        if key not in seen:
            seen.add(key)
            writer.add_position(game_idx, st, teacher, top, values)
            recorded += 1
        if st.ply < n_random:
            move = random_move(rng, st)
        elif st.ply < n_random + s.sample_plies and len(top) > 1:
            best = values[0]
            w = [math.exp(max(-50.0, (v - best) / s.sample_temp)) for v in values]
            move = rng.choices(top, weights=w)[0]
        else:
            move = teacher
        if not st.is_legal(move):  # GNU Go's ko rule is looser than positional superko
            move = teacher if st.is_legal(teacher) else st.PASS
        eng.cmd(f"play {colour} {vertex(move, s.size)}")
        st.push(move)
        moves.append(move)
    if resigned is not None:
        margin = math.nan
        result = 1 if resigned == 1 else -1
    else:
        margin = parse_score(eng.cmd("final_score"))
        result = (margin > 0) - (margin < 0)
    writer.games.append((moves, result, margin))
    return recorded, len(moves)


class Teacher(EngineTeacher):
    """GNU Go as the shard loop's source (:class:`nets.shards.EngineTeacher`), one per process."""

    def open_engine(self, s: Settings) -> "GtpTeacher":
        return GtpTeacher(s)

    def extra_meta(self, s: Settings) -> dict:
        return {"board_size": s.size, "komi": s.komi}

    def new_writer(self) -> ShardWriter:
        return ShardWriter()

    def play(self, rng: random.Random, seen: set[int], g: int, writer: ShardWriter, shard: dict) -> tuple[int, int]:
        return play_game(self.eng, rng, self.s, seen, writer, g)


def run(out: Path, n_shards: int, s: Settings, ray_address: str | None = None) -> None:
    """Generate shards ``0 .. n_shards-1`` into ``out`` (see :func:`nets.shards.distill`)."""
    distill(Teacher, out, n_shards, s, ray_address)


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    d = Settings()
    ap = shard_parser(__doc__, d, out="data/distill/go9", shards=100)
    ap.add_argument("--level", type=int, default=d.level, help="GNU Go level (0-10)")
    ap.add_argument("--size", type=int, default=d.size)
    ap.add_argument("--komi", type=float, default=d.komi)
    ap.add_argument("--random-plies", type=int, nargs=2, default=d.random_plies)
    ap.add_argument("--sample-plies", type=int, default=d.sample_plies)
    ap.add_argument("--sample-temp", type=float, default=d.sample_temp, help="points")
    ap.add_argument("--max-plies", type=int, default=d.max_plies)
    a = ap.parse_args(argv)
    s = settings_from(a, Settings)
    run(a.out, a.shards, s, a.ray)


if __name__ == "__main__":
    main()
