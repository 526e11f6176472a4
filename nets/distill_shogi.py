"""Generate shogi training data by distilling Fairy-Stockfish (run as a USI subprocess).

The shogi counterpart of :mod:`nets.distill_chess`. Fairy-Stockfish plays varied games
against itself: the first ``--opening-plies`` plies are sampled from a hot softmax over
its top ``--opening-multipv`` moves (now and then a random legal move), later plies from
a softmax over its top ``--multipv`` moves' scores at ``--temp-cp``. Every position met is
analysed once (fixed node count, MultiPV, ``Contempt 0``); the first occurrence of each
position (cshogi Zobrist key: board, hands, side to move) is recorded with the teacher's
top moves and scores, the game's move list up to it and the game's final result. The
rules (legality, mate, repetition, entering king) are cshogi's; a teacher move cshogi
calls illegal is dropped. Planes are *not* stored: :mod:`nets.train_shogi` encodes them.

Shards are written atomically, one per ``--games-per-shard`` games, each seeded from
``--seed`` and its index; a restart skips finished shards and rebuilds the dedup set::

    nice -n 10 python -m tabula.nets.distill_shogi --out data/distill/shogi --shards 100

Shard arrays (P positions, G games, K = max multipv), as the chess shards except moves:

* ``game_moves`` uint16 [sum plies] (cshogi ``move16``; replay with
  ``Board.move_from_move16``), ``game_offsets`` int64 [G+1]; ``game_result`` int8 [G]:
  +1 Black (sente) won, 0 draw, −1 White won.
* ``pos_game`` int32 [P], ``pos_ply`` int16 [P], ``pos_key`` uint64 [P].
* ``pv_moves`` uint16 [P,K] (move16, 0 = padding), ``pv_scores`` int32 [P,K] (Fairy-Stockfish
  centipawns for the side to move; mate in n plies is ±(MATE_CP − n)), ``pv_count`` uint8 [P];
  ``result_stm`` int8 [P]: the game result from the side to move's view.
* ``meta``: a JSON string with the settings and the teacher's id.

Score scale: with ``Contempt 0`` Fairy-Stockfish 11.1 rates a rook ≈ 700 cp in shogi
(measured: start position with Black's rook removed −487 vs +234 with it).
"""

from __future__ import annotations

import json
import math
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cshogi
import numpy as np

from .shard_store import write_shard
from .shards import EngineTeacher, distill, settings_from, shard_parser

#: Mate in n plies is stored as ±(MATE_CP − n) centipawns.
MATE_CP = 30000

REPETITION_STM = {  # cshogi is_draw() code → result for the side to move
    cshogi.REPETITION_DRAW: 0, cshogi.REPETITION_WIN: 1, cshogi.REPETITION_LOSE: -1,
    cshogi.REPETITION_SUPERIOR: 1, cshogi.REPETITION_INFERIOR: -1,
}


@dataclass
class Settings:
    """Generation settings (also written into every shard's ``meta``)."""

    engine: str = "/usr/games/fairy-stockfish"
    nodes: int = 4000
    multipv: int = 4
    opening_multipv: int = 8
    opening_plies: tuple[int, int] = (6, 20)
    opening_temp_cp: float = 120.0
    random_move_prob: float = 0.04
    temp_cp: float = 40.0
    max_drop_cp: int = 200
    max_plies: int = 320
    resign_cp: int = 4000
    resign_plies: int = 8
    hash_mb: int = 16
    seed: int = 1
    games_per_shard: int = 25


@dataclass
class Analysis:
    """One position's teacher output: top moves (cshogi full moves, best first) with scores."""

    moves: list[int]
    scores: list[int]


