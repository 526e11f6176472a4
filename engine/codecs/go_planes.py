"""Tabula's own go format: 17 AlphaGo Zero style input planes, N²+1 policy, tanh value.

What :mod:`nets.export` writes for a go net (metadata ``tabula.codec=go``,
``tabula.game=go``, ``tabula.board_size=N``) and this codec reads:

* input ``input_planes`` float32 [B, 17, N, N]; output ``output_policy`` [B, N²+1]
  (logits; the search applies the softmax) and ``output_value`` [B, 1] (tanh: the
  expected result for the side to move, +1 win … −1 loss).
* The board size is read from the input shape (``tabula.board_size`` when the
  spatial axes are symbolic), so 9×9 and 19×19 nets use the same codec.

Plane format (``GO_PLANES = 17``)
---------------------------------
=========  ===============================================================
plane      content
=========  ===============================================================
0 … 7      stones of the side to move now, on the boards at t, t−1 … t−7
8 … 15     stones of its opponent on the same boards t, t−1 … t−7
16         all ones when Black is to move, all zeros when White is
=========  ===============================================================

"Side to move" means the player to move at t for every history plane (the
colours do not alternate with the plies), as Leela Zero does. History boards
before the start position (the empty board, or the set-up / handicap stones)
are **zero**, as in Leela Zero (minigo repeats the oldest board instead). A pass
repeats the previous board. Komi is not an input: a net plays the komi it was
trained for (record it in the model card).

Point index mapping
-------------------
Plane element ``[r, c]`` and policy index ``r·N + c`` are the point in GTP row
``r + 1`` (row 0 is the **bottom** line, as in :mod:`engine.games.go` and Leela
Zero) and column letter ``COLUMNS[c]`` (A … without I); pass is index ``N²``.
That is exactly :class:`~engine.games.go.GoState`'s move code, so
``policy_indices`` is the identity. (KataGo and minigo put row 0 at the *top*:
converting their data means flipping the row axis.)

>>> sig = NetSignature("go9.onnx", {"input_planes": ("batch", 17, 9, 9)},
...     {"output_policy": ("batch", 82), "output_value": ("batch", 1)}, {"tabula.codec": "go"})
>>> codec = GoPlanesCodec(sig); codec.board_size, codec.input_shapes
(9, {'input_planes': (17, 9, 9)})
"""

from __future__ import annotations

from typing import ClassVar, Mapping, Sequence

import numpy as np

from ..games.base import GameState
from .base import Codec, NetSignature, NetworkMismatchError, Shape

__all__ = ["GoPlanesCodec", "write_planes", "encode_planes", "GO_PLANES", "HISTORY"]

#: History boards per side.
HISTORY = 8
#: Input planes of Tabula's go format.
GO_PLANES = 2 * HISTORY + 1
INPUT_NAME = "input_planes"
POLICY_NAME = "output_policy"
VALUE_NAME = "output_value"


def write_planes(state: GameState, dst: np.ndarray, colour_planes: int = 1) -> None:
    """Fill ``dst`` (float32 [16 + colour_planes, N, N]) with ``state``'s planes.

    ``colour_planes`` 1: plane 16 = Black to move (ours); 2: plus plane 17 = White
    to move (Leela Zero). Every element is overwritten.
    """
    n = state.size  # type: ignore[attr-defined]
    hist = state.board_history(HISTORY)  # type: ignore[attr-defined]
    k = len(hist)
    stack = np.stack(hist).reshape(k, n, n)
    me = state.turn + 1  # stone colour of the side to move (1 black, 2 white)
    dst[:k] = stack == me
    dst[HISTORY:HISTORY + k] = stack == 3 - me
    if k < HISTORY:
        dst[k:HISTORY] = 0.0
        dst[HISTORY + k:2 * HISTORY] = 0.0
    black = 1.0 if state.turn == 0 else 0.0
    dst[2 * HISTORY] = black
    if colour_planes == 2:
        dst[2 * HISTORY + 1] = 1.0 - black


def encode_planes(state: GameState, colour_planes: int = 1) -> np.ndarray:
    """``state``'s planes as a new float32 [16 + colour_planes, N, N] array.

    >>> from tabula.engine.games.go import GoState
    >>> s = GoState.from_moves(9, 7.5, ["E5"]); p = encode_planes(s)
    >>> p.shape, float(p[8, 4, 4]), float(p[16].max())   # White to move: E5 is the opponent's
    ((17, 9, 9), 1.0, 0.0)
    """
    n = state.size  # type: ignore[attr-defined]
    out = np.empty((2 * HISTORY + colour_planes, n, n), np.float32)
    write_planes(state, out, colour_planes)
    return out


