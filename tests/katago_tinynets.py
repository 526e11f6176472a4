"""Tiny random KataGo nets of model versions 12-17, written in KataGo's own file format, and
an independent numpy forward pass over the same weights (float64), written from KataGo's
``cpp/neuralnet/desc.cpp`` (layout) and ``eigenbackend.cpp`` (what each layer computes).

Used by tests/test_katago_import_modern.py; run as a script it writes the nets to a folder
(for recording KataGo's own outputs on them: tests/katago_record.py).
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

F32 = np.float32
POST = (20.0, 20.0, 20.0, 20.0, 40.0, 0.25, 30.0)  # KataGo's defaults before version 13


# -- random weights --------------------------------------------------------------------------------

class Rand:
    """Random layers in the file's layouts: conv HWIO, matmul [in, out]."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def conv(self, k: int, cin: int, cout: int) -> np.ndarray:
        return self.rng.normal(0, 1 / np.sqrt(k * k * cin), (k, k, cin, cout)).astype(F32)

    def bn(self, n: int, scale: bool = True) -> dict:
        r = self.rng
        return {"mean": r.normal(0, 0.3, n).astype(F32), "var": r.uniform(0.5, 2, n).astype(F32), "eps": 1e-5,
                "scale": r.uniform(0.5, 1.5, n).astype(F32) if scale else None, "bias": r.normal(0, 0.3, n).astype(F32)}

    def mm(self, i: int, o: int, gain: float = 1.0) -> np.ndarray:
        return (gain * self.rng.normal(0, 1 / np.sqrt(i), (i, o))).astype(F32)

    def vec(self, n: int, sd: float = 0.3) -> np.ndarray:
        return self.rng.normal(0, sd, n).astype(F32)

    def rms(self, n: int, beta: bool, spatial: bool = False) -> dict:
        return {"gamma": self.rng.uniform(0.5, 1.5, n).astype(F32), "eps": 1e-6,
                "beta": self.vec(n) if beta else None, "spatial": spatial}


def ordinary(r: Rand, c: int, mid: int, act: str) -> tuple:
    return ("ordinary_block", {"pre_bn": r.bn(c, False), "act": act, "conv1": r.conv(3, c, mid), "mid_bn": r.bn(mid),
                               "conv2": r.conv(3, mid, c)})


def gpool(r: Rand, c: int, mid: int, gp: int, act: str) -> tuple:
    return ("gpool_block", {"pre_bn": r.bn(c, False), "act": act, "regular": r.conv(3, c, mid),
                            "gpool": r.conv(3, c, gp), "gpool_bn": r.bn(gp), "to_bias": r.mm(3 * gp, mid),
                            "mid_bn": r.bn(mid), "final": r.conv(3, mid, c)})


def nested(r: Rand, c: int, inner: int, act: str) -> tuple:
    """A nested bottleneck block: 1x1 down to ``inner`` channels, ordinary + gpool inside, 1x1 up."""
    return ("nested_bottleneck_block", {
        "pre_bn": r.bn(c, False), "act": act, "pre_conv": r.conv(1, c, inner),
        "blocks": [ordinary(r, inner, inner, act), gpool(r, inner, inner, 3, act)],
        "post_bn": r.bn(inner), "post_conv": r.conv(1, inner, c)})


