"""KataGo networks (model versions 8–17, inputs version 7) as ``tabula nets import-katago`` writes them.

Signature (see :mod:`nets.katago_import`)::

    input_spatial [B, 22, H, W]   input_global [B, 19]
    out_policy [B, H·W+1]  out_value [B, 3]  out_score [B, 4]  out_ownership [B, H, W]
    (model version 12+ also: out_policy_optimistic [B, H·W+1], not read here)

Batch and board size are dynamic: one net plays every board size. The codec
encodes one size at a time (:meth:`KataGoCodec.set_board_size`; 19 until told).
The input features come from :class:`~engine.codecs.katago_features.KataFeatures`
under Tabula's rules (area scoring, positional superko, no suicide), komi from
the position.

Orientation: KataGo's row 0 is the **top** of the board; our move code ``r·N + c``
counts rows from the bottom, so the policy index of a point is ``(N−1−r)·N + c``
and pass is ``N²``. Outputs are for the side to move; post-processing follows
KataGo's: value = softmax(win, loss, noResult) where, for area scoring under a
superko rule, noResult is forced to zero; the score lead is ``raw · leadMultiplier``
points (20, or the net's own from its header: ``tabula.katago.lead_multiplier`` metadata);
ownership is ``tanh(raw)``. These are what GTP analysis reports as winrate, scoreLead and
ownership.
"""

from __future__ import annotations

from typing import ClassVar, Mapping, Sequence

import numpy as np

from ..games.base import GameState
from .base import Codec, NetSignature, NetworkMismatchError
from .katago_features import KataFeatures, KataRules

__all__ = ["KataGoCodec", "SPATIAL", "GLOBAL"]

SPATIAL, GLOBAL = 22, 19
#: KataGo scales the score outputs by this (its ``scoreMeanMultiplier`` and ``leadMultiplier``) unless
#: the net's header (model version 13+) says otherwise.
SCORE_SCALE = 20.0
_LEAD = 2  # out_score channel: lead
#: output names that are not the policy the search reads (the optimistic policy of version 12+ nets)
_SIDE_POLICIES = ("out_policy_optimistic",)


def _dims(shape: tuple) -> int:
    return len(shape)


def _multiplier(sig: NetSignature, key: str) -> float:
    """The net's ``tabula.katago.<key>_multiplier`` metadata, or KataGo's default (20)."""
    raw = sig.metadata.get(f"tabula.katago.{key}_multiplier")
    try:
        val = float(raw) if raw is not None else SCORE_SCALE
    except ValueError:
        raise NetworkMismatchError(f"{sig.path}: metadata tabula.katago.{key}_multiplier={raw!r} is not a number") \
            from None
    if not (val > 0 and np.isfinite(val)):
        raise NetworkMismatchError(f"{sig.path}: metadata tabula.katago.{key}_multiplier={raw!r} is not positive")
    return val


