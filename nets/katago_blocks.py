"""KataGo residual blocks: the kinds a trunk (or a nested bottleneck block) is a stack of.

``ordinary_block`` and ``gpool_block`` (every version), ``nested_bottleneck_block`` (a 1x1
"pre" conv into a smaller stack of blocks and a 1x1 "post" conv back; b18c384nbt and later),
``transformer_attention_block`` and ``transformer_ffn_block`` (model version 17). Layouts
from KataGo's ``cpp/neuralnet/desc.cpp``; what each computes: ``eigenbackend.cpp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from .katago_layers import (Activation, BatchNorm, Conv, KataGoFormatError, MatMul, Reader, RMSNorm,
                            expect, positive, read_act, read_bn, read_conv, read_matmul, read_rmsnorm)

__all__ = ["OrdinaryBlock", "GPoolBlock", "NestedBlock", "AttentionBlock", "FFNBlock", "Block",
           "read_block_stack", "BLOCK_KINDS"]


@dataclass
class OrdinaryBlock:
    """trunk += conv2(act(midBN(conv1(act(preBN(trunk))))))."""

    name: str
    pre_bn: BatchNorm
    pre_act: Activation
    conv1: Conv
    mid_bn: BatchNorm
    mid_act: Activation
    conv2: Conv

    kind = "ordinary"

    def params(self) -> int:
        return sum(x.params() for x in (self.pre_bn, self.conv1, self.mid_bn, self.conv2))


@dataclass
class GPoolBlock:
    """Residual block whose middle gets a per-channel bias from globally pooled features."""

    name: str
    pre_bn: BatchNorm
    pre_act: Activation
    regular_conv: Conv
    gpool_conv: Conv
    gpool_bn: BatchNorm
    gpool_act: Activation
    gpool_to_bias: MatMul
    mid_bn: BatchNorm
    mid_act: Activation
    final_conv: Conv

    kind = "gpool"

    def params(self) -> int:
        return sum(x.params() for x in (self.pre_bn, self.regular_conv, self.gpool_conv, self.gpool_bn,
                                        self.gpool_to_bias, self.mid_bn, self.final_conv))


Block = Union[OrdinaryBlock, GPoolBlock]




@dataclass
class NestedBlock:
    """trunk += postConv(act(postBN(stack(preConv(act(preBN(trunk))))))), the stack on fewer channels."""

    name: str
    pre_bn: BatchNorm
    pre_act: Activation
    pre_conv: Conv
    blocks: list["Block"]
    post_bn: BatchNorm
    post_act: Activation
    post_conv: Conv

    kind = "nested_bottleneck"

    def params(self) -> int:
        return (sum(x.params() for x in (self.pre_bn, self.pre_conv, self.post_bn, self.post_conv))
                + sum(b.params() for b in self.blocks))

    def kinds(self) -> list[str]:
        """The kinds of the blocks inside, depth first."""
        return [k for b in self.blocks for k in ([b.kind] + (b.kinds() if isinstance(b, NestedBlock) else []))]


@dataclass
class AttentionBlock:
    """trunk += mask * outProj(attention(RoPE(q), RoPE(k), v)) of the RMS-normed trunk; grouped KV heads."""

    name: str
    heads: int
    kv_heads: int
    q_dim: int
    v_dim: int
    norm: RMSNorm
    q: MatMul
    k: MatMul
    v: MatMul
    out: MatMul
    rope: str  # "none", "fixed" or "learnable"
    rope_theta: float = 0.0
    rope_freqs: np.ndarray | None = None  # [kv_heads, q_dim / 2, 2]: (x, y) frequency per pair

    kind = "transformer_attention"

    def params(self) -> int:
        extra = 0 if self.rope_freqs is None else int(self.rope_freqs.size)
        return sum(x.params() for x in (self.norm, self.q, self.k, self.v, self.out)) + extra


@dataclass
class FFNBlock:
    """trunk += mask * linear2(SiLU(linear1(n)) * gate(n)), n = RMS-normed trunk (SwiGLU)."""

    name: str
    norm: RMSNorm
    linear1: MatMul
    gate: MatMul
    linear2: MatMul

    kind = "transformer_ffn"

    def params(self) -> int:
        return sum(x.params() for x in (self.norm, self.linear1, self.gate, self.linear2))


Block = Union[OrdinaryBlock, GPoolBlock, NestedBlock, AttentionBlock, FFNBlock]


def _read_ordinary(r: Reader, version: int, trunk_ch: int) -> OrdinaryBlock:
    name = r.word("block name")
    b = OrdinaryBlock(name, read_bn(r), read_act(r, version), read_conv(r), read_bn(r),
                      read_act(r, version), read_conv(r))
    expect(b.pre_bn.channels == trunk_ch == b.conv1.in_channels == b.conv2.out_channels,
            f"{name}: block channels do not match the trunk's {trunk_ch}")
    expect(b.mid_bn.channels == b.conv1.out_channels == b.conv2.in_channels,
            f"{name}: mid batch norm / conv channels differ")
    return b


def _read_gpool(r: Reader, version: int, trunk_ch: int) -> GPoolBlock:
    name = r.word("block name")
    b = GPoolBlock(name, read_bn(r), read_act(r, version), read_conv(r), read_conv(r), read_bn(r),
                   read_act(r, version), read_matmul(r), read_bn(r), read_act(r, version),
                   read_conv(r))
    expect(b.pre_bn.channels == trunk_ch == b.regular_conv.in_channels == b.gpool_conv.in_channels
            == b.final_conv.out_channels, f"{name}: block channels do not match the trunk's {trunk_ch}")
    expect(b.gpool_bn.channels == b.gpool_conv.out_channels
            and b.gpool_to_bias.weight.shape[0] == 3 * b.gpool_bn.channels,
            f"{name}: global pooling channels differ")
    expect(b.mid_bn.channels == b.regular_conv.out_channels == b.gpool_to_bias.weight.shape[1]
            == b.final_conv.in_channels, f"{name}: mid channels differ")
    return b



def _read_nested(r: Reader, version: int, trunk_ch: int) -> NestedBlock:
    name = r.word("block name")
    n = positive(r, f"{name}: number of inner blocks")
    pre_bn, pre_act, pre_conv = read_bn(r), read_act(r, version), read_conv(r)
    expect(pre_bn.channels == trunk_ch == pre_conv.in_channels,
           f"{name}: block channels do not match the enclosing {trunk_ch}")
    inner = read_block_stack(r, version, pre_conv.out_channels, n, name)
    post_bn, post_act, post_conv = read_bn(r), read_act(r, version), read_conv(r)
    expect(post_bn.channels == pre_conv.out_channels == post_conv.in_channels,
           f"{name}: bottleneck channels differ")
    expect(post_conv.out_channels == trunk_ch, f"{name}: post conv does not return to {trunk_ch} channels")
    return NestedBlock(name, pre_bn, pre_act, pre_conv, inner, post_bn, post_act, post_conv)


def _read_attention(r: Reader, version: int, trunk_ch: int) -> AttentionBlock:
    name = r.word("block name")
    heads, kv_heads = positive(r, f"{name}: heads"), positive(r, f"{name}: KV heads")
    q_dim, v_dim = positive(r, f"{name}: q/k head size"), positive(r, f"{name}: v head size")
    use_rope, learnable = r.flag(f"{name}: RoPE flag"), r.flag(f"{name}: learnable-RoPE flag")
    expect(heads % kv_heads == 0, f"{name}: {heads} heads are not a multiple of {kv_heads} KV heads")
    if use_rope and q_dim % 2:
        raise KataGoFormatError(f"{name}: RoPE needs an even q/k head size, found {q_dim}")
    norm = read_rmsnorm(r, with_beta=False)
    q, k, v, out = read_matmul(r), read_matmul(r), read_matmul(r), read_matmul(r)
    expect(norm.channels == trunk_ch and all(m.weight.shape[0] == trunk_ch for m in (q, k, v)),
           f"{name}: input channels do not match the trunk's {trunk_ch}")
    expect(q.weight.shape[1] == heads * q_dim and k.weight.shape[1] == kv_heads * q_dim
           and v.weight.shape[1] == kv_heads * v_dim, f"{name}: q/k/v projection widths")
    expect(out.weight.shape == (heads * v_dim, trunk_ch), f"{name}: output projection shape")
    block = AttentionBlock(name, heads, kv_heads, q_dim, v_dim, norm, q, k, v, out,
                           "none" if not use_rope else "learnable" if learnable else "fixed")
    if use_rope and learnable:
        fname = r.word(f"{name}: RoPE frequencies")
        dims = [r.integer(f"{fname}: dimension") for _ in range(3)]
        expect(dims == [kv_heads, q_dim // 2, 2], f"{fname}: shape {dims}, expected {[kv_heads, q_dim // 2, 2]}")
        block.rope_freqs = r.floats(kv_heads * (q_dim // 2) * 2, fname).reshape(kv_heads, q_dim // 2, 2)
    elif use_rope:
        r.word(f"{name}: RoPE theta name")
        block.rope_theta = r.number(f"{name}: RoPE theta")
        if not (block.rope_theta > 0 and np.isfinite(block.rope_theta)):
            raise KataGoFormatError(f"{name}: RoPE theta {block.rope_theta} is not positive and finite")
    return block


def _read_ffn(r: Reader, version: int, trunk_ch: int) -> FFNBlock:
    name = r.word("block name")
    c, ffn = positive(r, f"{name}: channels"), positive(r, f"{name}: FFN channels")
    swiglu = r.flag(f"{name}: SwiGLU flag")
    if not swiglu:
        raise KataGoFormatError(f"{name}: a transformer_ffn_block without SwiGLU is not supported "
                                "(KataGo's reference CPU backend does not run it either)")
    norm, l1, gate, l2 = read_rmsnorm(r, with_beta=False), read_matmul(r), read_matmul(r), read_matmul(r)
    expect(c == trunk_ch == norm.channels, f"{name}: channels do not match the trunk's {trunk_ch}")
    expect(l1.weight.shape == (c, ffn) == gate.weight.shape and l2.weight.shape == (ffn, c),
           f"{name}: FFN layer shapes")
    return FFNBlock(name, norm, l1, gate, l2)


#: block kind in the file -> its reader
BLOCK_KINDS = {"ordinary_block": _read_ordinary, "gpool_block": _read_gpool,
               "nested_bottleneck_block": _read_nested, "transformer_attention_block": _read_attention,
               "transformer_ffn_block": _read_ffn}


def read_block_stack(r: Reader, version: int, channels: int, n: int, owner: str) -> list[Block]:
    """``n`` blocks (kind token, then the block) on ``channels`` channels."""
    blocks: list[Block] = []
    for i in range(n):
        kind = r.word(f"the kind of block {i + 1} of {owner}")
        reader = BLOCK_KINDS.get(kind)
        if reader is None:
            raise KataGoFormatError(f"block {i + 1} of {owner} is a {kind!r}, which is not supported "
                                    f"(supported: {', '.join(BLOCK_KINDS)})")
        blocks.append(reader(r, version, channels))
    return blocks
