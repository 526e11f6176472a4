"""tabula.engine.go.network: the net per board size (Engine.default_net), resizing, the net run by itself."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import tabula.engine.go.network as network_mod
from tabula.engine.controller import Engine
from tabula.engine.games.go import GoState
from tabula.engine.go.network import GoNetwork, NoNetwork
from netfactory import make_net

pytest.importorskip("onnx")


def go_net(path, n: int, value_bias: float = 0.0):
    return make_net(path, {"input_planes": (17, n, n)}, {"output_policy": (n * n + 1, "none"),
                                                          "output_value": (1, "tanh")},
                    scale={"output_policy": 0.0, "output_value": 0.0},
                    bias={"output_value": np.array([value_bias])},
                    metadata={"tabula.game": "go", "tabula.codec": "go", "tabula.board_size": str(n),
                              "tabula.value": "tanh"})


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    d = tmp_path_factory.mktemp("gonets")
    return {9: str(go_net(d / "go9.onnx", 9, value_bias=1.0)), 19: str(go_net(d / "go19.onnx", 19))}


def test_doctests():
    assert doctest.testmod(network_mod).failed == 0


def test_the_finder_picks_the_default_net_per_size(nets):
    engine = Engine("go")
    net = GoNetwork(engine, net_for_size=nets.get)
    assert net.check_size(9) == nets[9] and net.check_size(19) == nets[19]
    with pytest.raises(NoNetwork, match="board sizes 2..25"):
        net.check_size(26)
    net.use(nets[19])
    assert engine.default_net == nets[19]
    net.prepare(9)  # prepare always puts the board's own net in place
    assert engine.default_net == nets[9] and engine.evaluator.codec.board_size == 9
    with pytest.raises(NoNetwork, match="no bundled go13 net"):
        net.prepare(13)
    engine.evaluator.close()


def test_a_fixed_net_plays_only_its_size(nets):
    engine = Engine("go")
    net = GoNetwork(engine, nets[9], net_for_size=nets.get)
    assert engine.options["WeightsFile"] == nets[9] and net.board_size() == 9
    assert net.check_size(9) is None
    net.use("elsewhere.onnx")  # a fixed net is never replaced by a default
    assert engine.default_net is None
    with pytest.raises(NoNetwork, match=r"unacceptable size: no network for board size 19 \(go9.onnx is a 9x9 net\)"):
        net.check_size(19)
    with pytest.raises(NoNetwork, match=r"no network for board size 19 \(go9.onnx is a 9x9 net\)"):
        net.prepare(19)
    engine.evaluator.close()


def test_value_and_ownership(nets):
    engine = Engine("go")
    net = GoNetwork(engine, net_for_size=nets.get)
    s = GoState(9, 7.5)
    assert net.value(s) is None  # nothing loaded yet
    own = net.ownership(s, seconds=0.5)  # no ownership head: playouts
    assert own.shape == (81,) and net.value(s) == pytest.approx(np.tanh(1.0), abs=1e-5)
    assert GoNetwork(Engine("go")).ownership(s, seconds=0.1).shape == (81,)  # no net at all: playouts too
    engine.evaluator.close()