class UsiTeacher:
    """A minimal USI driver: only the last line of each MultiPV index is parsed."""

    def __init__(self, path: str, options: dict[str, object]) -> None:
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.name = "?"
        self._send("usi")  # Fairy-Stockfish switches to USI + standard shogi
        for line in self._lines("usiok"):
            if line.startswith("id name "):
                self.name = line[8:].strip()
        for k, v in options.items():
            self._send(f"setoption name {k} value {v}")
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
        """``usinewgame`` (clears the hash) and wait until ready."""
        self._send("usinewgame")
        self._send("isready")
        for _ in self._lines("readyok"):
            pass

    def analyse(self, board: cshogi.Board, usi: list[str], s: Settings, multipv: int) -> Analysis:
        """Search the position after ``usi`` moves from the start; moves checked on ``board``."""
        if multipv != self._multipv:
            self._send(f"setoption name MultiPV value {multipv}")
            self._multipv = multipv
        self._send("position startpos" + (" moves " + " ".join(usi) if usi else ""))
        self._send(f"go nodes {s.nodes}")
        lines: dict[int, list[str]] = {}
        for line in self._lines("bestmove"):
            if line.startswith("info") and " pv " in line and " score " in line:
                tok = line.split()
                i = int(tok[tok.index("multipv") + 1]) if "multipv" in tok else 1
                lines[i] = tok
        moves, scores = [], []
        for i in sorted(lines):
            tok = lines[i]
            j = tok.index("score")
            raw = tok[j + 2]
            if tok[j + 1] == "cp":
                sc = int(raw)
            else:  # mate in n plies; "-0"/"-" mean being mated now
                n = int(raw.lstrip("+-") or 0)
                sc = -(MATE_CP - n) if raw.startswith("-") else MATE_CP - n
            move = board.move_from_usi(tok[tok.index("pv") + 1])
            if move and board.is_legal(move) and move not in moves:
                moves.append(move)
                scores.append(sc)
        order = sorted(range(len(scores)), key=lambda q: -scores[q])  # best first, stable
        return Analysis([moves[q] for q in order], [scores[q] for q in order])

    def quit(self) -> None:
        """Stop the engine process."""
        try:
            self._send("quit")
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - best effort
            self.proc.kill()


def sample_move(rng: random.Random, a: Analysis, temp_cp: float, max_drop_cp: int) -> int:
    """Softmax over the teacher's scores at ``temp_cp``, dropping moves far below the best."""
    clip = lambda x: max(-3000, min(3000, x))  # noqa: E731
    best = a.scores[0]
    cand = [(m, sc) for m, sc in zip(a.moves, a.scores) if best - sc <= max_drop_cp]
    weights = [math.exp(max(-50.0, (clip(sc) - clip(best)) / temp_cp)) for _, sc in cand]
    return rng.choices([m for m, _ in cand], weights=weights)[0]


