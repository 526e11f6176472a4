"""The shard loop every distiller shares: resumable, seeded per shard, deduplicated, with progress.

A distiller supplies its teacher's name, the metadata for every shard and ``new_shard``: a
function giving a fresh shard writer and a function that plays game ``g`` of that shard with
the shard's random generator and the set of position keys already recorded (so a position is
kept once across all shards), returning (positions recorded, plies played). Shard ``k`` is
``out/shard_{k:05d}.npz``; its games depend only on ``seed`` and ``k``, so a stopped run resumes
where it stopped and skips finished shards.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from .progress import Throttle, log, progress


class ShardSink(Protocol):
    """What a distiller's shard writer offers the loop."""

    def save(self, path: Path, meta: dict) -> None: ...


PlayGame = Callable[[random.Random, set[int], int], tuple[int, int]]


def shard_path(out: Path, k: int) -> Path:
    """The file of shard ``k``."""
    return out / f"shard_{k:05d}.npz"


def load_seen(out: Path, upto: int) -> tuple[set[int], int]:
    """Position keys recorded in the finished shards ``< upto``, and their count."""
    seen: set[int] = set()
    total = 0
    for k in range(upto):
        p = shard_path(out, k)
        if p.exists():
            with np.load(p) as z:
                keys = z["pos_key"]
            seen.update(int(x) for x in keys)
            total += len(keys)
    return seen, total


def run_shards(out: Path, n_shards: int, *, seed: int, games_per_shard: int, teacher: str, meta: dict,
               new_shard: Callable[[], tuple[ShardSink, PlayGame]]) -> None:
    """Generate shards ``0 .. n_shards-1`` into ``out``, skipping the ones that exist."""
    out.mkdir(parents=True, exist_ok=True)
    seen, total = load_seen(out, n_shards)
    done = sum(shard_path(out, k).exists() for k in range(n_shards))
    log(f"teacher {teacher}; {done} of {n_shards} shards done, {total} positions")
    t0 = time.time()
    new_pos = new_plies = games = 0
    tick = Throttle()
    for k in range(n_shards):
        path = shard_path(out, k)
        if path.exists():
            continue
        rng = random.Random(seed * 1_000_003 + k)
        writer, play = new_shard()
        for g in range(games_per_shard):
            rec, plies = play(rng, seen, g)
            new_pos += rec
            new_plies += plies
            games += 1
            if tick.due():
                el = max(1e-9, time.time() - t0)
                progress(f"shard {k + 1}/{n_shards} game {g + 1}/{games_per_shard} | positions "
                         f"{total + new_pos} (+{new_pos}) | {new_pos / el:.1f} pos/s, {games / el:.2f} games/s, "
                         f"{new_plies / games:.0f} plies/game | {el / 60:.1f} min")
        writer.save(path, {**meta, "shard": k})
    log(f"\nfinished: {total + new_pos} positions in {n_shards} shards")
