"""KataGo model files → ONNX nets for the go engine (``tabula nets import-katago``).

Reads KataGo's own container (``.bin.gz``, ``.bin``, ``.txt.gz``, ``.txt``; facts in
``shared/formats/katago.md`` §1) into plain dataclasses of numpy arrays
(:mod:`nets.katago_model`, :mod:`nets.katago_blocks`, :mod:`nets.katago_layers`), then writes
an ONNX graph (``onnx.helper``, opset 17; :mod:`nets.katago_onnx`, :mod:`nets.katago_attention`)
that computes exactly KataGo's forward pass (``cpp/neuralnet/eigenbackend.cpp``).

Supported: model versions 3-17 — the g170 convnets (v8), the kata1 nets (v11-15:
nested-bottleneck blocks with gpool blocks inside, ReLU/Mish/SiLU activations, the
optimistic policy channel, the pass-policy MLP, post-processing multipliers in the header)
and the v17 transformer trunks (RMS-norm attention with fixed or learnable RoPE and grouped
KV heads, SwiGLU feed-forward blocks, RMS-norm trunk tip). Refused by name, with
:class:`KataGoFormatError`: model versions outside 3-17, unknown block kinds or activations,
non-SwiGLU feed-forward blocks and grouped RMS norms (KataGo's CPU backend runs neither),
non-zero reserved option fields (features newer than KataGo 1.17).

ONNX signature (batch and board height/width are all dynamic; NCHW, row-major boards,
``y = 0`` is the **top** row as in KataGo, point index ``pos = y * W + x``):

* inputs ``input_spatial`` float32 [batch, 22, H, W] and ``input_global`` float32
  [batch, 19] — KataGo's inputs version 7 features (``NNInputs::fillRowV7``);
  plane 0 must be 1 on the board and 0 elsewhere (boards smaller than H×W go in
  the top-left corner).
* ``out_policy`` [batch, H*W + 1]: raw policy logits, board points then pass.
* ``out_policy_optimistic`` [batch, H*W + 1] (model version 12+ only): the optimistic
  policy channel's logits (KataGo blends ``p + (opt − p) · policyOptimism``).
* ``out_value`` [batch, 3]: raw logits of win / loss / noResult for the side to move.
* ``out_score`` [batch, 4]: raw scoreMean, scoreStdev (before softplus), lead,
  varTimeLeft (before softplus), side to move; KataGo multiplies them by the header's
  multipliers (``tabula.katago.*_multiplier`` metadata; 20, 20, 20, 40 before version 13).
  Version 9+ nets' two short-term error outputs are dropped; versions 4–7 have no
  lead/varTimeLeft (lead repeats scoreMean, varTimeLeft is 0); version 3's single
  output is its pre-arctan score value (KataGo post-processes it differently).
* ``out_ownership`` [batch, H, W]: raw ownership (tanh → +1 = side to move owns).

The v16+ Q-value policy channels are not exported (KataGo reads only the first two). Nets
with an SGF-metadata encoder (human-style nets) are fed "no metadata": the encoder's
trunk bias is left out, as for nets without one (KataGo itself insists on a profile).

Off-board points (plane 0 = 0) get meaningless logits/ownership; all-zero rows (batch
padding) give finite garbage, never NaN.

Metadata: ``tabula.game=go``, ``tabula.codec=katago-v7`` (``katago-vN`` for the older
input versions), ``tabula.value=katago``, ``tabula.katago.*`` (model name, model and
input versions, parameter count as KataGo counts it, score multipliers), ``tabula.source``,
``tabula.converted_by``.

Needs ``onnx`` to convert (the ``test``/``train`` extras); reading needs only numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .katago_blocks import BLOCK_KINDS
from .katago_layers import Conv, KataGoFormatError
from .katago_model import (INPUT_FEATURES, MAX_VERSION, MIN_VERSION, SUPPORTED, KataGoModel, PolicyHead,
                           PostProcess, ValueHead, input_version, parse_model, read_model)
from .katago_onnx import Builder, Graph, f32

__all__ = ["KataGoFormatError", "KataGoModel", "read_model", "parse_model", "to_onnx",
           "import_katago", "ImportSummary", "default_output", "input_version",
           "INPUT_NAMES", "OUTPUT_NAMES", "INPUT_FEATURES", "MIN_VERSION", "MAX_VERSION", "SUPPORTED",
           "BLOCK_KINDS"]

INPUT_NAMES = ("input_spatial", "input_global")
OUTPUT_NAMES = ("out_policy", "out_value", "out_score", "out_ownership")
OPTIMISTIC_POLICY = "out_policy_optimistic"


# -- heads -------------------------------------------------------------------------------------

def _policy(b: Builder, trunk: str, h: PolicyHead) -> None:
    """out_policy (channel 0) and, with two or more channels, out_policy_optimistic (channel 1)."""
    g = b.g
    gp = b.conv_bn_act(trunk, h.g1_conv, h.g1_bn, h.g1_act, "policy/g1")
    pooled = b.gpool(gp, "policy/pool")
    mul, add = h.p1_bn.merged()
    p = b.conv(trunk, h.p1_conv, "policy/p1", mul, add)
    bias = b.matmul(pooled, h.gpool_to_bias.weight * mul[None, :], "policy/tobias")
    p = b.act_mask(b.add_channel_bias(p, bias, "policy/p1"), h.p1_act, "policy/p1")
    if h.gpool_to_pass2 is None:
        passes = b.matmul(pooled, h.gpool_to_pass.weight, "policy/pass")  # [B, channels]
    else:
        assert h.pass_bias is not None and h.pass_act is not None
        hidden = b.act(b.matmul(pooled, h.gpool_to_pass.weight, "policy/pass1", h.pass_bias.bias), h.pass_act,
                       "policy/pass1")
        passes = b.matmul(hidden, h.gpool_to_pass2.weight, "policy/pass2")
    keep = min(h.channels, 2)
    p2 = h.p2_conv
    if h.channels > keep:  # drop the Q-value channels
        p2 = Conv(p2.name, p2.weight[:keep], p2.dilation)
    board = b.conv(p, p2, "policy/p2")  # [B, keep, H, W]
    board = g.op("Reshape", [board, g.const("k/shape_bc_1", np.array([0, keep, -1], np.int64))], "policy")
    passes = g.op("Unsqueeze", [passes, g.const("k/axes2", np.array([2], np.int64))], "policy")  # [B, c, 1]
    if h.channels > keep:
        passes = g.op("Slice", [passes, "k/start0", g.const("k/keep", np.array([keep], np.int64)), "k/axes1"],
                      "policy")
    both = g.op("Concat", [board, passes], "policy", axis=2)  # [B, keep, HW + 1]
    for c, out in enumerate(["out_policy", OPTIMISTIC_POLICY][:keep]):
        start, end = g.const(f"k/c{c}", np.array([c], np.int64)), g.const(f"k/c{c + 1}", np.array([c + 1], np.int64))
        g.op("Squeeze", [g.op("Slice", [both, start, end, "k/axes1"], "policy"), "k/axes1"], "policy", out=out)


def _value(b: Builder, trunk: str, h: ValueHead, version: int) -> None:
    g = b.g
    mul, add = h.v1_bn.merged()
    v1 = b.act_mask(b.conv(trunk, h.v1_conv, "value/v1", mul, add), h.v1_act, "value/v1")
    v2 = b.matmul(b.value_pool(v1, "value/pool"), h.v2_mul.weight, "value/v2", h.v2_bias.bias)
    v2 = b.act(v2, h.v2_act, "value/v2")
    g.op("Gemm", [v2, g.const("value/v3/w", f32(h.v3_mul.weight)), g.const("value/v3/b", f32(h.v3_bias.bias))],
         "value/v3", out="out_value")
    w, bias = _score_layer(h, version)
    g.op("Gemm", [v2, g.const("value/sv3/w", w), g.const("value/sv3/b", bias)], "value/sv3", out="out_score")
    own = b.conv(v1, h.ownership_conv, "value/ownership")
    g.op("Squeeze", [own, "k/axes1"], "value/ownership", out="out_ownership")


def _score_layer(h: ValueHead, version: int) -> tuple[np.ndarray, np.ndarray]:
    """The score layer as 4 outputs: scoreMean, scoreStdev, lead, varTimeLeft (raw)."""
    w, b = h.sv3_mul.weight, h.sv3_bias.bias
    if version >= 8:
        return f32(w[:, :4]), f32(b[:4])
    zero_w, zero_b = np.zeros((w.shape[0], 1), np.float32), np.zeros(1, np.float32)
    if version >= 4:  # mean, stdev; lead = mean; no varTimeLeft
        return f32(np.concatenate([w, w[:, :1], zero_w], 1)), f32(np.concatenate([b, b[:1], zero_b]))
    return f32(np.concatenate([w, zero_w, w, zero_w], 1)), f32(np.concatenate([b, zero_b, b, zero_b]))


def codec_name(model: KataGoModel) -> str:
    return f"katago-v{model.input_version}"


def output_names(model: KataGoModel) -> list[str]:
    """The graph's outputs for ``model``: :data:`OUTPUT_NAMES`, plus the optimistic policy from v12."""
    names = list(OUTPUT_NAMES)
    if model.policy.channels >= 2:
        names.insert(1, OPTIMISTIC_POLICY)
    return names


