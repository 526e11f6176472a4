"""ONNX emission of KataGo's layers and trunk blocks (forward pass of ``eigenbackend.cpp``).

The mask is spatial plane 0; every norm + activation is multiplied by it; global pooling
uses the mask sum N per position. Batch norms that follow a convolution are folded into it.
Transformer blocks (:mod:`nets.katago_attention`) run on the same NCHW tensors.
"""

from __future__ import annotations

import numpy as np

from .katago_blocks import AttentionBlock, Block, FFNBlock, GPoolBlock, NestedBlock, OrdinaryBlock
from .katago_layers import Activation, BatchNorm, Conv, RMSNorm

__all__ = ["Graph", "Builder", "f32"]


class Graph:
    """Accumulates ONNX nodes and initialisers with unique names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list = []
        self.inits: list = []
        self.names: set[str] = set()
        self.n = 0

    def const(self, name: str, arr: np.ndarray) -> str:
        if name not in self.names:
            self.names.add(name)
            self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def op(self, op: str, inputs: list[str], name: str, out: str | None = None, **attrs) -> str:
        self.n += 1
        out = out or f"{name}/{op}{self.n}"
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=f"{name}/{op}{self.n}", **attrs))
        return out


def f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


class Builder:
    """Emits layers and blocks; ``spatial``/``global_`` name the graph inputs."""

    def __init__(self, g: Graph, spatial: str, global_: str) -> None:
        self.g = g
        for name, val in (("one", 1.0), ("minus1", -1.0), ("14", 14.0), ("0.1", 0.1)):
            g.const(f"k/{name}", np.array(val, np.float32))
        g.const("k/axes23", np.array([2, 3], np.int64))
        g.const("k/axes1", np.array([1], np.int64))
        g.const("k/start0", np.array([0], np.int64))
        g.const("k/end1", np.array([1], np.int64))
        self.mask = g.op("Slice", [spatial, "k/start0", "k/end1", "k/axes1"], "mask", out="mask")  # [B,1,H,W]
        self.mask_m1 = g.op("Sub", [self.mask, "k/one"], "mask", out="mask_minus_1")
        n = g.op("ReduceSum", [self.mask, "k/axes23"], "mask", keepdims=0)  # [B, 1]
        n = g.op("Max", [n, "k/one"], "mask", out="mask_sum")  # all-zero padding rows give no NaN
        k1 = g.op("Mul", [g.op("Sub", [g.op("Sqrt", [n], "mask"), "k/14"], "mask"), "k/0.1"], "mask",
                  out="pool_k1")
        self.n, self.k1 = n, k1
        self.k2 = g.op("Sub", [g.op("Mul", [k1, k1], "mask"), "k/0.1"], "mask", out="pool_k2")
        self.spatial, self.global_ = spatial, global_
        self._attention = None

    # -- layers ------------------------------------------------------------------------------
    def conv(self, x: str, conv: Conv, name: str, mul: np.ndarray | None = None,
             bias: np.ndarray | None = None) -> str:
        """Convolution, optionally with a folded per-output-channel (mul, bias)."""
        w = conv.weight.astype(np.float64)
        if mul is not None:
            w = w * mul[:, None, None, None]
        ky, kx = conv.weight.shape[2:]
        dy, dx = conv.dilation
        py, px = dy * (ky // 2), dx * (kx // 2)
        ins = [x, self.g.const(f"{name}/w", f32(w))]
        if bias is not None:
            ins.append(self.g.const(f"{name}/b", f32(bias)))
        return self.g.op("Conv", ins, name, kernel_shape=[ky, kx], pads=[py, px, py, px], dilations=[dy, dx])

    def act(self, x: str, act: Activation, name: str) -> str:
        """relu / identity / silu (x·sigmoid x) / mish (x·tanh softplus x)."""
        if act.kind == "relu":
            return self.g.op("Relu", [x], name)
        if act.kind == "silu":
            return self.g.op("Mul", [x, self.g.op("Sigmoid", [x], name)], name)
        if act.kind == "mish":
            return self.g.op("Mul", [x, self.g.op("Tanh", [self.g.op("Softplus", [x], name)], name)], name)
        return x

    def act_mask(self, x: str, act: Activation, name: str) -> str:
        return self.g.op("Mul", [self.act(x, act, name), self.mask], name)

    def bn_act(self, x: str, bn: BatchNorm, act: Activation, name: str) -> str:
        mul, add = bn.merged()
        c = bn.channels
        x = self.g.op("Mul", [x, self.g.const(f"{name}/scale", f32(mul).reshape(1, c, 1, 1))], name)
        x = self.g.op("Add", [x, self.g.const(f"{name}/bias", f32(add).reshape(1, c, 1, 1))], name)
        return self.act_mask(x, act, name)

    def conv_bn_act(self, x: str, conv: Conv, bn: BatchNorm, act: Activation, name: str) -> str:
        mul, add = bn.merged()
        return self.act_mask(self.conv(x, conv, name, mul, add), act, name)

    def matmul(self, v: str, w: np.ndarray, name: str, bias: np.ndarray | None = None) -> str:
        wname = self.g.const(f"{name}/w", f32(w))
        if bias is None:
            return self.g.op("MatMul", [v, wname], name)
        return self.g.op("Gemm", [v, wname, self.g.const(f"{name}/b", f32(bias))], name)

    def conv1x1(self, x: str, w: np.ndarray, name: str) -> str:
        """A dense layer [in, out] applied at every point of [B, in, H, W]."""
        return self.g.op("Conv", [x, self.g.const(f"{name}/w", f32(w.T[:, :, None, None]))], name,
                         kernel_shape=[1, 1])

    def add_channel_bias(self, x: str, v: str, name: str) -> str:
        return self.g.op("Add", [x, self.g.op("Unsqueeze", [v, "k/axes23"], name)], name)

    def rms_norm(self, x: str, norm: RMSNorm, name: str, act: Activation | None = None) -> str:
        """x / sqrt(mean(x²) + eps) · gamma (+ beta), activation, mask; the mean over channels at each
        point, or (``spatial``) over channels and on-board points together."""
        g = self.g
        sq = g.op("Mul", [x, x], name)
        if norm.spatial:
            total = g.op("ReduceSum", [g.op("Mul", [sq, self.mask], name), g.const("k/axes123",
                                                                                  np.array([1, 2, 3], np.int64))],
                         name, keepdims=1)
            count = g.op("Mul", [self.n, g.const(f"{name}/c", np.array(float(norm.channels), np.float32))], name)
            count = g.op("Unsqueeze", [count, "k/axes23"], name)  # [B,1,1,1]
            ms = g.op("Div", [total, count], name)
        else:
            ms = g.op("ReduceMean", [sq], name, axes=[1], keepdims=1)
        eps = g.const(f"{name}/eps", np.array(norm.epsilon, np.float32))
        y = g.op("Mul", [x, g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [ms, eps], name)], name)], name)], name)
        c = norm.channels
        y = g.op("Mul", [y, g.const(f"{name}/gamma", f32(norm.gamma).reshape(1, c, 1, 1))], name)
        if norm.beta is not None:
            y = g.op("Add", [y, g.const(f"{name}/beta", f32(norm.beta).reshape(1, c, 1, 1))], name)
        return self.act_mask(y, act or Activation(name, "identity"), name)

    def mean(self, x: str, name: str) -> str:
        s = self.g.op("ReduceSum", [x, "k/axes23"], name, keepdims=0)
        return self.g.op("Div", [s, self.n], name)

    def gpool(self, x: str, name: str) -> str:
        """[mean, mean*(sqrt N - 14)/10, masked max] per channel → [B, 3C]."""
        mean = self.mean(x, name)
        scaled = self.g.op("Mul", [mean, self.k1], name)
        mx = self.g.op("ReduceMax", [self.g.op("Add", [x, self.mask_m1], name)], name, axes=[2, 3], keepdims=0)
        mx = self.g.op("Max", [mx, "k/minus1"], name)  # KataGo starts its max at -1
        return self.g.op("Concat", [mean, scaled, mx], name, axis=1)

    def value_pool(self, x: str, name: str) -> str:
        """[mean, mean*k1, mean*(k1² - 0.1)] per channel → [B, 3C]."""
        mean = self.mean(x, name)
        a = self.g.op("Mul", [mean, self.k1], name)
        b = self.g.op("Mul", [mean, self.k2], name)
        return self.g.op("Concat", [mean, a, b], name, axis=1)

    # -- blocks ------------------------------------------------------------------------------
    def blocks(self, x: str, blocks: list[Block], name: str) -> str:
        """A residual stack: x += block(x) for each block."""
        for i, b in enumerate(blocks):
            x = self.g.op("Add", [x, self.block(x, b, f"{name}{i}")], f"{name}{i}")
        return x

    def block(self, x: str, b: Block, name: str) -> str:
        """What ``b`` adds to the trunk ``x``."""
        if isinstance(b, OrdinaryBlock):
            return self.ordinary(x, b, name)
        if isinstance(b, GPoolBlock):
            return self.gpool_block(x, b, name)
        if isinstance(b, NestedBlock):
            a = self.bn_act(x, b.pre_bn, b.pre_act, f"{name}/pre")
            m = self.blocks(self.conv(a, b.pre_conv, f"{name}/preconv"), b.blocks, f"{name}/inner")
            return self.conv(self.bn_act(m, b.post_bn, b.post_act, f"{name}/post"), b.post_conv,
                             f"{name}/postconv")
        if self._attention is None:
            from .katago_attention import TransformerEmitter

            self._attention = TransformerEmitter(self)
        if isinstance(b, AttentionBlock):
            return self._attention.attention(x, b, name)
        assert isinstance(b, FFNBlock)
        return self._attention.ffn(x, b, name)

    def ordinary(self, x: str, b: OrdinaryBlock, name: str) -> str:
        a = self.bn_act(x, b.pre_bn, b.pre_act, f"{name}/pre")
        m = self.conv_bn_act(a, b.conv1, b.mid_bn, b.mid_act, f"{name}/conv1")
        return self.conv(m, b.conv2, f"{name}/conv2")

    def gpool_block(self, x: str, b: GPoolBlock, name: str) -> str:
        a = self.bn_act(x, b.pre_bn, b.pre_act, f"{name}/pre")
        g = self.conv_bn_act(a, b.gpool_conv, b.gpool_bn, b.gpool_act, f"{name}/gpool")
        mul, add = b.mid_bn.merged()
        r = self.conv(a, b.regular_conv, f"{name}/regular", mul, add)
        bias = self.matmul(self.gpool(g, f"{name}/pool"), b.gpool_to_bias.weight * mul[None, :], f"{name}/tobias")
        m = self.act_mask(self.add_channel_bias(r, bias, name), b.mid_act, f"{name}/mid")
        return self.conv(m, b.final_conv, f"{name}/final")
