"""dlshogi's ONNX format: two feature inputs, 2187 policy labels, a win probability.

Signature (``shared/formats/dlshogi.md`` §1): ``input1`` float32 [B, 62, 9, 9],
``input2`` float32 [B, 57, 9, 9] (119 with the entering-king features), outputs
``output_policy`` [B, 2187] (logits, 27 direction planes × 81 squares) and
``output_value`` [B, 1] (already a sigmoid: win probability of the side to move).
Our own shogi nets use the same signature plus the metadata ``tabula.codec=dlshogi``.

The features and labels are cshogi's (``cshogi.dlshogi``), i.e. dlshogi's own code:

>>> from tabula.engine.games.shogi_game import ShogiState
>>> int(policy_label(ShogiState().parse_move("7g7f"), 0))
59

**Global state.** cshogi switches the 119-plane layout on with a process-wide flag
(``cshogi.dlshogi.use_nyugyoku_features``). This module owns that flag: every
:meth:`DlshogiCodec.encode` sets it to what its net needs, under a module lock, right
before cshogi writes the planes, so 57- and 119-plane nets can share a process (and
threads). Other code should not toggle it; if it does, the next encode puts it back.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Callable, ClassVar, Mapping, Sequence

import cshogi
import cshogi.dlshogi
import numpy as np

from ..games.base import GameState
from .base import Codec, NetSignature, NetworkMismatchError, Shape

FEATURES1: int = 62
#: input2 planes: hands (2 × 28) + in-check.
FEATURES2: int = 57
#: input2 planes with the entering-king (nyugyoku) features: 57 + 2 × 31.
FEATURES2_NYUGYOKU: int = 119
POLICY_SIZE: int = 2187  # 27 directions × 81 squares

INPUT1, INPUT2 = "input1", "input2"
POLICY, VALUE = "output_policy", "output_value"

_MODE_LOCK = threading.Lock()
try:
    from cshogi._cshogi import _dlshogi_use_nyugyoku_features as _set_nyugyoku_raw
except ImportError:  # pragma: no cover - cshogi without nyugyoku support
    _set_nyugyoku_raw = None


def _set_nyugyoku(on: bool) -> None:
    """Set cshogi's process-wide feature layout (also keeps ``cshogi.dlshogi.FEATURES2_NUM`` true)."""
    if _set_nyugyoku_raw is None:
        if on:
            raise NetworkMismatchError("this cshogi has no nyugyoku features (input2 with 119 planes)")
        return
    _set_nyugyoku_raw(on)
    want = FEATURES2_NYUGYOKU if on else FEATURES2
    if cshogi.dlshogi.FEATURES2_NUM != want:
        cshogi.dlshogi.FEATURES2_NUM = want


def _features(board: cshogi.Board, f1: np.ndarray, f2: np.ndarray, nyugyoku: bool) -> None:
    """cshogi's dlshogi features of ``board`` into one row's planes, in the layout asked for."""
    if nyugyoku:  # cshogi clears only the first 57 planes and sets just the one-hot planes
        f2[FEATURES2:] = 0.0
    with _MODE_LOCK:
        _set_nyugyoku(nyugyoku)
        board._dlshogi_make_input_features(f1, f2)


@cache
def label_table() -> np.ndarray:
    """int64 [2, 32768]: dlshogi policy label of every ``move16`` for Black (row 0) and White (row 1).

    Built once from ``cshogi.dlshogi.make_move_label`` (the label depends only on the
    low 16 bits and the colour); codes that are no move at all hold -1.
    """
    table = np.full((2, 1 << 15), -1, dtype=np.int64)
    make = cshogi.dlshogi.make_move_label
    for color in (0, 1):
        row = table[color]
        for frm in range(81 + 7):
            for to in range(81):
                base = to | frm << 7
                row[base] = make(base, color)
                if frm < 81 and frm != to:
                    row[base | 1 << 14] = make(base | 1 << 14, color)
    table.setflags(write=False)
    return table


def policy_label(move: int, color: int) -> int:
    """dlshogi's policy index of one cshogi move played by ``color`` (0 Black, 1 White)."""
    return int(label_table()[color, move & 0x7FFF])


def _fixed(shape: Shape, want: tuple[int, ...]) -> bool:
    """Whether ``shape`` is [batch, *want] (any batch dim, fixed ints elsewhere)."""
    return len(shape) == len(want) + 1 and tuple(shape[1:]) == want


def _input2_planes(shape: Shape) -> int | None:
    for c in (FEATURES2, FEATURES2_NYUGYOKU):
        if _fixed(shape, (c, 9, 9)):
            return c
    return None


def _resolve(sig: NetSignature) -> tuple[str, str, str, str, int] | None:
    """(input1, input2, policy, value, input2 planes) names for ``sig``, by name else by shape."""
    ins, outs = sig.inputs, sig.outputs
    if INPUT1 in ins and INPUT2 in ins and POLICY in outs and VALUE in outs:
        c2 = _input2_planes(ins[INPUT2])
        if (c2 and _fixed(ins[INPUT1], (FEATURES1, 9, 9)) and _fixed(outs[POLICY], (POLICY_SIZE,))
                and _fixed(outs[VALUE], (1,))):
            return INPUT1, INPUT2, POLICY, VALUE, c2
        return None
    if len(ins) != 2:
        return None
    in1 = [n for n, s in ins.items() if _fixed(s, (FEATURES1, 9, 9))]
    in2 = [n for n, s in ins.items() if _input2_planes(s)]
    pol = [n for n, s in outs.items() if _fixed(s, (POLICY_SIZE,))]
    val = [n for n, s in outs.items() if _fixed(s, (1,))]
    if len(in1) == len(in2) == len(pol) == len(val) == 1:
        c2 = _input2_planes(ins[in2[0]])
        assert c2 is not None
        return in1[0], in2[0], pol[0], val[0], c2
    return None