def to_onnx(model: KataGoModel, *, opset: int = 17):
    """The ONNX ``ModelProto`` for ``model`` (signature in the module docstring)."""
    import onnx
    from onnx import TensorProto, helper

    g = Graph()
    b = Builder(g, INPUT_NAMES[0], INPUT_NAMES[1])
    t = model.trunk
    x = b.conv(b.spatial, t.initial_conv, "trunk/conv")
    x = b.add_channel_bias(x, b.matmul(b.global_, t.initial_matmul.weight, "trunk/global"), "trunk")
    x = b.blocks(x, t.blocks, "block")
    if hasattr(t.tip_norm, "mean"):
        trunk = b.bn_act(x, t.tip_norm, t.tip_act, "trunk/tip")  # type: ignore[arg-type]
    else:
        trunk = b.rms_norm(x, t.tip_norm, "trunk/tip", t.tip_act)  # type: ignore[arg-type]
    _policy(b, trunk, model.policy)
    _value(b, trunk, model.value, model.version)
    f = TensorProto.FLOAT
    shapes = {"out_policy": ["batch", "moves"], OPTIMISTIC_POLICY: ["batch", "moves"], "out_value": ["batch", 3],
              "out_score": ["batch", 4], "out_ownership": ["batch", "height", "width"]}
    graph = helper.make_graph(
        g.nodes, f"katago-{model.name}",
        [helper.make_tensor_value_info(INPUT_NAMES[0], f, ["batch", model.spatial_inputs, "height", "width"]),
         helper.make_tensor_value_info(INPUT_NAMES[1], f, ["batch", model.global_inputs])],
        [helper.make_tensor_value_info(n, f, shapes[n]) for n in output_names(model)],
        g.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="tabula")
    proto.ir_version = 8
    for k, v in metadata(model).items():
        proto.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(proto)
    return proto


