"""The distillers' shared shard loop: seeded per shard, resumable, positions kept once."""

import json

import numpy as np

from tabula.nets.shards import load_seen, run_shards, shard_path


class KeyWriter:
    def __init__(self) -> None:
        self.keys: list[int] = []

    def save(self, path, meta) -> None:
        np.savez(path, pos_key=np.asarray(self.keys, np.uint64), meta=np.asarray(json.dumps(meta)))


def fake_shard():
    """A 'teacher' whose games draw position keys 0..49 from the shard's generator."""
    w = KeyWriter()

    def play(rng, seen, g):
        new = 0
        for _ in range(5):
            k = rng.randrange(50)
            if k not in seen:
                seen.add(k)
                w.keys.append(k)
                new += 1
        return new, 5

    return w, play


def run(out):
    run_shards(out, 3, seed=4, games_per_shard=2, teacher="fake", meta={"teacher": "fake"}, new_shard=fake_shard)


def test_shards_are_seeded_resumable_and_deduplicated(tmp_path) -> None:
    run(tmp_path)
    keys = [np.load(shard_path(tmp_path, k))["pos_key"].tolist() for k in range(3)]
    flat = sum(keys, [])
    assert len(flat) == len(set(flat)) > 0  # a position is kept once across shards
    assert json.loads(str(np.load(shard_path(tmp_path, 2))["meta"])) == {"teacher": "fake", "shard": 2}
    assert load_seen(tmp_path, 3) == (set(flat), len(flat))
    shard_path(tmp_path, 2).unlink()  # as if stopped during shard 2
    mtime = shard_path(tmp_path, 0).stat().st_mtime_ns
    run(tmp_path)
    assert shard_path(tmp_path, 0).stat().st_mtime_ns == mtime  # finished shards are skipped
    assert np.load(shard_path(tmp_path, 2))["pos_key"].tolist() == keys[2]  # shard 2 replays exactly
