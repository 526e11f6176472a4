"""Export a :class:`~nets.model.PolicyValueNet` to ONNX with Tabula's names and metadata.

Needs the ``train`` extra (torch, onnx).

>>> export_onnx(model, "nets/chess-6x64.onnx", provenance="distilled from Stockfish 15.1 …")

Tensor names per codec (batch axis dynamic, named ``batch``):

* ``lc0-112``: ``/input/planes`` [B,112,8,8] → ``/output/policy`` [B,1858] logits,
  ``/output/wdl`` [B,3] softmaxed (as lc0's ``leela2onnx``).
* ``dlshogi``: ``input1`` [B,62,9,9], ``input2`` [B,57,9,9] → ``output_policy`` [B,2187]
  logits, ``output_value`` [B,1] sigmoid win probability (as dlshogi's export).
* ``go``: ``input_planes`` [B,C,N,N] → ``output_policy`` [B,N²+1] logits (row-major
  points, then pass), ``output_value`` [B,1] tanh.

Metadata: ``tabula.game``, ``tabula.codec``, ``tabula.value`` (wdl|winprob|tanh),
``tabula.arch``, ``tabula.provenance``, ``tabula.board_size`` (go), ``tabula.config``
(the :class:`~nets.model.NetConfig` as JSON), plus any ``extra`` keys.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from .model import NetConfig, PolicyValueNet

#: codec → (game, input names, policy output, value output, value kind)
SIGNATURES: dict[str, tuple[str, tuple[str, ...], str, str, str]] = {
    "lc0-112": ("chess", ("/input/planes",), "/output/policy", "/output/wdl", "wdl"),
    "dlshogi": ("shogi", ("input1", "input2"), "output_policy", "output_value", "winprob"),
    "go": ("go", ("input_planes",), "output_policy", "output_value", "tanh"),
}

OPSET = 17


class Exported(nn.Module):
    """The model plus the value activation its format expects."""

    def __init__(self, model: PolicyValueNet) -> None:
        super().__init__()
        self.model = model
        self.kind = SIGNATURES[model.cfg.codec][4]

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p, v = self.model(*inputs)
        if self.kind == "wdl":
            v = torch.softmax(v, dim=1)
        elif self.kind == "winprob":
            v = torch.sigmoid(v)
        else:
            v = torch.tanh(v)
        return p, v


def metadata_for(cfg: NetConfig, provenance: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``tabula.*`` metadata for a net of this config."""
    game, _, _, _, kind = SIGNATURES[cfg.codec]
    meta = {
        "tabula.game": game,
        "tabula.codec": cfg.codec,
        "tabula.value": kind,
        "tabula.arch": cfg.arch,
        "tabula.provenance": provenance,
        "tabula.config": json.dumps(cfg.to_dict(), sort_keys=True),
    }
    if cfg.codec == "go":
        meta["tabula.board_size"] = str(cfg.board_size)
    meta.update({k: str(v) for k, v in (extra or {}).items()})
    return meta


def export_onnx(model: PolicyValueNet, path: str | Path, *, provenance: str,
                extra: Mapping[str, str] | None = None, opset: int = OPSET) -> Path:
    """Write ``model`` (put in eval mode, on CPU) to ``path`` as ONNX; returns the path."""
    import onnx

    cfg = model.cfg
    _, in_names, pol, val, _ = SIGNATURES[cfg.codec]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    model = model.cpu().eval()
    wrapper = Exported(model).eval()
    args = model.example_inputs(batch=2)
    dyn = {n: {0: "batch"} for n in (*in_names, pol, val)}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # legacy exporter: no onnxscript needed
            torch.onnx.export(wrapper, args, str(path), input_names=list(in_names), output_names=[pol, val],
                              dynamic_axes=dyn, opset_version=opset, do_constant_folding=True, dynamo=False)
    finally:
        model.train(was_training)
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for k, v in metadata_for(cfg, provenance, extra).items():
        proto.metadata_props.add(key=k, value=v)
    proto.producer_name = "tabula"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return path


def load_checkpoint(path: str | Path) -> PolicyValueNet:
    """A model from a training checkpoint (``{"config": …, "model": state_dict}``)."""
    ck = torch.load(str(path), map_location="cpu", weights_only=False)
    model = PolicyValueNet(NetConfig(**ck["config"]))
    model.load_state_dict(ck["model"])
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    """``python -m tabula.nets.export CHECKPOINT OUT.onnx --provenance TEXT``."""
    import argparse

    ap = argparse.ArgumentParser(description="Export a training checkpoint to ONNX.")
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--provenance", required=True)
    a = ap.parse_args(argv)
    export_onnx(load_checkpoint(a.checkpoint), a.out, provenance=a.provenance)
    print(a.out)


if __name__ == "__main__":
    main()
