"""ONNX emission of KataGo's transformer blocks (model version 17), on NCHW trunk tensors.

Attention (``TransformerAttentionBlock::apply`` in ``eigenbackend.cpp``): n = RMSNorm(trunk)
masked; q, k, v = 1x1 projections of n; rotary position embedding (RoPE) on q and k in
interleaved channel pairs (2p, 2p+1) of each head, fixed (theta: the first half of the pairs
rotate with the row y, the second half with the column x) or learnable (angle = x·fx + y·fy
per KV head and pair); softmax(q·k/√d) over on-board keys only; grouped KV heads (query
head h reads KV head h // (heads / kv_heads)); trunk += mask · outProj(result).
FFN: trunk += mask · linear2(SiLU(linear1 n) · gate n). Boards are padded in the top-left
corner; RoPE angles depend on (x, y) only, so padding does not change them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .katago_blocks import AttentionBlock, FFNBlock
from .katago_layers import Activation

if TYPE_CHECKING:
    from .katago_onnx import Builder

__all__ = ["TransformerEmitter", "rope_frequencies"]

#: added to the attention logits of off-board keys (exp underflows to exactly 0)
_MASKED = -1e30


def rope_frequencies(b: AttentionBlock) -> tuple[np.ndarray, np.ndarray]:
    """(fx, fy) [kv_heads or 1, pairs]: the angle of pair p at (x, y) is x·fx + y·fy."""
    pairs = b.q_dim // 2
    if b.rope == "learnable":
        assert b.rope_freqs is not None
        return b.rope_freqs[:, :, 0].astype(np.float32), b.rope_freqs[:, :, 1].astype(np.float32)
    per_dim, half = pairs // 2, b.q_dim // 2
    fx, fy = np.zeros((1, pairs), np.float32), np.zeros((1, pairs), np.float32)
    for p in range(pairs):
        q = p if p < per_dim else p - per_dim
        freq = np.float32(1.0) / np.power(np.float32(b.rope_theta), np.float32(2 * q) / np.float32(half))
        (fy if p < per_dim else fx)[0, p] = freq
    return fx, fy


class TransformerEmitter:
    """Emits attention and FFN blocks through a :class:`~nets.katago_onnx.Builder`."""

    def __init__(self, b: Builder) -> None:
        self.b, self.g = b, b.g
        g = self.g
        shape = g.op("Shape", [b.spatial], "seq", out="seq/shape")
        self.hw = g.op("Slice", [shape, g.const("k/start2", np.array([2], np.int64)),
                                 g.const("k/end4", np.array([4], np.int64))], "seq", out="seq/hw")
        h = g.op("Gather", [shape, g.const("k/i2", np.array(2, np.int64))], "seq")
        w = g.op("Gather", [shape, g.const("k/i3", np.array(3, np.int64))], "seq")
        idx = g.op("Range", [g.const("k/i0", np.array(0, np.int64)), g.op("Mul", [h, w], "seq"),
                             g.const("k/i1", np.array(1, np.int64))], "seq")  # [S], S = H·W, pos = y·W + x
        self.pos_y = g.op("Cast", [g.op("Div", [idx, w], "seq")], "seq", out="seq/y", to=1)
        self.pos_x = g.op("Cast", [g.op("Mod", [idx, w], "seq")], "seq", out="seq/x", to=1)
        # [B,1,1,1,S]: 0 on the board, -1e30 off it
        flat = g.op("Reshape", [b.mask, g.const("k/shape_b111s", np.array([0, 1, 1, 1, -1], np.int64))], "seq")
        self.key_bias = g.op("Mul", [g.op("Sub", [flat, "k/one"], "seq"),
                                     g.const("k/masked", np.array(-_MASKED, np.float32))], "seq",
                             out="seq/key_bias")

    def _heads(self, x: str, groups: int, per: int, dim: int, name: str) -> str:
        """[B, groups·per·dim, H, W] → [B, groups, per, dim, S]."""
        shape = self.g.const(f"{name}/shape", np.array([0, groups, per, dim, -1], np.int64))
        return self.g.op("Reshape", [x, shape], name)

    def _rope(self, x: str, blk: AttentionBlock, per: int, name: str) -> str:
        """Rotate pairs of x [B, kv, per, d, S] (per: query heads per KV head, or 1 for keys)."""
        g = self.g
        pairs, kv = blk.q_dim // 2, blk.kv_heads
        fx, fy = rope_frequencies(blk)
        shape4 = (fx.shape[0], 1, pairs, 1)  # broadcast over query heads sharing a KV head
        ax = g.op("Mul", [self.pos_x, g.const(f"{name}/fx", fx.reshape(shape4))], name)
        ay = g.op("Mul", [self.pos_y, g.const(f"{name}/fy", fy.reshape(shape4))], name)
        angle = g.op("Add", [ax, ay], name)  # [kv|1, 1, pairs, S]
        cos, sin = g.op("Cos", [angle], name), g.op("Sin", [angle], name)
        xs = g.op("Reshape", [x, g.const(f"{name}/pairs", np.array([0, kv, per, pairs, 2, -1], np.int64))], name)
        ax4 = g.const("k/axes4", np.array([4], np.int64))
        x0 = g.op("Slice", [xs, "k/start0", "k/end1", ax4], name)
        x1 = g.op("Slice", [xs, "k/end1", g.const("k/end2", np.array([2], np.int64)), ax4], name)
        x0, x1 = (g.op("Squeeze", [v, ax4], name) for v in (x0, x1))  # [B, kv, per, pairs, S]
        r0 = g.op("Sub", [g.op("Mul", [x0, cos], name), g.op("Mul", [x1, sin], name)], name)
        r1 = g.op("Add", [g.op("Mul", [x0, sin], name), g.op("Mul", [x1, cos], name)], name)
        rot = g.op("Concat", [g.op("Unsqueeze", [r0, ax4], name), g.op("Unsqueeze", [r1, ax4], name)], name,
                   axis=4)
        return g.op("Reshape", [rot, g.const(f"{name}/back", np.array([0, kv, per, blk.q_dim, -1], np.int64))],
                    name)

    def attention(self, x: str, blk: AttentionBlock, name: str) -> str:
        """What the attention block adds to the trunk x [B, C, H, W]."""
        g, b = self.g, self.b
        n = b.rms_norm(x, blk.norm, f"{name}/norm")
        kv, per = blk.kv_heads, blk.heads // blk.kv_heads
        q = self._heads(b.conv1x1(n, blk.q.weight, f"{name}/q"), kv, per, blk.q_dim, f"{name}/qh")
        k = self._heads(b.conv1x1(n, blk.k.weight, f"{name}/k"), kv, 1, blk.q_dim, f"{name}/kh")
        v = self._heads(b.conv1x1(n, blk.v.weight, f"{name}/v"), kv, 1, blk.v_dim, f"{name}/vh")
        if blk.rope != "none":
            q, k = self._rope(q, blk, per, f"{name}/qrope"), self._rope(k, blk, 1, f"{name}/krope")
        perm = [0, 1, 2, 4, 3]
        scores = g.op("MatMul", [g.op("Transpose", [q], name, perm=perm), k], name)  # [B, kv, per, S, S]
        scale = g.const(f"{name}/scale", np.array(1.0 / np.sqrt(np.float32(blk.q_dim)), np.float32))
        scores = g.op("Add", [g.op("Mul", [scores, scale], name), self.key_bias], name)
        probs = g.op("Softmax", [scores], name, axis=-1)
        out = g.op("MatMul", [probs, g.op("Transpose", [v], name, perm=perm)], name)  # [B, kv, per, S, dv]
        out = g.op("Transpose", [out], name, perm=perm)  # [B, kv, per, dv, S]
        target = g.op("Concat", [g.const(f"{name}/bc", np.array([0, blk.heads * blk.v_dim], np.int64)), self.hw],
                      name, axis=0)
        out = b.conv1x1(g.op("Reshape", [out, target], name), blk.out.weight, f"{name}/out")
        return g.op("Mul", [out, b.mask], name)

    def ffn(self, x: str, blk: FFNBlock, name: str) -> str:
        """What the SwiGLU feed-forward block adds to the trunk x [B, C, H, W]."""
        b = self.b
        n = b.rms_norm(x, blk.norm, f"{name}/norm")
        a = b.act(b.conv1x1(n, blk.linear1.weight, f"{name}/l1"), Activation(name, "silu"), f"{name}/silu")
        a = self.g.op("Mul", [a, b.conv1x1(n, blk.gate.weight, f"{name}/gate")], name)
        return self.g.op("Mul", [b.conv1x1(a, blk.linear2.weight, f"{name}/l2"), b.mask], name)
