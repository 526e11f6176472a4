"""The distillers' output folder: shard files written atomically, and the merge that keeps each
position once across shards.

A shard is made on its own (its games depend only on the seed and its index; positions repeat
only across shards) and lands first as ``out/parts/shard_{k:05d}.npz``. :class:`ShardMerger`
moves parts into ``out/shard_{k:05d}.npz`` in shard order, dropping every position whose key an
earlier shard already holds, so the folder is the same whether the shards were made one after
another here or in any order on a cluster. Per-position arrays are all but ``game_*`` and
``meta``; their first axis runs over ``pos_key``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np

Arrays = dict[str, np.ndarray]


def shard_path(out: Path, k: int) -> Path:
    """The merged (final) file of shard ``k``: what the trainers read."""
    return out / f"shard_{k:05d}.npz"


def part_path(out: Path, k: int) -> Path:
    """Shard ``k`` as it was made, before the merge."""
    return out / "parts" / f"shard_{k:05d}.npz"


def shard_done(out: Path, k: int) -> bool:
    """Whether shard ``k`` was made already (merged or waiting to be)."""
    return shard_path(out, k).exists() or part_path(out, k).exists()


def write_shard(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write atomically: a temp file (which the trainers' ``shard_*[0-9].npz`` skips) renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


def load_shard(path: Path) -> Arrays:
    """Every array of a shard file."""
    with np.load(path) as z:
        return {name: z[name] for name in z.files}


def is_position_array(name: str) -> bool:
    """Whether an array has one row per position (all but ``game_*`` and ``meta``)."""
    return not name.startswith("game_") and name != "meta"


def keep_positions(arrays: Mapping[str, np.ndarray], keep: np.ndarray) -> Arrays:
    """The shard with only the positions where ``keep`` is true; games and meta unchanged."""
    n = len(arrays["pos_key"])
    out: Arrays = {}
    for name, a in arrays.items():
        if is_position_array(name):
            if len(a) != n:
                raise ValueError(f"shard array {name!r} has {len(a)} rows, not one per position ({n})")
            out[name] = a[keep]
        else:
            out[name] = a
    return out


class ShardMerger:
    """Moves finished parts into the folder in shard order, each position kept once.

    ``advance()`` merges every part whose predecessors are all merged; it is cheap to call
    after each finished shard. Shards merged before (a resumed run) count as they are.
    """

    def __init__(self, out: Path, n_shards: int) -> None:
        self.out = out
        self.n_shards = n_shards
        self.next = 0                  #: the first shard not merged yet
        self.seen: set[int] = set()    #: position keys of shards ``< next``
        self.positions = 0             #: positions in shards ``< next``

    def advance(self) -> int:
        """Merge what can be merged now; returns how many shards were merged by this call."""
        merged = 0
        while self.next < self.n_shards:
            final, part = shard_path(self.out, self.next), part_path(self.out, self.next)
            if final.exists():
                with np.load(final) as z:
                    keys = z["pos_key"]
            elif part.exists():
                arrays = load_shard(part)
                keep = np.fromiter((int(x) not in self.seen for x in arrays["pos_key"]), bool,
                                   len(arrays["pos_key"]))
                arrays = keep_positions(arrays, keep)
                write_shard(final, arrays)
                part.unlink()
                keys = arrays["pos_key"]
                merged += 1
            else:
                break
            self.seen.update(int(x) for x in keys)
            self.positions += len(keys)
            self.next += 1
        return merged
