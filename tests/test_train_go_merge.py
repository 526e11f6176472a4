"""``nets.train_go merge``: encoded go data sets join into one, each source kept in the metadata."""

import argparse

import numpy as np
import pytest

from tabula.nets.train_go import describe_sources, merge
from tabula.nets.train_shogi import load_parts, write_parts


def encoded_set(path, shard: int, n: int, level: int) -> None:
    chunk = dict(spatial_bits=np.zeros((n, 162), np.uint8), const_bits=np.zeros((n, 1), np.uint8),
                 pidx=np.zeros((n, 11), np.int16), pvalue=np.zeros((n, 11), np.float16),
                 result=np.ones(n, np.int8), margin=np.zeros(n, np.float32),
                 game_uid=(shard * 100_000 + np.arange(n) // 2).astype(np.int64))
    meta = {"game": "go", "codec": "go", "board": 9, "komi": 7.0, "spatial_planes": 16, "const_planes": 1,
            "shards": 1, "source": {"teacher": f"GNU Go 3.8 (level {level})", "settings": {"seed": shard}}}
    write_parts([chunk], path, 200_000, meta)


def test_merge_keeps_every_row_and_names_every_source(tmp_path) -> None:
    encoded_set(tmp_path / "a", 0, 10, 1)
    encoded_set(tmp_path / "b", 1000, 4, 10)
    merge(argparse.Namespace(inputs=[tmp_path / "a", tmp_path / "b"], out=tmp_path / "m", part_size=200_000))
    arrs, meta = load_parts(tmp_path / "m")
    assert len(arrs["result"]) == 14 and meta["shards"] == 2
    text = describe_sources(meta, 14)
    assert "10 positions" in text and "level 1)" in text and "4 positions" in text and "level 10)" in text


def test_merge_refuses_colliding_game_ids(tmp_path) -> None:
    encoded_set(tmp_path / "a", 0, 10, 1)
    encoded_set(tmp_path / "b", 0, 4, 10)
    with pytest.raises(SystemExit, match="collide"):
        merge(argparse.Namespace(inputs=[tmp_path / "a", tmp_path / "b"], out=tmp_path / "m", part_size=200_000))


def test_merging_a_merged_set_lists_the_original_sources(tmp_path) -> None:
    encoded_set(tmp_path / "a", 0, 10, 1)
    encoded_set(tmp_path / "b", 1000, 4, 10)
    encoded_set(tmp_path / "c", 2000, 6, 10)
    merge(argparse.Namespace(inputs=[tmp_path / "a", tmp_path / "b"], out=tmp_path / "ab", part_size=200_000))
    merge(argparse.Namespace(inputs=[tmp_path / "ab", tmp_path / "c"], out=tmp_path / "m", part_size=200_000))
    arrs, meta = load_parts(tmp_path / "m")
    assert len(arrs["result"]) == 20 and meta["shards"] == 3
    assert [s["positions"] for s in meta["sources"]] == [10, 4, 6]
    assert describe_sources(meta, 20).count(" positions from ") == 3