class DlshogiCodec(Codec):
    """Encoder/decoder for dlshogi ``.onnx`` nets (and ours with ``tabula.codec=dlshogi``).

    ``encode`` expects a :class:`~engine.games.shogi_game.ShogiState` (it reads ``state.board``).
    """

    name: ClassVar[str] = "dlshogi"
    game: ClassVar[str] = "shogi"
    expects: ClassVar[str] = (
        "inputs input1[batch,62,9,9] and input2[batch,57 or 119,9,9] (float32) → outputs "
        "output_policy[batch,2187] and output_value[batch,1] (win probability)")

    def __init__(self, sig: NetSignature) -> None:
        super().__init__(sig)
        names = _resolve(sig)
        if names is None or not self.accepts(sig):
            raise NetworkMismatchError(
                f"{sig.path}: not a dlshogi net: {sig.describe()}; expected {self.expects}")
        self.input1, self.input2, self.value_name = names[0], names[1], names[3]
        self._policy = names[2]
        #: input2 plane count: 57, or 119 with the entering-king features.
        self.planes2: int = names[4]
        self.nyugyoku: bool = self.planes2 == FEATURES2_NYUGYOKU
        if self.nyugyoku and _set_nyugyoku_raw is None:  # pragma: no cover
            raise NetworkMismatchError(
                f"{sig.path}: input2 has 119 planes but this cshogi has no nyugyoku features")
        self._labels = label_table()
        self._checked: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def accepts(cls, sig: NetSignature) -> bool:
        """True for the dlshogi signature (by name, or by shape if the names differ).

        A net whose metadata names another codec (``tabula.codec``) or another game
        (``tabula.game``) is refused even if its shapes fit.
        """
        if not cls.metadata_allows(sig):
            return False
        return _resolve(sig) is not None

    @property
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        return {self.input1: (FEATURES1, 9, 9), self.input2: (self.planes2, 9, 9)}

    @property
    def policy_output(self) -> str:
        return self._policy

    @property
    def output_names(self) -> list[str]:
        return [self._policy, self.value_name]

    def _check_buffers(self, b1: np.ndarray, b2: np.ndarray) -> None:
        """cshogi writes through raw pointers, so the buffers must be exactly right."""
        for buf, name, planes in ((b1, self.input1, FEATURES1), (b2, self.input2, self.planes2)):
            if (not isinstance(buf, np.ndarray) or buf.dtype != np.float32 or buf.ndim != 4
                    or buf.shape[1:] != (planes, 9, 9) or not buf.flags.c_contiguous
                    or not buf.flags.writeable):
                shape = getattr(buf, "shape", None)
                dtype = getattr(buf, "dtype", type(buf).__name__)
                raise ValueError(f"buffer {name!r} must be a writable C-contiguous float32 array "
                                 f"[B,{planes},9,9], got {dtype} {shape}")
        self._checked = (b1, b2)

    def encode(self, state: GameState, buffers: Mapping[str, np.ndarray], row: int) -> None:
        """cshogi's ``make_input_features`` into row ``row`` (planes 57-118 zeroed first when used)."""
        b1, b2 = buffers[self.input1], buffers[self.input2]
        checked = self._checked
        if checked is None or checked[0] is not b1 or checked[1] is not b2:
            self._check_buffers(b1, b2)
        # C-contiguous row views: cshogi writes straight into them
        _features(state.board, b1[row], b2[row], self.nyugyoku)  # type: ignore[attr-defined]

    def row_writer(self, buffers: Mapping[str, np.ndarray]) -> Callable[[GameState, int], None]:
        """:meth:`encode` into ``buffers``, their rows checked and sliced once (a leaf of a
        search on the dev machine spent about 2 µs on that in ``encode``, beside cshogi's 3.5)."""
        b1, b2 = buffers[self.input1], buffers[self.input2]
        self._check_buffers(b1, b2)
        rows1, rows2 = list(b1), list(b2)  # C-contiguous row views: cshogi writes straight into them
        nyugyoku = self.nyugyoku

        def write(state: GameState, row: int) -> None:
            _features(state.board, rows1[row], rows2[row], nyugyoku)  # type: ignore[attr-defined]
        return write

    @property
    def move_labels(self) -> np.ndarray:
        """int64 [2, 32768]: the policy index of each ``move16`` for Black (row 0) and White
        (row 1), :func:`label_table`; the compiled search looks moves up in it directly
        (``move_labels[turn][move & 0x7FFF]``, as :meth:`policy_indices`)."""
        return self._labels

    def policy_indices(self, state: GameState, moves: Sequence[int]) -> np.ndarray:
        """dlshogi label of each move (``make_move_label(move, side to move)``, via a table)."""
        idx = np.fromiter(moves, dtype=np.int64, count=len(moves))
        idx &= 0x7FFF
        return self._labels[state.turn][idx]

    def decode_value(self, outputs: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        """Q = 2p − 1 from the win probability p; dlshogi has no draw head, so D = 0."""
        p = np.asarray(outputs[self.value_name], dtype=np.float32).reshape(-1)[:n]
        q = p * np.float32(2.0) - np.float32(1.0)
        return q, np.zeros(n, dtype=np.float32)