def _is_int(x: object) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _tail(shape: Shape) -> tuple:
    return tuple(shape[1:])


def _pick(outputs: Mapping[str, Shape], size: int, preferred: str, avoid: tuple[str, ...] = ()) -> str | None:
    """The output shaped [B, size]: ``preferred`` if it fits, else the first that fits."""
    if preferred in outputs and _tail(outputs[preferred]) == (size,):
        return preferred
    fits = [k for k, v in outputs.items() if len(v) == 2 and _tail(v) == (size,) and k not in avoid]
    return fits[0] if fits else None


def resolve_go_signature(sig: NetSignature, planes: int, sizes: Sequence[int] | None = None
                         ) -> tuple[str, str, str, int] | None:
    """(input, policy, value, board size) of a go net with ``planes`` input planes, or None.

    The board size comes from the input's spatial axes; when those are symbolic,
    from ``tabula.board_size``. ``sizes`` restricts the sizes accepted.
    """
    if len(sig.inputs) != 1:
        return None
    (inp, shape), = sig.inputs.items()
    if len(shape) != 4 or shape[1] != planes:
        return None
    h, w = shape[2], shape[3]
    if _is_int(h) and _is_int(w):
        if h != w:
            return None
        n = int(h)
    else:
        try:
            n = int(sig.metadata.get("tabula.board_size", ""))
        except ValueError:
            return None
    if not 2 <= n <= 25 or (sizes is not None and n not in sizes):
        return None
    policy = _pick(sig.outputs, n * n + 1, POLICY_NAME)
    value = _pick(sig.outputs, 1, VALUE_NAME, avoid=(policy or "",))
    if policy is None or value is None:
        return None
    return inp, policy, value, n


class GoPlanesCodec(Codec):
    """Tabula's 17-plane go input, N²+1 policy logits (pass last), tanh value.

    The name is what :mod:`nets.export` writes as ``tabula.codec`` for go nets.
    """

    name: ClassVar[str] = "go"
    game: ClassVar[str] = "go"
    planes: ClassVar[int] = GO_PLANES
    colour_planes: ClassVar[int] = 1
    expects: ClassVar[str] = (
        "one input [batch,17,N,N] (input_planes) and outputs [batch,N*N+1] (output_policy) "
        "and [batch,1] (output_value, tanh)")

    def __init__(self, sig: NetSignature) -> None:
        super().__init__(sig)
        found = self._resolve(sig)
        if found is None:
            raise NetworkMismatchError(f"{sig.path}: not a {self.name} go net: expected {self.expects}, "
                                       f"got {sig.describe()}")
        self._input, self._policy, self._value, self.board_size = found
        #: ``tanh`` (Q for the side to move) or ``winprob`` (P(win), mapped to 2P−1)
        self.value_kind = sig.metadata.get("tabula.value", "tanh")

    @classmethod
    def _resolve(cls, sig: NetSignature) -> tuple[str, str, str, int] | None:
        return resolve_go_signature(sig, cls.planes)

    @classmethod
    def accepts(cls, sig: NetSignature) -> bool:
        """True for the signature above; refused if metadata names another codec or game."""
        if not cls.metadata_allows(sig):
            return False
        return cls._resolve(sig) is not None

    @property
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        n = self.board_size
        return {self._input: (self.planes, n, n)}

    @property
    def policy_output(self) -> str:
        return self._policy

    @property
    def output_names(self) -> list[str]:
        return [self._policy, self._value]

    def check_state(self, state: GameState) -> None:
        """Raise :class:`NetworkMismatchError` unless ``state`` is on this net's board size."""
        size = getattr(state, "size", None)
        if size != self.board_size:
            n = self.board_size
            raise NetworkMismatchError(
                f"{self.sig.path} is a {n}x{n} network; the board is {size}x{size}")

    def encode(self, state: GameState, buffers: Mapping[str, np.ndarray], row: int) -> None:
        if getattr(state, "size", None) != self.board_size:
            self.check_state(state)
        write_planes(state, buffers[self._input][row], self.colour_planes)

    def policy_indices(self, state: GameState, moves: Sequence[int]) -> np.ndarray:
        # move codes are row*N + col with row 0 at the bottom, pass = N*N: the net's layout
        return np.asarray(moves, dtype=np.int64)

    def decode_value(self, outputs: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        v = np.asarray(outputs[self._value][:n], dtype=np.float32).reshape(n)
        if self.value_kind == "winprob":
            v = 2.0 * v - 1.0
        return np.clip(v, -1.0, 1.0), np.zeros(n, np.float32)