def _arch(model: KataGoModel) -> str:
    kinds = set(model.inner_block_kinds())
    tag = "tf" if "transformer_attention" in kinds else "nbt" if "nested_bottleneck" in kinds else ""
    return f"b{len(model.trunk.blocks)}c{model.trunk.channels}{tag}"


def metadata(model: KataGoModel) -> dict[str, str]:
    """The ``metadata_props`` written into the ONNX file."""
    meta = {
        "tabula.game": "go",
        "tabula.codec": codec_name(model),
        "tabula.value": "katago",
        "tabula.arch": _arch(model),
        "tabula.katago.model_name": model.name,
        "tabula.katago.model_version": str(model.version),
        "tabula.katago.input_version": str(model.input_version),
        "tabula.katago.parameters": str(model.params()),
        "tabula.source": model.source,
        "tabula.converted_by": "tabula nets import-katago",
    }
    for key in PostProcess.FIELDS:
        meta[f"tabula.katago.{key}_multiplier"] = repr(float(getattr(model.postprocess, key)))
    if model.trunk.meta_encoder is not None:
        meta["tabula.katago.metadata_encoder"] = f"{model.trunk.meta_encoder.version} (fed no metadata)"
    if model.pass_alive_under_suicide:
        meta["tabula.katago.pass_alive_under_suicide_rules"] = "1"
    return meta


# -- the command's entry point -------------------------------------------------------------------

_SUFFIXES = (".bin.gz", ".txt.gz", ".bin", ".txt", ".gz")


def default_output(src: str | Path) -> Path:
    """``dir/name.bin.gz`` → ``dir/name.onnx`` (likewise for .txt.gz, .bin, .txt)."""
    src = Path(src)
    for suffix in _SUFFIXES:
        if src.name.endswith(suffix) and len(src.name) > len(suffix):
            return src.with_name(src.name[: -len(suffix)] + ".onnx")
    return src.with_name(src.name + ".onnx")


@dataclass
class ImportSummary:
    """What ``tabula nets import-katago`` reports."""

    model_name: str
    model_version: int
    input_version: int
    blocks: int
    gpool_blocks: int
    channels: int
    parameters: int
    output: str
    size_bytes: int
    codec: str
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"model:      {self.model_name} (KataGo model version {self.model_version}, "
               f"inputs v{self.input_version})",
               f"network:    {self.blocks} blocks ({self.gpool_blocks} global-pooling) x {self.channels} channels, "
               f"{self.parameters:,} parameters",
               f"wrote:      {self.output} ({self.size_bytes / 1e6:.2f} MB, codec {self.codec})"]
        if self.input_version != 7:
            out.append(f"note:       tabula's KataGo codec encodes inputs v7 (model versions 8-17); this net "
                       f"needs inputs v{self.input_version}")
        out.extend(f"note:       {n}" for n in self.notes)
        return out


def import_katago(src: str | Path, dst: str | Path | None = None) -> ImportSummary:
    """Convert the KataGo model ``src`` to ONNX at ``dst`` (default: :func:`default_output`)."""
    try:
        import onnx
    except ImportError:
        raise RuntimeError("converting KataGo models needs the onnx package: pip install onnx") from None
    model = read_model(src)
    out = Path(dst) if dst is not None else default_output(src)
    proto = to_onnx(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out))
    return ImportSummary(model.name, model.version, model.input_version, len(model.trunk.blocks),
                         model.gpool_blocks(), model.trunk.channels, model.params(), str(out),
                         out.stat().st_size, codec_name(model), _notes(model))


def _notes(model: KataGoModel) -> tuple[str, ...]:
    notes = []
    if model.trunk.meta_encoder is not None:
        notes.append("this net has an SGF-metadata encoder (human-style play); it is fed no metadata")
    if model.pass_alive_under_suicide:
        notes.append("this net expects area features computed as if suicide were legal; tabula computes them "
                     "under its own rules")
    return tuple(notes)
