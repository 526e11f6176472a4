"""``--init``: a new net starts from another run's weights where names and shapes match."""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")


def _go_net(size: int):
    from tabula.nets.model import NetConfig, PolicyValueNet

    return PolicyValueNet(NetConfig(codec="go", blocks=2, filters=16, in_channels=17, board_size=size))


def test_a_9x9_tower_starts_a_19x19_net() -> None:
    import torch

    from tabula.nets.model import load_matching

    small, big = _go_net(9), _go_net(19)
    copied, skipped = load_matching(big, small.state_dict())
    own = big.state_dict()
    assert copied and all(torch.equal(own[k], small.state_dict()[k]) for k in copied)
    assert skipped and {k.split(".")[0] for k in skipped} <= {"policy", "value"}  # only board-sized head layers


def _encoded(path, size: int, n: int = 48) -> None:
    from tabula.nets.train_shogi import write_parts

    rng = np.random.default_rng(size)
    bits = (16 * size * size + 7) // 8
    chunk = dict(spatial_bits=rng.integers(0, 256, (n, bits), dtype=np.uint8),
                 const_bits=rng.integers(0, 2, (n, 1), dtype=np.uint8),
                 pidx=np.concatenate([rng.integers(0, size * size + 1, (n, 1)), np.full((n, 2), -1)], 1).astype(np.int16),
                 pvalue=np.zeros((n, 3), np.float16), result=rng.choice([-1, 1], n).astype(np.int8),
                 margin=np.zeros(n, np.float32), game_uid=(np.arange(n) // 4).astype(np.int64))
    meta = {"game": "go", "codec": "go", "board": size, "komi": 7.0, "spatial_planes": 16, "const_planes": 1,
            "shards": 1, "source": {"teacher": "test", "settings": {"seed": 0}}}
    write_parts([chunk], path, 200_000, meta)


def _train(data, out, extra: list[str]) -> None:
    from tabula.nets.train_go import main

    main(["train", "--data", str(data), "--out", str(out), "--steps", "2", "--batch", "8", "--blocks", "2",
          "--filters", "16", "--device", "cpu", "--val-fraction", "0.25", *extra])


@pytest.mark.slow  # end to end: two training runs through the CLI, on 9x9 and on 19x19
def test_train_go_init_across_board_sizes(tmp_path) -> None:
    import torch

    _encoded(tmp_path / "d9", 9)
    _encoded(tmp_path / "d19", 19)
    _train(tmp_path / "d9", tmp_path / "r9", ["--lr", "0"])  # lr 0: the saved tower is the initial one
    _train(tmp_path / "d19", tmp_path / "r19", ["--init", str(tmp_path / "r9" / "last.pt"), "--lr", "0"])
    w9 = torch.load(tmp_path / "r9" / "last.pt", weights_only=False)["model"]
    w19 = torch.load(tmp_path / "r19" / "last.pt", weights_only=False)["model"]
    tower = [k for k in w9 if not k.startswith(("policy", "value"))]
    assert tower and all(torch.equal(w9[k], w19[k]) for k in tower if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    assert "started from the matching weights" in (tmp_path / "r19" / "provenance.txt").read_text()


def test_init_with_nothing_in_common_is_refused(tmp_path) -> None:
    import torch

    _encoded(tmp_path / "d9", 9)
    torch.save({"model": {"nothing.weight": torch.zeros(1)}}, tmp_path / "other.pt")
    with pytest.raises(SystemExit, match="no tensor matches"):
        _train(tmp_path / "d9", tmp_path / "r", ["--init", str(tmp_path / "other.pt")])


def _exported_chess(tmp_path, blocks: int = 2, filters: int = 16):
    """A small random chess net, trained a few steps so its norms are not the identity, then exported."""
    import torch

    from tabula.nets.export import export_onnx
    from tabula.nets.model import NetConfig, PolicyValueNet

    torch.manual_seed(3)
    net = PolicyValueNet(NetConfig(codec="lc0-112", blocks=blocks, filters=filters))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):  # move the batch-norm statistics and affine terms away from their defaults
        p, v = net(torch.rand(16, 112, 8, 8).round())
        (p.square().mean() + v.square().mean()).backward()
        opt.step()
        opt.zero_grad()
    path = tmp_path / "net.onnx"
    export_onnx(net, path, provenance="test")
    return net, path


def test_an_exported_net_is_loaded_back_with_its_norms_unfolded(tmp_path) -> None:
    import torch

    from tabula.nets.model import PolicyValueNet
    from tabula.nets.warmstart import init_from

    net, path = _exported_chess(tmp_path)
    fresh = PolicyValueNet(net.cfg)
    x = torch.rand(64, 112, 8, 8).round()
    line = init_from(fresh, path, (x,))  # also checks itself against onnxruntime
    assert "recalibrated" in line
    net.eval()
    fresh.eval()
    with torch.no_grad():
        (p0, v0), (p1, v1) = net(x), fresh(x)
        assert torch.allclose(p0, p1, atol=1e-4) and torch.allclose(v0, v1, atol=1e-4)
        fresh.train()  # training mode normalises by batch statistics: recalibrated to the same function
        p2, v2 = fresh(x)
    assert torch.allclose(p0, p2, atol=1e-3) and torch.allclose(v0, v2, atol=1e-3)


def test_an_export_of_another_architecture_is_refused(tmp_path) -> None:
    import torch

    from tabula.nets.model import NetConfig, PolicyValueNet
    from tabula.nets.warmstart import init_from

    _, path = _exported_chess(tmp_path)
    other = PolicyValueNet(NetConfig(codec="lc0-112", blocks=1, filters=16))
    with pytest.raises(SystemExit, match="is not this run's"):
        init_from(other, path, (torch.zeros(4, 112, 8, 8),))
