"""Generate chess training data by distilling Stockfish (run as a UCI subprocess).

Stockfish plays varied games against itself: the first 4–10 plies are sampled
almost uniformly among its top ``--opening-multipv`` moves (now and then a random
legal move), later plies from a softmax over its top ``--multipv`` moves' scores at
``--temp-cp`` centipawns. Every position met is analysed once (fixed node count,
MultiPV, ``UCI_ShowWDL``); the first occurrence of each position (Zobrist key) is
recorded with the teacher's top moves, scores and W/D/L, the game's move list up
to it, and the game's final result. Planes are *not* stored: the trainer encodes
positions from the move lists with the lc0 codec.

Shards are written atomically (``shard_00012.npz``), one per ``--games-per-shard``
games, each seeded from ``--seed`` and its index; a restart skips finished shards
and rebuilds the dedup set from them, so a run can be stopped and resumed freely::

    nice -n 10 python -m tabula.nets.distill_chess --out data/distill/chess --shards 200

Shard arrays (P positions, G games, K = max multipv):

* ``game_moves`` uint16 [sum plies], ``game_offsets`` int64 [G+1]: each game's moves as
  ``from | to << 6 | promotion << 12`` (python-chess numbering, as ``ChessState``);
  ``game_result`` int8 [G]: +1 white won, 0 draw, −1 black won.
* ``pos_game`` int32 [P] (game within the shard), ``pos_ply`` int16 [P] (moves played
  from the start position), ``pos_key`` uint64 [P] (polyglot Zobrist key).
* ``pv_moves`` uint16 [P,K] (0 = padding), ``pv_scores`` int32 [P,K] (centipawns for the
  side to move; mate in n is ±(MATE_CP − n)), ``pv_count`` uint8 [P];
  ``wdl`` uint16 [P,3] Stockfish's W/D/L per mille for the side to move (best line);
  ``result_stm`` int8 [P]: the game result from the side to move's view.
* ``meta``: a JSON string with the settings and the teacher's id.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .shard_store import write_shard
from .shards import EngineTeacher, distill, settings_from, shard_parser

import chess
import chess.polyglot

#: Mate in n is stored as ±(MATE_CP − n) centipawns.
MATE_CP = 30000


@dataclass
class Settings:
    """Generation settings (also written into every shard's ``meta``)."""

    engine: str = "/usr/games/stockfish"
    nodes: int = 8000
    depth: int = 0
    multipv: int = 4
    opening_multipv: int = 8
    opening_plies: tuple[int, int] = (4, 10)
    opening_temp_cp: float = 150.0
    random_move_prob: float = 0.05
    temp_cp: float = 40.0
    max_drop_cp: int = 200
    max_plies: int = 400
    resign_cp: int = 2000
    resign_plies: int = 10
    draw_cp: int = 15
    draw_plies: int = 30
    draw_min_ply: int = 120
    hash_mb: int = 16
    seed: int = 1
    games_per_shard: int = 40


@dataclass
class Analysis:
    """One position's teacher output: top moves (best first) with scores, W/D/L."""

    moves: list[chess.Move]
    scores: list[int]
    wdl: tuple[int, int, int]


class UciTeacher:
    """A minimal UCI driver for the teacher: only the final MultiPV lines are parsed.

    (python-chess's ``chess.engine`` parses every PV of every iteration, which cost
    about as much CPU as Stockfish itself at these node counts.)
    """

    def __init__(self, path: str, options: dict[str, object]) -> None:
        import subprocess

        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        self.name = "?"
        self._send("uci")
        for line in self._lines("uciok"):
            if line.startswith("id name "):
                self.name = line[8:].strip()
        for k, v in options.items():
            self._send(f"setoption name {k} value {str(v).lower() if isinstance(v, bool) else v}")
        self._multipv = 0
        self.new_game()

    def _send(self, cmd: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()

    def _lines(self, until: str):
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the teacher engine exited")
            yield line
            if line.startswith(until):
                return

    def new_game(self) -> None:
        """``ucinewgame`` (clears the hash) and wait until ready."""
        self._send("ucinewgame")
        self._send("isready")
        for _ in self._lines("readyok"):
            pass

    def analyse(self, moves: list[str], turn: chess.Color, s: "Settings", multipv: int) -> "Analysis":
        """Search the position after ``moves`` from the start position."""
        if multipv != self._multipv:
            self._send(f"setoption name MultiPV value {multipv}")
            self._multipv = multipv
        self._send("position startpos" + (" moves " + " ".join(moves) if moves else ""))
        self._send(f"go depth {s.depth}" if s.depth else f"go nodes {s.nodes}")
        lines: dict[int, list[str]] = {}
        for line in self._lines("bestmove"):
            if line.startswith("info") and " pv " in line and " multipv " in line:
                tok = line.split()
                lines[int(tok[tok.index("multipv") + 1])] = tok
        out_moves, scores = [], []
        wdl = (0, 1000, 0)
        for i in sorted(lines):
            tok = lines[i]
            j = tok.index("score")
            val = int(tok[j + 2])
            sc = val if tok[j + 1] == "cp" else (MATE_CP - val if val > 0 else -MATE_CP - val)
            out_moves.append(chess.Move.from_uci(tok[tok.index("pv") + 1]))
            scores.append(sc)
            if i == 1 and "wdl" in tok:
                w = tok.index("wdl")
                wdl = (int(tok[w + 1]), int(tok[w + 2]), int(tok[w + 3]))
        order = sorted(range(len(scores)), key=lambda q: -scores[q])  # best first, stable
        return Analysis([out_moves[q] for q in order], [scores[q] for q in order], wdl)

    def quit(self) -> None:
        """Stop the engine process."""
        try:
            self._send("quit")
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - best effort
            self.proc.kill()


def encode_move(move: chess.Move) -> int:
    """python-chess move → ``from | to << 6 | promotion << 12`` (as ``ChessState``)."""
    return move.from_square | (move.to_square << 6) | ((move.promotion or 0) << 12)


def sample_move(rng: random.Random, a: Analysis, temp_cp: float, max_drop_cp: int) -> chess.Move:
    """Softmax over the teacher's scores at ``temp_cp``, dropping moves far below the best."""
    best = a.scores[0]
    cand = [(m, sc) for m, sc in zip(a.moves, a.scores) if best - sc <= max_drop_cp or sc >= best]
    weights = [math.exp(max(-50.0, (max(-3000, min(3000, sc)) - max(-3000, min(3000, best))) / temp_cp))
               for _, sc in cand]
    return rng.choices([m for m, _ in cand], weights=weights)[0]


class ShardWriter:
    """Accumulates games and positions of one shard and writes them as one npz."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.game_moves: list[list[int]] = []
        self.game_result: list[int] = []
        self.pos: dict[str, list] = {n: [] for n in
                                     ("game", "ply", "key", "moves", "scores", "count", "wdl", "turn")}

    def add_position(self, game: int, ply: int, key: int, a: Analysis, turn: chess.Color) -> None:
        k = self.k
        mv = [encode_move(m) for m in a.moves[:k]]
        sc = a.scores[:k]
        self.pos["game"].append(game)
        self.pos["ply"].append(ply)
        self.pos["key"].append(key)
        self.pos["moves"].append(mv + [0] * (k - len(mv)))
        self.pos["scores"].append(sc + [0] * (k - len(sc)))
        self.pos["count"].append(len(mv))
        self.pos["wdl"].append(a.wdl)
        self.pos["turn"].append(0 if turn == chess.WHITE else 1)

    def add_game(self, moves: list[int], result: int) -> None:
        self.game_moves.append(moves)
        self.game_result.append(result)

    @property
    def n_positions(self) -> int:
        return len(self.pos["game"])

    def save(self, path: Path, meta: dict) -> None:
        """Write atomically: a temp file renamed into place."""
        write_shard(path, self.arrays(meta))

    def arrays(self, meta: dict) -> dict[str, np.ndarray]:
        """The shard's arrays (see the module's docstring)."""
        p = self.pos
        result = np.asarray(self.game_result, np.int8)
        pos_game = np.asarray(p["game"], np.int32)
        turn = np.asarray(p["turn"], np.int8)
        res_stm = result[pos_game] * np.where(turn == 0, 1, -1).astype(np.int8) if len(pos_game) else \
            np.zeros(0, np.int8)
        offsets = np.zeros(len(self.game_moves) + 1, np.int64)
        offsets[1:] = np.cumsum([len(g) for g in self.game_moves])
        flat = [m for g in self.game_moves for m in g]
        arrays = dict(
            game_moves=np.asarray(flat, np.uint16), game_offsets=offsets, game_result=result,
            pos_game=pos_game, pos_ply=np.asarray(p["ply"], np.int16),
            pos_key=np.asarray(p["key"], np.uint64),
            pv_moves=np.asarray(p["moves"], np.uint16).reshape(-1, self.k),
            pv_scores=np.asarray(p["scores"], np.int32).reshape(-1, self.k),
            pv_count=np.asarray(p["count"], np.uint8), wdl=np.asarray(p["wdl"], np.uint16).reshape(-1, 3),
            result_stm=res_stm.astype(np.int8), meta=np.asarray(json.dumps(meta)),
        )
        return arrays


def play_game(eng: UciTeacher, rng: random.Random, s: Settings, seen: set[int],
              cache: dict[int, Analysis], writer: ShardWriter, game_idx: int) -> tuple[int, int]:
    """Play one sampled self-play game; returns (positions recorded, plies)."""
    eng.new_game()  # clears the teacher's hash: each game depends only on its seed
    board = chess.Board()
    uci: list[str] = []
    n_open = rng.randint(*s.opening_plies)
    moves: list[int] = []
    recorded = 0
    resign_run = draw_run = 0
    result: int | None = None
    while True:
        outcome = board.outcome(claim_draw=True)
        if outcome is not None:
            result = 0 if outcome.winner is None else (1 if outcome.winner == chess.WHITE else -1)
            break
        if board.ply() >= s.max_plies:
            break
        key = chess.polyglot.zobrist_hash(board)
        opening = board.ply() < n_open
        mpv = s.opening_multipv if opening else s.multipv
        a = cache.get(key)
        if a is None or len(a.moves) < min(mpv, board.legal_moves.count()):
            a = eng.analyse(uci, board.turn, s, mpv)
            cache[key] = a
        if not a.moves:
            break
        if key not in seen:
            seen.add(key)
            writer.add_position(game_idx, board.ply(), key, a, board.turn)
            recorded += 1
        # adjudication on the best line's score (side to move's view)
        best = a.scores[0]
        if abs(best) < MATE_CP - 1000:
            resign_run = resign_run + 1 if abs(best) >= s.resign_cp else 0
            draw_run = draw_run + 1 if abs(best) <= s.draw_cp and board.ply() >= s.draw_min_ply else 0
        else:
            resign_run = draw_run = 0
        if resign_run >= s.resign_plies:
            stm_wins = best > 0
            result = 1 if (stm_wins == (board.turn == chess.WHITE)) else -1
            break
        if draw_run >= s.draw_plies:
            result = 0
            break
        if opening and rng.random() < s.random_move_prob:
            move = rng.choice(list(board.legal_moves))
        elif opening:
            move = sample_move(rng, a, s.opening_temp_cp, 10 * s.max_drop_cp)
        else:
            move = sample_move(rng, a, s.temp_cp, s.max_drop_cp)
        board.push(move)
        uci.append(move.uci())
        moves.append(encode_move(move))
    if result is None:  # ply cap: adjudicate by the last evaluation
        a = cache.get(chess.polyglot.zobrist_hash(board))
        best = a.scores[0] if a and a.scores else 0
        if abs(best) < 200:
            result = 0
        else:
            stm_wins = best > 0
            result = 1 if (stm_wins == (board.turn == chess.WHITE)) else -1
    writer.add_game(moves, result)
    return recorded, len(moves)


class Teacher(EngineTeacher):
    """Stockfish as the shard loop's source (:class:`nets.shards.EngineTeacher`), one per process."""

    def open_engine(self, s: Settings) -> "UciTeacher":
        return UciTeacher(s.engine, {"Threads": 1, "Hash": s.hash_mb, "UCI_ShowWDL": True})

    def new_writer(self) -> ShardWriter:
        return ShardWriter(max(self.s.multipv, self.s.opening_multipv))

    def play(self, rng: random.Random, seen: set[int], g: int, writer: ShardWriter, shard: dict) -> tuple[int, int]:
        return play_game(self.eng, rng, self.s, seen, shard.setdefault("cache", {}), writer, g)


def run(out: Path, n_shards: int, s: Settings, ray_address: str | None = None) -> None:
    """Generate shards ``0 .. n_shards-1`` into ``out`` (see :func:`nets.shards.distill`)."""
    distill(Teacher, out, n_shards, s, ray_address)


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    d = Settings()
    ap = shard_parser(__doc__, d, out="data/distill/chess", shards=200)
    ap.add_argument("--nodes", type=int, default=d.nodes, help="teacher node budget per position")
    ap.add_argument("--depth", type=int, default=d.depth, help="fixed depth instead of nodes (0 = use nodes)")
    ap.add_argument("--multipv", type=int, default=d.multipv)
    ap.add_argument("--opening-multipv", type=int, default=d.opening_multipv)
    ap.add_argument("--opening-plies", type=int, nargs=2, default=d.opening_plies)
    ap.add_argument("--opening-temp-cp", type=float, default=d.opening_temp_cp)
    ap.add_argument("--random-move-prob", type=float, default=d.random_move_prob)
    ap.add_argument("--temp-cp", type=float, default=d.temp_cp, help="move sampling temperature (cp)")
    ap.add_argument("--max-drop-cp", type=int, default=d.max_drop_cp)
    ap.add_argument("--max-plies", type=int, default=d.max_plies)
    ap.add_argument("--hash-mb", type=int, default=d.hash_mb)
    a = ap.parse_args(argv)
    s = settings_from(a, Settings)
    run(a.out, a.shards, s, a.ray)


if __name__ == "__main__":
    main()
