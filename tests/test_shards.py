"""The distillers' shared shard loop: seeded per shard, resumable, positions kept once at the merge."""

import json
from functools import partial

import numpy as np
import pytest

from tabula.nets.shard_store import ShardMerger, keep_positions, part_path, shard_path, write_shard
from tabula.nets.shards import play_shard, run_shards


class KeyWriter:
    def __init__(self) -> None:
        self.keys: list[int] = []
        self.games: list[int] = []

    def arrays(self, meta):
        return {"pos_key": np.asarray(self.keys, np.uint64), "pos_game": np.asarray(self.games, np.int32),
                "game_result": np.zeros(2, np.int8), "meta": np.asarray(json.dumps(meta))}


class FakeTeacher:
    """A 'teacher' whose games draw position keys 0..49 from the shard's generator."""

    def __init__(self, tag: str = "fake") -> None:
        self.name = tag
        self.meta = {"teacher": tag}
        self.closed = False

    def new_shard(self):
        w = KeyWriter()

        def play(rng, seen, g):
            new = 0
            for _ in range(5):
                k = rng.randrange(50)
                if k not in seen:
                    seen.add(k)
                    w.keys.append(k)
                    w.games.append(g)
                    new += 1
            return new, 5

        return w, play

    def close(self) -> None:
        self.closed = True


def run(out, n=3):
    run_shards(out, n, seed=4, games_per_shard=2, open_source=partial(FakeTeacher, "fake"))


def keys_of(out, n=3):
    return [np.load(shard_path(out, k))["pos_key"].tolist() for k in range(n)]


def test_shards_are_seeded_resumable_and_deduplicated(tmp_path) -> None:
    run(tmp_path)
    keys = keys_of(tmp_path)
    flat = sum(keys, [])
    assert len(flat) == len(set(flat)) > 0  # a position is kept once across shards
    assert json.loads(str(np.load(shard_path(tmp_path, 2))["meta"])) == {"teacher": "fake", "shard": 2}
    assert not list((tmp_path / "parts").iterdir())  # every part merged
    shard_path(tmp_path, 2).unlink()  # as if stopped during shard 2
    mtime = shard_path(tmp_path, 0).stat().st_mtime_ns
    run(tmp_path)
    assert shard_path(tmp_path, 0).stat().st_mtime_ns == mtime  # finished shards are skipped
    assert keys_of(tmp_path) == keys  # shard 2 replays exactly


def test_a_shard_alone_keeps_its_repeats_and_the_merge_drops_them(tmp_path) -> None:
    teacher = FakeTeacher()
    alone = [play_shard(teacher, k, seed=4, games_per_shard=2) for k in range(3)]
    for a in alone:
        assert len(set(a["pos_key"].tolist())) == len(a["pos_key"])  # unique within the shard
    assert set(alone[0]["pos_key"].tolist()) & set(alone[1]["pos_key"].tolist())  # repeats across shards
    # parts arriving out of order (as from a cluster) merge to the folder a run here makes
    merger = ShardMerger(tmp_path / "ray", 3)
    for k in (2, 0, 1):
        write_shard(part_path(tmp_path / "ray", k), alone[k])
        merger.advance()
        assert merger.next == (0 if k == 2 else 1 if k == 0 else 3)
    run(tmp_path / "here")
    for k in range(3):
        a, b = np.load(shard_path(tmp_path / "ray", k)), np.load(shard_path(tmp_path / "here", k))
        assert a.files == b.files and all(np.array_equal(a[n], b[n]) for n in a.files)


def test_keep_positions_filters_rows_not_games() -> None:
    arrays = {"pos_key": np.arange(4, dtype=np.uint64), "pv_moves": np.arange(8).reshape(4, 2),
              "game_result": np.ones(4, np.int8), "meta": np.asarray("{}")}
    kept = keep_positions(arrays, np.array([True, False, True, False]))
    assert kept["pos_key"].tolist() == [0, 2] and kept["pv_moves"].tolist() == [[0, 1], [4, 5]]
    assert kept["game_result"].tolist() == [1, 1, 1, 1]
    with pytest.raises(ValueError, match="one per position"):
        keep_positions({**arrays, "top_values": np.zeros(3)}, np.ones(4, bool))
