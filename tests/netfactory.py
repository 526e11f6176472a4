"""Build tiny ONNX networks at test time with the onnx helper API.

Every net is ``flatten(inputs) → concat → MatMul(+bias) → head activation`` per
output, with weights drawn from a seeded RNG and scaled by ``scale`` (``0`` gives a
uniform policy and a constant value: the "uniform net" that search tests use).
The batch axis is dynamic.

>>> path = make_net(tmp / "n.onnx", {"x": (3, 2, 2)}, {"p": (5, "none"), "v": (1, "tanh")})

A net with weights is tens of MB (the lc0 signature: 7,168 × 1,858 floats) and takes about a
second to build, and the same nets are wanted by many test modules. So with ``TABULA_TEST_NETS``
set to a folder (``tests/conftest.py`` sets it to ``.pytest_cache/d/tabula-nets``) each net is built once,
kept there under a hash of everything that decides its bytes (the arguments, this file, the onnx
and numpy versions), and copied to where a test wants it; ``pytest --cache-clear`` or
``-p no:cacheprovider`` builds afresh. Files of an older version of this file are removed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Mapping

import numpy as np

#: the environment variable naming the folder where built nets are kept between runs (unset:
#: every net is built where it is asked for)
CACHE_ENV = "TABULA_TEST_NETS"
_pruned: set[Path] = set()


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
    args = dict(inputs=inputs, outputs=outputs, metadata=metadata, scale=scale, bias=bias, seed=seed, opset=opset)
    path = Path(path)
    if not os.environ.get(CACHE_ENV):
        return _build(path, **args)
    kept = _cached(Path(os.environ[CACHE_ENV]), _key(**args))
    if not kept.is_file():
        fd, tmp = tempfile.mkstemp(dir=kept.parent, suffix=".part")
        os.close(fd)
        try:
            _build(Path(tmp), **args)
            os.replace(tmp, kept)  # whole or absent, for runs beside this one
        finally:
            Path(tmp).unlink(missing_ok=True)
    shutil.copyfile(kept, path)  # a copy: a test may rewrite its net in place
    return path


@functools.cache
def _generation() -> str:
    """What every net depends on besides its arguments: this file and the libraries that write it."""
    import onnx
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(f"onnx {onnx.__version__} numpy {np.__version__}".encode())
    return h.hexdigest()[:12]


def _key(**args) -> str:
    def plain(v):
        if isinstance(v, Mapping):
            return [[str(k), plain(x)] for k, x in v.items()]  # in order: it is the graph's order
        if isinstance(v, (tuple, list)):
            return [plain(x) for x in v]
        if isinstance(v, np.ndarray):
            a = np.asarray(v, np.float32)  # as the net stores it
            return [list(a.shape), a.tobytes().hex()]
        return v.item() if isinstance(v, np.generic) else v
    return hashlib.sha256(json.dumps(plain(args)).encode()).hexdigest()[:24]


def _cached(folder: Path, key: str) -> Path:
    """The cache file for ``key``; the first call in a process removes files of other generations."""
    gen = _generation()
    folder.mkdir(parents=True, exist_ok=True)
    if folder not in _pruned:
        _pruned.add(folder)
        for old in folder.glob("*.onnx"):
            if not old.name.startswith(gen):
                old.unlink(missing_ok=True)
    return folder / f"{gen}-{key}.onnx"


def _build(path: Path, *, inputs, outputs, metadata, scale, bias, seed, opset) -> Path:
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
