"""Go shards: move codes of a 19×19 board (up to 361, pass) fit their dtype, and padding is marked."""

import json

import numpy as np

from engine.games.go import GoState
from nets.distill_go import ShardWriter, move_dtype


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
