"""Build tiny ONNX networks at test time with the onnx helper API.

Every net is ``flatten(inputs) → concat → MatMul(+bias) → head activation`` per
output, with weights drawn from a seeded RNG and scaled by ``scale`` (``0`` gives a
uniform policy and a constant value: the "uniform net" that search tests use).
The batch axis is dynamic.

>>> path = make_net(tmp / "n.onnx", {"x": (3, 2, 2)}, {"p": (5, "none"), "v": (1, "tanh")})
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np


def make_net(
    path: Path | str,
    inputs: Mapping[str, tuple[int, ...]],
    outputs: Mapping[str, tuple[int, str]],
    *,
    metadata: Mapping[str, str] | None = None,
    scale: float | Mapping[str, float] = 0.0,
    bias: Mapping[str, np.ndarray] | None = None,
    seed: int = 0,
    opset: int = 17,
) -> Path:
    """Write a dense toy net; ``outputs`` maps name → (size, "none"|"softmax"|"sigmoid"|"tanh"|"relu").

    ``scale`` (per output or for all) scales the random weights; ``bias`` sets an
    output's bias vector (e.g. a fixed WDL before softmax).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, inits, graph_inputs = [], [], []
    flat_names, total = [], 0
    for name, shape in inputs.items():
        graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *shape]))
        nodes.append(helper.make_node("Flatten", [name], [f"{name}__flat"], axis=1))
        flat_names.append(f"{name}__flat")
        total += int(np.prod(shape))
    if len(flat_names) > 1:
        nodes.append(helper.make_node("Concat", flat_names, ["features"], axis=1))
        feat = "features"
    else:
        feat = flat_names[0]
    scales = list(scale.values()) if isinstance(scale, Mapping) else [scale]
    if not any(scales) and len(scales) >= (len(outputs) if isinstance(scale, Mapping) else 1):
        # all-zero weights: reduce the input to one feature so the constant net costs nothing
        inits.append(numpy_helper.from_array(np.array([1], np.int64), "sum_axes"))
        nodes.append(helper.make_node("ReduceSum", [feat, "sum_axes"], ["summed"], keepdims=1))
        feat, total = "summed", 1
    graph_outputs = []
    for name, (size, act) in outputs.items():
        s = scale.get(name, 0.0) if isinstance(scale, Mapping) else scale
        w = (rng.standard_normal((total, size)) * s).astype(np.float32)
        b = np.zeros(size, np.float32) if not bias or name not in bias else np.asarray(bias[name], np.float32)
        inits += [numpy_helper.from_array(w, f"{name}__w"), numpy_helper.from_array(b, f"{name}__b")]
        raw = f"{name}__raw" if act != "none" else name
        nodes.append(helper.make_node("Gemm", [feat, f"{name}__w", f"{name}__b"], [raw]))
        if act == "softmax":
            nodes.append(helper.make_node("Softmax", [raw], [name], axis=1))
        elif act == "sigmoid":
            nodes.append(helper.make_node("Sigmoid", [raw], [name]))
        elif act == "tanh":
            nodes.append(helper.make_node("Tanh", [raw], [name]))
        elif act == "relu":
            nodes.append(helper.make_node("Relu", [raw], [name]))
        elif act != "none":
            raise ValueError(f"unknown activation {act!r}")
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", size]))
    graph = helper.make_graph(nodes, "toy", graph_inputs, graph_outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    for k, v in (metadata or {}).items():
        model.metadata_props.add(key=k, value=str(v))
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    return path


def make_lc0_net(path: Path | str, *, scale: float = 0.0, wdl_bias=(0.0, 0.0, 0.0), seed: int = 0,
                 metadata: Mapping[str, str] | None = None, mlh: float | None = None,
                 mlh_scale: float = 0.0) -> Path:
    """A net with lc0's exported signature: /input/planes → /output/policy, /output/wdl; with
    ``mlh`` (its bias: the plies left of a position when ``mlh_scale`` is 0) also lc0's moves-left
    head /output/mlh, [B,1] after a ReLU."""
    outputs = {"/output/policy": (1858, "none"), "/output/wdl": (3, "softmax")}
    bias = {"/output/wdl": np.array(wdl_bias)}
    scales: float | dict[str, float] = scale
    if mlh is not None:
        outputs["/output/mlh"] = (1, "relu")
        bias["/output/mlh"] = np.array([mlh])
        scales = {"/output/policy": scale, "/output/wdl": scale, "/output/mlh": mlh_scale}
    return make_net(path, {"/input/planes": (112, 8, 8)}, outputs, scale=scales, bias=bias, seed=seed,
                    metadata=metadata)
