"""``--time-budget``: the training length is re-planned from the pace, never beyond the plan."""

from tabula.nets.train import fit_to_budget


def test_no_budget_keeps_the_plan() -> None:
    assert fit_to_budget(1000, 20, 20, 2.0, 0) == 1000


def test_slow_pace_shortens_the_run() -> None:
    # 20 steps took 2 s: 10 steps/s, 98 s left -> 980 more steps
    assert fit_to_budget(5000, 20, 20, 2.0, 100) == 20 + 980


def test_fast_pace_never_exceeds_the_plan() -> None:
    assert fit_to_budget(500, 20, 20, 0.1, 100) == 500


def test_budget_already_spent_stops_now() -> None:
    assert fit_to_budget(500, 300, 280, 120.0, 100) == 300


def test_every_trainer_takes_the_shared_options() -> None:
    import argparse

    from tabula.nets.train import parse_args
    from tabula.nets.train_shogi import add_train_args

    chess = parse_args(["--time-budget", "60", "--blocks", "8"])
    assert (chess.time_budget, chess.blocks, chess.epochs, chess.val_fraction) == (60, 8, 8, 0.02)
    ap = argparse.ArgumentParser()
    add_train_args(ap, "data/encoded/go9", "data/train/go9")
    packed = ap.parse_args(["--time-budget", "30"])
    assert (packed.time_budget, packed.epochs, packed.val_fraction) == (30, 10, 0.03)


def test_chess_trainer_keeps_games_of_several_shard_folders_apart(tmp_path) -> None:
    import json

    import numpy as np

    from tabula.nets.train import load_data, parse_args, split_by_game

    assert [str(p) for p in parse_args(["--shards", "a", "b"]).shards] == ["a", "b"]
    files = []
    for i in range(2):  # two generators' shard_00000, each with games 0 and 1
        f = tmp_path / f"{i}.npz"
        np.savez(f, bits=np.zeros((4, 2), np.uint8), rule50=np.zeros(4), pidx=np.zeros((4, 3), np.int16),
                 pscore=np.zeros((4, 3)), wdl=np.zeros((4, 3)), result=np.zeros(4),
                 game_uid=np.array([0, 0, 1, 1], np.int64), meta=json.dumps({"settings": {"seed": i + 1}}))
        files.append(f)
    data = load_data(files, [0, 1])
    assert len(np.unique(data.game_uid)) == 4
    tr, va = split_by_game(data, 0.5, 1)
    assert len(tr) == len(va) == 4 and not set(data.game_uid[tr]) & set(data.game_uid[va])


def test_validation_games_can_come_from_one_folder_only(tmp_path) -> None:
    import numpy as np

    from tabula.nets.train import FOLDER_UID_STRIDE, Data, split_by_game

    uid = np.repeat(np.arange(40), 3) + np.repeat([0, FOLDER_UID_STRIDE], 60)  # 20 games in each of 2 folders
    z = np.zeros(len(uid))
    data = Data(bits=z, rule50=z, pidx=z, pscore=z, wdl=z, result=z, game_uid=uid, meta=[])
    tr, va = split_by_game(data, 0.25, 1, val_folder=1)
    assert len(va) == 10 * 3 and set(uid[va] // FOLDER_UID_STRIDE) == {1}
    assert not set(uid[tr]) & set(uid[va]) and len(tr) + len(va) == len(uid)
