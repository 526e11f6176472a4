"""Go shards: move codes of a 19×19 board (up to 361, pass) fit their dtype, and padding is marked."""

import json

import numpy as np

from tabula.engine.games.go import GoState
from tabula.nets.distill_go import ShardWriter, move_dtype


def test_move_dtype_grows_with_the_board() -> None:
    assert move_dtype(9) == np.uint8 and move_dtype(13) == np.uint8
    assert move_dtype(19) == np.uint16


def test_a_19x19_shard_keeps_high_move_codes(tmp_path) -> None:
    st = GoState(19, 7.5)
    w = ShardWriter()
    w.add_position(0, st, 360, [360, 361, 3], [1.0, 0.5, 0.2])
    st.push(360)
    w.add_position(0, st, 361, [361], [0.0])
    w.games.append(([360, 361], 1, 2.5))
    path = tmp_path / "shard_00000.npz"
    w.save(path, {"board_size": 19, "komi": 7.5})
    z = np.load(path)
    assert z["game_moves"].dtype == np.uint16 and z["game_moves"].tolist() == [360, 361]
    assert z["teacher_move"].tolist() == [360, 361]
    assert z["top_moves"][0, :3].tolist() == [360, 361, 3]
    assert (z["top_moves"][0, 3:] == 65535).all() and z["top_count"].tolist() == [3, 1]
    assert json.loads(str(z["meta"]))["board_size"] == 19


def test_shard_base_keeps_game_ids_apart_so_folders_merge(tmp_path) -> None:
    import argparse

    import pytest

    from tabula.nets.train_go import encode, encode_go_shard, merge

    st = GoState(19, 7.5)
    w = ShardWriter()
    w.add_position(0, st, 60, [60], [1.0])
    w.games.append(([60, 361], 1, 2.5))
    for folder in ("a", "b"):  # two generators, each numbering its shards from 0
        (tmp_path / folder).mkdir()
        w.save(tmp_path / folder / "shard_00000.npz", {"board_size": 19, "komi": 7.5})
    assert encode_go_shard(tmp_path / "a" / "shard_00000.npz", 300)["game_uid"].tolist() == [300 * 100_000]
    args = dict(part_size=1000, max_shards=0)
    encode(argparse.Namespace(shards=tmp_path / "a", out=tmp_path / "ea", shard_base=0, **args))
    encode(argparse.Namespace(shards=tmp_path / "b", out=tmp_path / "eb", shard_base=0, **args))
    with pytest.raises(SystemExit, match="collide"):
        merge(argparse.Namespace(inputs=[tmp_path / "ea", tmp_path / "eb"], out=tmp_path / "m", part_size=1000))
    encode(argparse.Namespace(shards=tmp_path / "b", out=tmp_path / "eb", shard_base=100, **args))
    merge(argparse.Namespace(inputs=[tmp_path / "ea", tmp_path / "eb"], out=tmp_path / "m", part_size=1000))