class KataGoCodec(Codec):
    """Drives an imported KataGo net: 22 + 19 inputs, policy with pass, WLN value, lead, ownership."""

    name: ClassVar[str] = "katago-v7"
    game: ClassVar[str] = "go"
    expects: ClassVar[str] = ("inputs [batch,22,H,W] and [batch,19]; outputs policy [batch,H*W+1], "
                              "value [batch,3], score [batch,4], ownership [batch,H,W] "
                              "(convert KataGo models with `tabula nets import-katago`)")
    #: the search averages :meth:`decode_score` and :meth:`decode_ownership`
    has_score: ClassVar[bool] = True
    has_ownership: ClassVar[bool] = True
    #: any board size from 2 to this one (KataGo's own nets are trained up to 19×19)
    max_board_size: ClassVar[int] = 19

    def __init__(self, sig: NetSignature, rules: KataRules | None = None) -> None:
        super().__init__(sig)
        found = self._resolve(sig)
        if found is None:
            raise NetworkMismatchError(f"{sig.path}: not a KataGo net: expected {self.expects}, "
                                       f"got {sig.describe()}")
        self._spatial, self._global, self._policy, self._value, self._score, self._own = found
        self.lead_scale = _multiplier(sig, "lead")
        self.rules = rules or KataRules()
        self.board_size = 0
        self.set_board_size(19)

    # -- signature ------------------------------------------------------------------------
    @staticmethod
    def _resolve(sig: NetSignature) -> tuple[str, str, str, str, str, str] | None:
        spatial = [k for k, v in sig.inputs.items() if _dims(v) == 4 and v[1] == SPATIAL]
        glob = [k for k, v in sig.inputs.items() if _dims(v) == 2 and v[1] == GLOBAL]
        if len(sig.inputs) != 2 or len(spatial) != 1 or len(glob) != 1:
            return None
        outs = sig.outputs
        value = [k for k, v in outs.items() if _dims(v) == 2 and v[1] == 3]
        score = [k for k, v in outs.items() if _dims(v) == 2 and v[1] == 4]
        own = [k for k, v in outs.items() if _dims(v) == 3]
        policy = [k for k, v in outs.items() if _dims(v) == 2 and k not in value + score + list(_SIDE_POLICIES)]
        if len(value) != 1 or len(score) != 1 or len(own) != 1 or len(policy) != 1:
            return None
        return spatial[0], glob[0], policy[0], value[0], score[0], own[0]

    @classmethod
    def accepts(cls, sig: NetSignature) -> bool:
        """True for the signature above, unless metadata names another codec or game."""
        if not cls.metadata_allows(sig):
            return False
        return cls._resolve(sig) is not None

    # -- board size (any from 2 to max_board_size: Codec.supports_size) ----------------------
    def set_board_size(self, n: int) -> None:
        """Encode n×n boards from now on (batches made afterwards get the new shape)."""
        if not self.supports_size(n):
            raise NetworkMismatchError(f"{self.sig.path}: KataGo nets play boards up to "
                                       f"{self.max_board_size}x{self.max_board_size}, not {n}x{n}")
        if n == self.board_size:
            return
        self.board_size = n
        self.features = KataFeatures(n, self.rules)
        # move code r·N + c (row 0 = bottom) → KataGo index (N−1−r)·N + c; pass → N²
        codes = np.arange(n * n + 1)
        r, c = codes // n, codes % n
        self._index = np.where(codes == n * n, n * n, (n - 1 - r) * n + c).astype(np.int64)
        # the inverse, for ownership: KataGo's [y, x] → our code order
        self._to_code = self._index[: n * n]

    def check_state(self, state: GameState) -> None:
        """Raise :class:`NetworkMismatchError` unless ``state`` is on the current board size."""
        size = getattr(state, "size", None)
        if size != self.board_size:
            raise NetworkMismatchError(f"{self.sig.path} is set up for {self.board_size}x{self.board_size}, "
                                       f"the position is {size}x{size}")

    # -- Codec ----------------------------------------------------------------------------
    @property
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        n = self.board_size
        return {self._spatial: (SPATIAL, n, n), self._global: (GLOBAL,)}

    @property
    def policy_output(self) -> str:
        return self._policy

    @property
    def output_names(self) -> list[str]:
        return [self._policy, self._value, self._score, self._own]

    def encode(self, state: GameState, buffers: Mapping[str, np.ndarray], row: int) -> None:
        if getattr(state, "size", None) != self.board_size:
            self.check_state(state)
        self.features.fill(state, buffers[self._spatial][row], buffers[self._global][row])  # type: ignore[arg-type]

    def policy_indices(self, state: GameState, moves: Sequence[int]) -> np.ndarray:
        return self._index[np.asarray(moves, dtype=np.int64)]

    def decode_value(self, outputs: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        """Q = P(win) − P(loss) with noResult dropped (superko + area scoring, as KataGo does); D = 0."""
        logits = outputs[self._value][:n, :2].astype(np.float64)
        q = np.tanh(0.5 * (logits[:, 0] - logits[:, 1]))  # softmax over two = (e^a − e^b)/(e^a + e^b)
        return q, np.zeros(n)

    def decode_score(self, outputs: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """KataGo's score lead in points for the side to move."""
        return outputs[self._score][:n, _LEAD].astype(np.float64) * self.lead_scale

    def decode_ownership(self, outputs: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """tanh ownership, +1 = the side to move's, float64 [n, N²] in move-code order."""
        size = self.board_size
        raw = outputs[self._own][:n].reshape(n, -1)[:, : size * size].astype(np.float64)
        return np.tanh(raw[:, self._to_code])