class ShardWriter:
    """Accumulates games and positions of one shard and writes them as one npz."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.game_moves: list[list[int]] = []
        self.game_result: list[int] = []
        self.pos: dict[str, list] = {n: [] for n in ("game", "ply", "key", "moves", "scores", "count", "turn")}

    def add_position(self, game: int, ply: int, key: int, a: Analysis, turn: int) -> None:
        k = self.k
        mv = [cshogi.move16(m) for m in a.moves[:k]]
        sc = a.scores[:k]
        p = self.pos
        p["game"].append(game)
        p["ply"].append(ply)
        p["key"].append(key)
        p["moves"].append(mv + [0] * (k - len(mv)))
        p["scores"].append(sc + [0] * (k - len(sc)))
        p["count"].append(len(mv))
        p["turn"].append(turn)

    def add_game(self, moves: list[int], result: int) -> None:
        self.game_moves.append(moves)
        self.game_result.append(result)

    def save(self, path: Path, meta: dict) -> None:
        """Write atomically: a temp file renamed into place."""
        write_shard(path, self.arrays(meta))

    def arrays(self, meta: dict) -> dict[str, np.ndarray]:
        """The shard's arrays (see the module's docstring)."""
        p = self.pos
        result = np.asarray(self.game_result, np.int8)
        pos_game = np.asarray(p["game"], np.int32)
        turn = np.asarray(p["turn"], np.int8)
        res_stm = (result[pos_game] * np.where(turn == 0, 1, -1)).astype(np.int8)
        offsets = np.zeros(len(self.game_moves) + 1, np.int64)
        offsets[1:] = np.cumsum([len(g) for g in self.game_moves])
        arrays = dict(
            game_moves=np.asarray([m for g in self.game_moves for m in g], np.uint16),
            game_offsets=offsets, game_result=result, pos_game=pos_game,
            pos_ply=np.asarray(p["ply"], np.int16), pos_key=np.asarray(p["key"], np.uint64),
            pv_moves=np.asarray(p["moves"], np.uint16).reshape(-1, self.k),
            pv_scores=np.asarray(p["scores"], np.int32).reshape(-1, self.k),
            pv_count=np.asarray(p["count"], np.uint8), result_stm=res_stm,
            meta=np.asarray(json.dumps(meta)),
        )
        return arrays


def black_result(stm_result: int, turn: int) -> int:
    """Side-to-move result → +1 Black won / −1 White won / 0."""
    return stm_result if turn == cshogi.BLACK else -stm_result


def play_game(eng: UsiTeacher, rng: random.Random, s: Settings, seen: set[int],
              cache: dict[int, Analysis], writer: ShardWriter, game_idx: int) -> tuple[int, int]:
    """Play one sampled self-play game; returns (positions recorded, plies)."""
    eng.new_game()  # each game depends only on its seed
    board = cshogi.Board()
    usi: list[str] = []
    moves: list[int] = []
    n_open = rng.randint(*s.opening_plies)
    recorded = resign_run = 0
    result: int | None = None
    last_best, best_turn = 0, cshogi.BLACK
    while True:
        ply = len(moves)
        if board.is_game_over():  # mated (no legal move): side to move loses
            result = black_result(-1, board.turn)
            break
        rep = board.is_draw()
        if ply and rep in REPETITION_STM:
            result = black_result(REPETITION_STM[rep], board.turn)
            break
        if board.is_nyugyoku():  # entering-king declaration wins for the side to move
            result = black_result(1, board.turn)
            break
        if ply >= s.max_plies:
            break
        key = board.zobrist_hash()
        opening = ply < n_open
        mpv = s.opening_multipv if opening else s.multipv
        a = cache.get(key)
        if a is None or len(a.moves) < mpv:
            a = eng.analyse(board, usi, s, mpv)
            cache[key] = a
        if not a.moves:  # the teacher found no move cshogi accepts: stop here, unscored
            break
        if key not in seen:
            seen.add(key)
            writer.add_position(game_idx, ply, key, a, board.turn)
            recorded += 1
        best = last_best = a.scores[0]
        best_turn = board.turn
        resign_run = resign_run + 1 if abs(best) >= s.resign_cp else 0
        if resign_run >= s.resign_plies:
            result = black_result(1 if best > 0 else -1, board.turn)
            break
        if opening and rng.random() < s.random_move_prob:
            move = rng.choice(list(board.legal_moves))
        elif opening:
            move = sample_move(rng, a, s.opening_temp_cp, 10 * s.max_drop_cp)
        else:
            move = sample_move(rng, a, s.temp_cp, s.max_drop_cp)
        usi.append(cshogi.move_to_usi(move))
        moves.append(cshogi.move16(move))
        board.push(move)
    if result is None:  # ply cap or teacher gave up: adjudicate by the last evaluation
        result = 0 if abs(last_best) < 300 else black_result(1 if last_best > 0 else -1, best_turn)
    writer.add_game(moves, result)
    return recorded, len(moves)


class Teacher(EngineTeacher):
    """The USI teacher as the shard loop's source (:class:`nets.shards.EngineTeacher`), one per process."""

    def open_engine(self, s: Settings) -> "UsiTeacher":
        return UsiTeacher(s.engine, {"Threads": 1, "Hash": s.hash_mb, "Contempt": 0})

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
    ap = shard_parser(__doc__, d, out="data/distill/shogi", shards=100)
    ap.add_argument("--nodes", type=int, default=d.nodes, help="teacher node budget per position")
    ap.add_argument("--multipv", type=int, default=d.multipv)
    ap.add_argument("--opening-multipv", type=int, default=d.opening_multipv)
    ap.add_argument("--opening-plies", type=int, nargs=2, default=d.opening_plies)
    ap.add_argument("--opening-temp-cp", type=float, default=d.opening_temp_cp)
    ap.add_argument("--random-move-prob", type=float, default=d.random_move_prob)
    ap.add_argument("--temp-cp", type=float, default=d.temp_cp, help="move sampling temperature (cp)")
    ap.add_argument("--max-drop-cp", type=int, default=d.max_drop_cp)
    ap.add_argument("--max-plies", type=int, default=d.max_plies)
    ap.add_argument("--resign-cp", type=int, default=d.resign_cp)
    ap.add_argument("--resign-plies", type=int, default=d.resign_plies)
    ap.add_argument("--hash-mb", type=int, default=d.hash_mb)
    a = ap.parse_args(argv)
    s = settings_from(a, Settings)
    run(a.out, a.shards, s, a.ray)


if __name__ == "__main__":
    main()
