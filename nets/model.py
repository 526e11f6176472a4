"""AlphaZero-style residual policy/value networks (PyTorch), one head set per codec.

Needs the optional ``train`` extra (torch); the engine never imports this module.

>>> net = PolicyValueNet(NetConfig(codec="lc0-112", blocks=6, filters=64, se=True))
>>> policy, value = net(torch.zeros(2, 112, 8, 8))   # logits [2,1858], WDL logits [2,3]

``forward`` returns raw logits (for the losses); :mod:`nets.export` wraps the model
with the activations and tensor names each format expects (softmaxed WDL, sigmoid
win probability, tanh value).

Heads per codec:

* ``lc0-112``: input [112,8,8]. Policy "conv" (default): 3×3 conv → 3×3 conv to 73
  move planes (56 queen-like rays, 8 knight jumps, 9 q/r/b promotion planes) at the
  from-square, then a constant gather into lc0's 1858 order (parameter-cheap, like
  lc0's conv policy). Policy "dense": 1×1 conv → flatten → Linear(1858).
  Value: 1×1 conv to 32 → Linear(128) → Linear(3) W/D/L logits.
* ``dlshogi``: inputs input1 [62,9,9] + input2 [57 or 119,9,9] concatenated on channels.
  Policy: 3×3 conv → 1×1 conv to 27 planes, flattened plane-major (label = dir·81 + sq).
  Value: 1×1 conv → Linear(128) → Linear(1) logit (sigmoid = win probability).
* ``go``: input [C_in,N,N]. Policy: 1×1 conv to 2 → Linear(N²+1) (points row-major, then
  pass). Value: 1×1 conv → Linear(128) → Linear(1) (tanh).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CODECS = ("lc0-112", "dlshogi", "go")


@dataclass
class NetConfig:
    """Architecture of a :class:`PolicyValueNet`."""

    codec: str = "lc0-112"
    blocks: int = 6
    filters: int = 64
    se: bool = True
    se_ratio: int = 4
    #: lc0-112 policy head: "conv" (gather from 73 move planes) or "dense".
    policy_head: str = "conv"
    policy_channels: int = 32
    value_channels: int = 32
    value_hidden: int = 128
    #: dlshogi: channels of input1 / input2 (57 classic, 119 with nyugyoku features).
    input1_channels: int = 62
    input2_channels: int = 57
    #: go: input planes and board size.
    in_channels: int = 0
    board_size: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.codec not in CODECS:
            raise ValueError(f"unknown codec {self.codec!r}; expected one of {CODECS}")
        if self.codec == "go" and (self.in_channels <= 0 or self.board_size <= 0):
            raise ValueError("codec 'go' needs in_channels and board_size")
        if self.policy_head not in ("conv", "dense"):
            raise ValueError(f"policy_head must be 'conv' or 'dense', not {self.policy_head!r}")

    @property
    def arch(self) -> str:
        """Short name such as ``6x64-se`` (stored as ``tabula.arch``)."""
        return f"{self.blocks}x{self.filters}" + ("-se" if self.se else "")

    @property
    def input_channels(self) -> int:
        """Channels entering the tower."""
        if self.codec == "lc0-112":
            return 112
        if self.codec == "dlshogi":
            return self.input1_channels + self.input2_channels
        return self.in_channels

    @property
    def board(self) -> int:
        """Board side length."""
        return {"lc0-112": 8, "dlshogi": 9}.get(self.codec, self.board_size)

    @property
    def policy_size(self) -> int:
        """Length of the policy vector."""
        return {"lc0-112": 1858, "dlshogi": 2187}.get(self.codec, self.board_size ** 2 + 1)

    def to_dict(self) -> dict:
        """Plain dict (for checkpoints)."""
        return asdict(self)


# -- the lc0 1858-move list and the conv-head gather map ------------------------------------

_QUEEN_DIRS = [(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)]  # (dfile, drank)
_KNIGHT_DIRS = [(1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2)]


@lru_cache(maxsize=1)
def lc0_moves() -> tuple[tuple[int, int, str], ...]:
    """lc0's 1858 policy entries as (from, to, promo) with promo in '', 'q', 'r', 'b'.

    Built by the rule in ``shared/formats/lc0.md`` §2.1 (squares a1=0 … h8=63, STM view).
    """
    out: list[tuple[int, int, str]] = []
    for fr in range(64):
        f0, r0 = fr % 8, fr // 8
        for to in range(64):
            if to == fr:
                continue
            df, dr = to % 8 - f0, to // 8 - r0
            if df == 0 or dr == 0 or abs(df) == abs(dr) or {abs(df), abs(dr)} == {1, 2}:
                out.append((fr, to, ""))
    for f in range(8):
        for tf in (f - 1, f, f + 1):
            if 0 <= tf < 8:
                for p in "qrb":
                    out.append((48 + f, 56 + tf, p))
    assert len(out) == 1858
    return tuple(out)


@lru_cache(maxsize=1)
def lc0_conv_gather() -> np.ndarray:
    """For each of the 1858 entries, its slot ``plane*64 + from`` in a [73,8,8] conv output.

    Planes 0–55: queen-like ray (8 directions × distance 1–7); 56–63: knight jumps;
    64–72: promotions to q/r/b × to-file offset −1/0/+1 (knight promotions use the
    plain ray entry, as in lc0).
    """
    idx = np.empty(1858, np.int64)
    for i, (fr, to, promo) in enumerate(lc0_moves()):
        df, dr = to % 8 - fr % 8, to // 8 - fr // 8
        if promo:
            plane = 64 + "qrb".index(promo) * 3 + (df + 1)
        elif (df, dr) in _KNIGHT_DIRS:
            plane = 56 + _KNIGHT_DIRS.index((df, dr))
        else:
            dist = max(abs(df), abs(dr))
            plane = _QUEEN_DIRS.index((int(np.sign(df)), int(np.sign(dr)))) * 7 + dist - 1
        idx[i] = plane * 64 + fr
    assert len(set(idx.tolist())) == 1858
    return idx


# -- building blocks -------------------------------------------------------------------------

class ConvBN(nn.Sequential):
    """Conv (no bias) + BatchNorm + optional ReLU."""

    def __init__(self, cin: int, cout: int, k: int, relu: bool = True) -> None:
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout)]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class SqueezeExcite(nn.Module):
    """lc0-style SE: pooled → FC → ReLU → FC to 2C → ``sigmoid(w)·x + b``."""

    def __init__(self, channels: int, ratio: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, max(1, channels // ratio))
        self.fc2 = nn.Linear(max(1, channels // ratio), 2 * channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean(dim=(2, 3))
        s = self.fc2(F.relu(self.fc1(s)))
        w, b = s.chunk(2, dim=1)
        return torch.sigmoid(w)[:, :, None, None] * x + b[:, :, None, None]


class ResBlock(nn.Module):
    """conv-BN-ReLU-conv-BN(-SE) + skip, then ReLU."""

    def __init__(self, channels: int, se: bool, se_ratio: int) -> None:
        super().__init__()
        self.conv1 = ConvBN(channels, channels, 3)
        self.conv2 = ConvBN(channels, channels, 3, relu=False)
        self.se = SqueezeExcite(channels, se_ratio) if se else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.conv1(x))
        if self.se is not None:
            y = self.se(y)
        return F.relu(x + y)


class PolicyValueNet(nn.Module):
    """Residual tower with the policy and value heads of one codec; returns raw logits."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c, n = cfg.filters, cfg.board
        self.stem = ConvBN(cfg.input_channels, c, 3)
        self.tower = nn.Sequential(*[ResBlock(c, cfg.se, cfg.se_ratio) for _ in range(cfg.blocks)])
        if cfg.codec == "lc0-112" and cfg.policy_head == "conv":
            self.policy = nn.Sequential(ConvBN(c, c, 3), nn.Conv2d(c, 73, 3, padding=1))
            self.register_buffer("policy_gather", torch.from_numpy(lc0_conv_gather()), persistent=False)
        elif cfg.codec == "dlshogi":
            self.policy = nn.Sequential(ConvBN(c, c, 3), nn.Conv2d(c, 27, 1))
        else:
            pc = cfg.policy_channels if cfg.codec == "lc0-112" else 2
            self.policy = nn.Sequential(ConvBN(c, pc, 1), nn.Flatten(), nn.Linear(pc * n * n, cfg.policy_size))
        value_out = 3 if cfg.codec == "lc0-112" else 1
        vc = cfg.value_channels
        self.value = nn.Sequential(ConvBN(c, vc, 1), nn.Flatten(), nn.Linear(vc * n * n, cfg.value_hidden),
                                   nn.ReLU(inplace=True), nn.Linear(cfg.value_hidden, value_out))

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(policy logits [B,P], value logits [B,3] for lc0-112 else [B,1])."""
        x = inputs[0] if len(inputs) == 1 else torch.cat(inputs, dim=1)
        x = self.tower(self.stem(x))
        p = self.policy(x)
        if p.dim() == 4:
            p = p.flatten(1)
            if self.cfg.codec == "lc0-112":
                p = p.index_select(1, self.policy_gather)
        return p, self.value(x)

    def example_inputs(self, batch: int = 1) -> tuple[torch.Tensor, ...]:
        """Random inputs of the right shapes (for export and tests)."""
        cfg, n = self.cfg, self.cfg.board
        if cfg.codec == "dlshogi":
            return (torch.rand(batch, cfg.input1_channels, n, n), torch.rand(batch, cfg.input2_channels, n, n))
        return (torch.rand(batch, cfg.input_channels, n, n),)


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def load_matching(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """Copy the tensors of ``state`` whose name and shape match ``model``'s; returns (copied, skipped).

    The convolutional tower and squeeze-excitation layers do not depend on the board size, so a
    tower trained on 9×9 go can start a 19×19 net: only the dense head layers are left as built.
    """
    own = model.state_dict()
    copied = [k for k, v in state.items() if k in own and own[k].shape == v.shape]
    skipped = [k for k in own if k not in copied]
    own.update({k: state[k] for k in copied})
    model.load_state_dict(own)
    return copied, skipped
