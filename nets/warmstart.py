"""Start a training run from earlier weights: another run's ``last.pt``, or one of our ONNX exports.

An exported net has each batch norm folded into the convolution before it, so its weights
cannot be loaded by name. :func:`load_exported` puts the folded weights back (each norm
becomes the identity plus the folded bias) and checks that PyTorch then computes what
onnxruntime computes. A network in training mode normalises by the batch's own statistics,
which the folded weights no longer carry; :func:`recalibrate_norms` measures them on a
sample of training positions and sets each norm's scale and shift so that training starts
from the exported function rather than from a perturbed one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .model import ConvBN, PolicyValueNet, load_matching


def _conv_bns(model: PolicyValueNet) -> list[nn.Sequential]:
    """The conv+BN pairs in the order the forward pass runs them (stem, tower, heads)."""
    return [m for m in model.modules() if isinstance(m, ConvBN)]


def load_exported(model: PolicyValueNet, path: Path, *, check_positions: int = 8) -> None:
    """Load the weights of an ONNX file written by :func:`nets.export.export_onnx` for the same
    architecture; raises ``SystemExit`` with the reason if the file does not fit."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    if "tabula.config" not in meta:
        raise SystemExit(f"--init {path}: not a Tabula export (no tabula.config metadata)")
    if json.loads(meta["tabula.config"]) != model.cfg.to_dict():
        raise SystemExit(f"--init {path}: its architecture {meta.get('tabula.arch', '?')} "
                         f"is not this run's ({model.cfg.arch}): {meta['tabula.config']}")
    inits = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    own = model.state_dict()
    named = {k[len("model."):]: v for k, v in inits.items() if k.startswith("model.")}
    # the convolutions that carry their own names are the plain ones; the rest had a norm folded in
    folded = []
    for node in proto.graph.node:
        if node.op_type == "Conv" and not node.input[1].startswith("model."):
            folded.append((inits[node.input[1]], inits[node.input[2]]))
    pairs = _conv_bns(model)
    if len(folded) != len(pairs):
        raise SystemExit(f"--init {path}: {len(folded)} folded convolutions, the model has {len(pairs)}")
    with torch.no_grad():
        for k, v in named.items():
            if k not in own or tuple(own[k].shape) != v.shape:
                raise SystemExit(f"--init {path}: tensor {k} {v.shape} does not fit the model")
            own[k].copy_(torch.from_numpy(np.array(v)))
        model.load_state_dict(own)
        for (w, b), seq in zip(folded, pairs):
            conv, bn = seq[0], seq[1]
            if tuple(conv.weight.shape) != w.shape:
                raise SystemExit(f"--init {path}: folded convolution {w.shape} where the model has "
                                 f"{tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(np.array(w)))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(np.array(b)))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
    _check_against_onnx(model, path, check_positions)


def _check_against_onnx(model: PolicyValueNet, path: Path, n: int) -> None:
    """PyTorch (eval mode) and onnxruntime must agree on random inputs."""
    import onnxruntime as ort

    was_training = model.training
    device = next(model.parameters()).device
    model.eval()
    inputs = model.example_inputs(batch=n)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: x.numpy() for i, x in zip(sess.get_inputs(), inputs)}
    ref = sess.run(None, feeds)
    from .export import Exported

    with torch.no_grad():
        got = Exported(model)(*(x.to(device) for x in inputs))
    model.train(was_training)
    err = max(float(np.abs(g.float().cpu().numpy() - r).max()) for g, r in zip(got, ref))
    if err > 1e-3:
        raise SystemExit(f"--init {path}: the loaded weights do not reproduce the ONNX outputs (max diff {err:.2g})")


def recalibrate_norms(model: PolicyValueNet, inputs: tuple[torch.Tensor, ...]) -> None:
    """Give every batch norm the scale and shift that make its training-mode output equal its
    present eval-mode output on ``inputs`` (one eval pass; each conv's output statistics are
    taken as the norm's running statistics too)."""
    pairs = _conv_bns(model)
    stats: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(i: int):
        def grab(_m, _inp, out):
            x = out.float()
            stats[i] = (x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False))
        return grab

    handles = [seq[0].register_forward_hook(hook(i)) for i, seq in enumerate(pairs)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    with torch.no_grad():
        for i, seq in enumerate(pairs):
            bn = seq[1]
            mean, var = stats[i]
            # eval: (x - m) / sqrt(v + eps) * g + b; with g = sqrt(var + eps) * g0 / sqrt(v0 + eps)
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            shift = bn.bias - bn.running_mean * scale
            std = torch.sqrt(var + bn.eps)
            bn.weight.copy_(scale * std)
            bn.bias.copy_(scale * mean + shift)
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)


def init_from(model: PolicyValueNet, path: Path, calib: tuple[torch.Tensor, ...]) -> str:
    """Start ``model`` from ``path`` (a ``last.pt`` or an exported ``.onnx``); returns a log line."""
    if path.suffix == ".onnx":
        load_exported(model, path)
        recalibrate_norms(model, calib)
        return f"initialised every tensor from the exported net {path} (norms recalibrated on {len(calib[0])} positions)"
    device = next(model.parameters()).device
    copied, skipped = load_matching(model, torch.load(path, map_location=device, weights_only=False)["model"])
    if not copied:
        raise SystemExit(f"--init {path}: no tensor matches this architecture")
    return (f"initialised {len(copied)} tensors from {path}; {len(skipped)} left as built: "
            f"{', '.join(sorted({k.split('.')[0] for k in skipped})) or 'none'}")


def started_from(path: Path) -> str:
    """The provenance clause for a run begun with ``--init path`` (an export's own provenance kept)."""
    if path.suffix != ".onnx":
        return f"started from the matching weights of {path}"
    import onnx

    before = {p.key: p.value for p in onnx.load(str(path)).metadata_props}.get("tabula.provenance")
    return f"started from the exported net {path.name}" + (f" (that net: {before})" if before else "")