def attention(r: Rand, c: int, heads: int, kv: int, dq: int, dv: int, rope: str) -> tuple:
    b = {"heads": heads, "kv": kv, "dq": dq, "dv": dv, "rope": rope, "norm": r.rms(c, False),
         "q": r.mm(c, heads * dq, 2.0), "k": r.mm(c, kv * dq, 2.0), "v": r.mm(c, kv * dv), "out": r.mm(heads * dv, c)}
    if rope == "learnable":
        b["freqs"] = r.rng.normal(0, 0.8, (kv, dq // 2, 2)).astype(F32)
    elif rope == "fixed":
        b["theta"] = 100.0
    return ("transformer_attention_block", b)


def ffn(r: Rand, c: int, hidden: int) -> tuple:
    return ("transformer_ffn_block", {"norm": r.rms(c, False), "l1": r.mm(c, hidden), "gate": r.mm(c, hidden),
                                      "l2": r.mm(hidden, c)})


def random_model(version: int, layout: str, act: str = "relu", seed: int = 0, c: int = 8, *,
                 tip: str = "bn", policy_channels: int | None = None, post: tuple | None = None,
                 meta: bool = False, pass_alive: bool = False) -> dict:
    """A tiny net: ``layout`` "nbt" (ordinary + nested bottleneck), "tf-fixed" / "tf-learnable" /
    "tf-none" (attention + FFN, RoPE kind), "tf-gqa" (6 heads on 3 KV heads, learnable RoPE).
    ``tip``: "bn", "rms", "rms-spatial"."""
    r = Rand(seed)
    if layout == "nbt":
        blocks = [ordinary(r, c, 6, act), nested(r, c, 4, act)]
    else:
        rope = {"tf-fixed": "fixed", "tf-learnable": "learnable", "tf-none": "none", "tf-gqa": "learnable"}[layout]
        heads, kv, dq, dv = (6, 3, 4, 2) if layout == "tf-gqa" else (2, 2, 4, 4)
        blocks = [attention(r, c, heads, kv, dq, dv, rope), ffn(r, c, 12), ordinary(r, c, 6, act),
                  attention(r, c, heads, kv, dq, dv, rope), ffn(r, c, 12)]
    npol = policy_channels or (4 if version == 16 else 2 if version >= 12 else 1)
    m = {"name": f"tiny-v{version}-{layout}-{act}", "version": version, "post": post or POST, "meta": None,
         "pass_alive": pass_alive,
         "trunk": {"conv": r.conv(3, 22, c), "global": r.mm(19, c), "blocks": blocks, "act": act,
                   "tip": r.bn(c, False) if tip == "bn" else r.rms(c, True, tip == "rms-spatial")},
         "policy": {"channels": npol, "p1": r.conv(1, c, 4), "g1": r.conv(1, c, 3), "g1_bn": r.bn(3),
                    "to_bias": r.mm(9, 4), "p1_bn": r.bn(4), "p2": r.conv(1, 4, npol), "act": act},
         "value": {"v1": r.conv(1, c, 4), "v1_bn": r.bn(4), "v2": r.mm(12, 5), "v2b": r.vec(5), "v3": r.mm(5, 3),
                   "v3b": r.vec(3), "sv3": r.mm(5, 6), "sv3b": r.vec(6), "own": r.conv(1, 4, 1), "act": act}}
    p = m["policy"]
    if version >= 15:
        p.update(pass1=r.mm(9, 4), pass_b=r.vec(4), pass2=r.mm(4, npol))
    else:
        p["pass1"] = r.mm(9, npol)
    if meta:
        m["meta"] = {"mul1": r.mm(192, 6), "b1": r.vec(6), "mul2": r.mm(6, 5), "b2": r.vec(5), "mul3": r.mm(5, c)}
    return m


def param_count(m: dict) -> int:
    """KataGo's count of a model's parameters: every weight, but of a batch norm only its scale and
    bias (an RMS norm: gamma, and beta where it has one); numbers that are not arrays (eps, head
    counts, RoPE's theta) are no weights. Serves this file's models and test_katago_import's."""
    total = 0

    def walk(x) -> None:
        nonlocal total
        if isinstance(x, dict) and "mean" in x:
            total += sum(x[k].size for k in ("scale", "bias") if x[k] is not None)
        elif isinstance(x, dict):
            for val in x.values():
                walk(val)
        elif isinstance(x, (list, tuple)):
            for val in x:
                walk(val)
        elif isinstance(x, np.ndarray):
            total += x.size
    walk([m["trunk"], m["policy"], m["value"]])
    return total


# -- the file format -------------------------------------------------------------------------------

ACT_TOKENS = {"relu": "ACTIVATION_RELU", "identity": "ACTIVATION_IDENTITY", "mish": "ACTIVATION_MISH",
              "silu": "ACTIVATION_SILU"}


class Writer:
    """ASCII tokens, one record per line; weights as '@BIN@' little-endian float32 or decimal text."""

    def __init__(self, version: int, binary: bool = True) -> None:
        self.version, self.binary = version, binary
        self.parts: list[bytes] = []

    def tokens(self, *toks) -> None:
        self.parts.append((" ".join(str(t) for t in toks) + "\n").encode())

    def floats(self, arr) -> None:
        flat = np.asarray(arr, F32).ravel()
        if self.binary:
            self.parts.append(b"@BIN@" + flat.astype("<f4").tobytes() + b"\n")
        else:
            self.parts.append((" ".join(repr(float(v)) for v in flat) + "\n").encode())

    def conv(self, name: str, w: np.ndarray) -> None:
        self.tokens(name, *w.shape, 1, 1)
        self.floats(w)

    def bn(self, name: str, bn: dict) -> None:
        self.tokens(name, bn["mean"].size, bn["eps"], int(bn["scale"] is not None), int(bn["bias"] is not None))
        for key in ("mean", "var", "scale", "bias"):
            if bn[key] is not None:
                self.floats(bn[key])

    def act(self, name: str, kind: str = "relu") -> None:
        """An activation record: its name, and from model version 11 its kind (before: ReLU only)."""
        self.tokens(name, ACT_TOKENS[kind]) if self.version >= 11 else self.tokens(name)

    def matmul(self, name: str, w: np.ndarray) -> None:
        self.tokens(name, *w.shape)
        self.floats(w)

    def matbias(self, name: str, b: np.ndarray) -> None:
        self.tokens(name, b.size)
        self.floats(b)

    def tnorm(self, name: str, n: dict) -> None:
        self.tokens(name, n["gamma"].size, n["eps"])
        self.floats(n["gamma"])

    def block(self, name: str, kind: str, b: dict, token: str | None = None) -> None:
        """One trunk block; ``token`` is the kind written (default ``kind``: a test writes an unknown one)."""
        self.tokens(token or kind)
        if kind in ("ordinary_block", "gpool_block"):  # norm, act, conv(s), norm, act, conv around the residual
            self.tokens(name)
            self.bn(f"{name}/norm1", b["pre_bn"])
            self.act(f"{name}/actv1", b["act"])
            if kind == "ordinary_block":
                self.conv(f"{name}/w1", b["conv1"])
            else:
                self.conv(f"{name}/w1a", b["regular"])
                self.conv(f"{name}/w1b", b["gpool"])
                self.bn(f"{name}/norm1b", b["gpool_bn"])
                self.act(f"{name}/actv1b", b["act"])
                self.matmul(f"{name}/w1r", b["to_bias"])
            self.bn(f"{name}/norm2", b["mid_bn"])
            self.act(f"{name}/actv2", b["act"])
            self.conv(f"{name}/w2", b["conv2" if kind == "ordinary_block" else "final"])
        elif kind == "nested_bottleneck_block":
            self.tokens(name, len(b["blocks"]))
            self.bn(f"{name}/normpre", b["pre_bn"])
            self.act(f"{name}/actvpre", b["act"])
            self.conv(f"{name}/convpre", b["pre_conv"])
            for i, (k, inner) in enumerate(b["blocks"]):
                self.block(f"{name}/b{i}", k, inner)
            self.bn(f"{name}/normpost", b["post_bn"])
            self.act(f"{name}/actvpost", b["act"])
            self.conv(f"{name}/convpost", b["post_conv"])
        elif kind == "transformer_attention_block":
            rope = b["rope"]
            self.tokens(name, b["heads"], b["kv"], b["dq"], b["dv"], int(rope != "none"), int(rope == "learnable"))
            self.tnorm(f"{name}/norm", b["norm"])
            for key in ("q", "k", "v", "out"):
                self.matmul(f"{name}/{key}", b[key])
            if rope == "learnable":
                self.tokens(f"{name}/freqs", *b["freqs"].shape)
                self.floats(b["freqs"])
            elif rope == "fixed":
                self.tokens(f"{name}/theta", b["theta"])
        else:
            self.tokens(name, b["l1"].shape[0], b["l1"].shape[1], 1)
            self.tnorm(f"{name}/norm", b["norm"])
            self.matmul(f"{name}/l1", b["l1"])
            self.matmul(f"{name}/gate", b["gate"])
            self.matmul(f"{name}/l2", b["l2"])

    def policy_head(self, p: dict, p1_name: str = "p1/w") -> None:
        """The policy head (``p1_name``: older files name the first conv p1/intermediate_conv/w)."""
        self.tokens("policyhead")
        if self.version >= 17:
            self.tokens(p["channels"], 0, 0, 0)
        self.conv(p1_name, p["p1"])
        self.conv("g1/w", p["g1"])
        self.bn("g1/norm", p["g1_bn"])
        self.act("g1/actv", p["act"])
        self.matmul("matmulg2w", p["to_bias"])
        self.bn("p1/norm", p["p1_bn"])
        self.act("p1/actv", p["act"])
        self.conv("p2/w", p["p2"])
        self.matmul("matmulpass", p["pass1"])
        if self.version >= 15:
            self.matbias("matbiaspass", p["pass_b"])
            self.act("passactv", p["act"])
            self.matmul("matmulpass2", p["pass2"])

    def value_head(self, vh: dict) -> None:
        self.tokens("valuehead")
        if self.version >= 17:
            self.tokens(0, 0, 0)
        self.conv("v1/w", vh["v1"])
        self.bn("v1/norm", vh["v1_bn"])
        self.act("v1/actv", vh["act"])
        self.matmul("v2/w", vh["v2"])
        self.matbias("v2/b", vh["v2b"])
        self.act("v2/actv", vh["act"])
        self.matmul("v3/w", vh["v3"])
        self.matbias("v3/b", vh["v3b"])
        self.matmul("sv3/w", vh["sv3"])
        self.matbias("sv3/b", vh["sv3b"])
        self.conv("vownership/w", vh["own"])

    def data(self) -> bytes:
        return b"".join(self.parts)


def serialize(m: dict, binary: bool = True) -> bytes:
    """The model in KataGo's container order (desc.cpp ``ModelDesc``)."""
    v = m["version"]
    w = Writer(v, binary)
    t, p, vh = m["trunk"], m["policy"], m["value"]
    c = t["conv"].shape[3]
    w.tokens(m["name"])
    w.tokens(v)
    w.tokens(22)
    w.tokens(19)
    if v >= 13:
        w.tokens(*m["post"])
    if v >= 15:
        w.tokens(1 if m["meta"] else 0, int(m["pass_alive"]), 0, 0, 0, 0, 0, 0)
    w.tokens("trunk", len(t["blocks"]), c, c, c, 0, 3)
    if v >= 15:
        w.tokens(0 if "mean" in t["tip"] else 1, 0, 0, 0, 0, 0)
    w.conv("conv1", t["conv"])
    w.matmul("ginputw", t["global"])
    if m["meta"]:
        me = m["meta"]
        w.tokens("metaencoder", 192)
        w.matmul("meta/mul1", me["mul1"])
        w.matbias("meta/b1", me["b1"])
        w.act("meta/act1", "relu")
        w.matmul("meta/mul2", me["mul2"])
        w.matbias("meta/b2", me["b2"])
        w.act("meta/act2", "relu")
        w.matmul("meta/mul3", me["mul3"])
    for i, (kind, b) in enumerate(t["blocks"]):
        w.block(f"rconv{i + 1}", kind, b)
    if "mean" in t["tip"]:
        w.bn("trunk/norm", t["tip"])
    else:
        tip = t["tip"]
        w.tokens("trunk/rmsnorm", tip["gamma"].size, tip["eps"], int(tip["spatial"]), 0)
        w.floats(tip["gamma"])
        w.floats(tip["beta"])
    w.act("trunk/actv", t["act"])
    w.policy_head(p)
    w.value_head(vh)
    return w.data()


# -- numpy forward pass (float64) ------------------------------------------------------------------

def act(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "relu":
        return np.maximum(x, 0)
    if kind == "mish":
        return x * np.tanh(np.logaddexp(0, x))
    if kind == "silu":
        return x / (1 + np.exp(-x))
    return x


def conv(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Zero-padded 'same' convolution; x [B,C,H,W], w [ky,kx,in,out]."""
    ky, kx = w.shape[:2]
    py, px = ky // 2, kx // 2
    xp = np.pad(x, ((0, 0), (0, 0), (py, py), (px, px)))
    h, wd = x.shape[2:]
    out = np.zeros((x.shape[0], w.shape[3], h, wd))
    for dy in range(ky):
        for dx in range(kx):
            out += np.einsum("bchw,co->bohw", xp[:, :, dy:dy + h, dx:dx + wd], w[dy, dx].astype(np.float64))
    return out


def bn(x: np.ndarray, b: dict) -> np.ndarray:
    s = 1.0 if b["scale"] is None else b["scale"][None, :, None, None]
    return (x - b["mean"][None, :, None, None]) / np.sqrt(b["var"][None, :, None, None] + b["eps"]) * s \
        + b["bias"][None, :, None, None]


def gpool_vec(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n = mask.sum(axis=(1, 2, 3))[:, None]
    mean = x.sum(axis=(2, 3)) / n
    mx = np.maximum(np.where(mask > 0, x, -np.inf).max(axis=(2, 3)), -1.0)
    return np.concatenate([mean, mean * (np.sqrt(n) - 14) / 10, mx], axis=1)


def rms_positions(x: np.ndarray, gamma: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt((x * x).mean(axis=1, keepdims=True) + eps) * gamma[None, :, None, None]


def rope_angles(b: dict, h: int, w: int) -> np.ndarray:
    """[heads-or-kv, pairs, H, W] rotation angles (fixed: first half of pairs by row y, rest by column x)."""
    pairs = b["dq"] // 2
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    if b["rope"] == "learnable":
        f = b["freqs"].astype(np.float64)
        return xs[None, None] * f[:, :, 0, None, None] + ys[None, None] * f[:, :, 1, None, None]
    out = np.zeros((1, pairs, h, w))
    per = pairs // 2
    for p in range(pairs):
        q = p if p < per else p - per
        freq = 1.0 / b["theta"] ** (2 * q / (b["dq"] / 2))
        out[0, p] = (ys if p < per else xs) * freq
    return out


def rotate(t: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """t [B, heads, dq, H, W], ang [heads or 1, pairs, H, W]: rotate channel pairs (2p, 2p+1)."""
    out = t.copy()
    c, s = np.cos(ang)[None], np.sin(ang)[None]
    x0, x1 = t[:, :, 0::2], t[:, :, 1::2]
    out[:, :, 0::2] = x0 * c - x1 * s
    out[:, :, 1::2] = x0 * s + x1 * c
    return out


def attention_block(x: np.ndarray, b: dict, mask: np.ndarray) -> np.ndarray:
    bsz, _, h, w = x.shape
    n = rms_positions(x, b["norm"]["gamma"], b["norm"]["eps"]) * mask
    proj = lambda key, k: np.einsum("bchw,co->bohw", n, b[key].astype(np.float64)).reshape(bsz, -1, k, h, w)  # noqa
    q, k, v = proj("q", b["dq"]), proj("k", b["dq"]), proj("v", b["dv"])
    if b["rope"] != "none":
        ang = rope_angles(b, h, w)
        group = b["heads"] // b["kv"]
        q = rotate(q, np.repeat(ang, group, axis=0) if ang.shape[0] > 1 else ang)
        k = rotate(k, ang)
    out = np.zeros((bsz, b["heads"], b["dv"], h * w))
    for i in range(bsz):
        on = mask[i, 0].ravel() > 0
        for hd in range(b["heads"]):
            kv = hd // (b["heads"] // b["kv"])
            qm, km, vm = (t[i, j].reshape(t.shape[2], -1) for t, j in ((q, hd), (k, kv), (v, kv)))
            scores = qm.T @ km / np.sqrt(b["dq"])  # [S query, S key]
            scores[:, ~on] = -np.inf
            pr = np.exp(scores - scores.max(axis=1, keepdims=True))
            pr /= pr.sum(axis=1, keepdims=True)
            out[i, hd] = (pr @ vm.T).T
    o = np.einsum("bchw,co->bohw", out.reshape(bsz, -1, h, w), b["out"].astype(np.float64))
    return o * mask


def ffn_block(x: np.ndarray, b: dict, mask: np.ndarray) -> np.ndarray:
    n = rms_positions(x, b["norm"]["gamma"], b["norm"]["eps"]) * mask
    mm = lambda t, key: np.einsum("bchw,co->bohw", t, b[key].astype(np.float64))  # noqa
    return mm(act(mm(n, "l1"), "silu") * mm(n, "gate"), "l2") * mask


def block(x: np.ndarray, kind: str, b: dict, mask: np.ndarray) -> np.ndarray:
    """What one block adds to x."""
    if kind == "ordinary_block":
        a = act(bn(x, b["pre_bn"]), b["act"]) * mask
        return conv(act(bn(conv(a, b["conv1"]), b["mid_bn"]), b["act"]) * mask, b["conv2"])
    if kind == "gpool_block":
        a = act(bn(x, b["pre_bn"]), b["act"]) * mask
        g = act(bn(conv(a, b["gpool"]), b["gpool_bn"]), b["act"]) * mask
        r = conv(a, b["regular"]) + (gpool_vec(g, mask) @ b["to_bias"])[:, :, None, None]
        return conv(act(bn(r, b["mid_bn"]), b["act"]) * mask, b["final"])
    if kind == "nested_bottleneck_block":
        y = conv(act(bn(x, b["pre_bn"]), b["act"]) * mask, b["pre_conv"])
        for k, inner in b["blocks"]:
            y = y + block(y, k, inner, mask)
        return conv(act(bn(y, b["post_bn"]), b["act"]) * mask, b["post_conv"])
    if kind == "transformer_attention_block":
        return attention_block(x, b, mask)
    return ffn_block(x, b, mask)


def forward(m: dict, spatial: np.ndarray, glob: np.ndarray) -> dict[str, np.ndarray]:
    """Raw outputs in the ONNX signature's layout (policy channels 0 and 1 separately)."""
    x64, g64 = spatial.astype(np.float64), glob.astype(np.float64)
    mask = x64[:, :1]
    t, p, v = m["trunk"], m["policy"], m["value"]
    x = conv(x64, t["conv"]) + (g64 @ t["global"])[:, :, None, None]
    for kind, b in t["blocks"]:
        x = x + block(x, kind, b, mask)
    tip = t["tip"]
    if "mean" in tip:
        x = bn(x, tip)
    elif tip["spatial"]:
        ms = (x * x * mask).sum(axis=(1, 2, 3), keepdims=True) / (mask.sum(axis=(1, 2, 3), keepdims=True) * x.shape[1])
        x = x / np.sqrt(ms + tip["eps"]) * tip["gamma"][None, :, None, None] + tip["beta"][None, :, None, None]
    else:
        x = rms_positions(x, tip["gamma"], tip["eps"]) + tip["beta"][None, :, None, None]
    x = act(x, t["act"]) * mask
    g = act(bn(conv(x, p["g1"]), p["g1_bn"]), p["act"]) * mask
    pooled = gpool_vec(g, mask)
    p1 = conv(x, p["p1"]) + (pooled @ p["to_bias"])[:, :, None, None]
    p1 = act(bn(p1, p["p1_bn"]), p["act"]) * mask
    board = conv(p1, p["p2"]).reshape(x.shape[0], p["channels"], -1)
    if "pass2" in p:
        passes = act(pooled @ p["pass1"] + p["pass_b"], p["act"]) @ p["pass2"]
    else:
        passes = pooled @ p["pass1"]
    out = {"out_policy": np.concatenate([board[:, 0], passes[:, :1]], axis=1)}
    if p["channels"] >= 2:
        out["out_policy_optimistic"] = np.concatenate([board[:, 1], passes[:, 1:2]], axis=1)
    v1 = act(bn(conv(x, v["v1"]), v["v1_bn"]), v["act"]) * mask
    n = mask.sum(axis=(1, 2, 3))[:, None]
    mean = v1.sum(axis=(2, 3)) / n
    k1 = (np.sqrt(n) - 14) / 10
    v2 = act(np.concatenate([mean, mean * k1, mean * (k1 * k1 - 0.1)], axis=1) @ v["v2"] + v["v2b"], v["act"])
    out.update(out_value=v2 @ v["v3"] + v["v3b"], out_score=(v2 @ v["sv3"] + v["sv3b"])[:, :4],
               out_ownership=conv(v1, v["own"])[:, 0])
    return out


#: the nets recorded with KataGo (tests/data/katago_rawnn_tiny.json): name -> random_model arguments
RECORDED = {
    "v12-nbt-relu": dict(version=12, layout="nbt", act="relu", seed=12),
    "v13-nbt-mish": dict(version=13, layout="nbt", act="mish", seed=13, post=(20.0, 15.0, 25.0, 12.0, 40.0, 0.25, 150.0)),
    "v14-nbt-silu": dict(version=14, layout="nbt", act="silu", seed=14),
    "v15-nbt-mish": dict(version=15, layout="nbt", act="mish", seed=15),
    "v16-nbt-silu": dict(version=16, layout="nbt", act="silu", seed=16),
    "v17-tf-fixed-rms": dict(version=17, layout="tf-fixed", act="silu", seed=17, tip="rms"),
    "v17-tf-gqa-bn": dict(version=17, layout="tf-gqa", act="relu", seed=18, policy_channels=4),
    "v17-tf-none-rmsspatial": dict(version=17, layout="tf-none", act="mish", seed=19, tip="rms-spatial"),
}


def recorded_model(name: str) -> dict:
    m = random_model(c=16, **RECORDED[name])
    m["name"] = f"tiny-{name}"
    return m


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tinynets")
    out.mkdir(parents=True, exist_ok=True)
    for key in RECORDED:
        (out / f"{key}.bin.gz").write_bytes(gzip.compress(serialize(recorded_model(key))))
        print(out / f"{key}.bin.gz")
