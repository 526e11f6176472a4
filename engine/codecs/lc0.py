"""Leela Chess Zero's nets: 112 input planes, 1858 policy entries, W/D/L or Q, moves left.

The facts are in ``shared/formats/lc0.md`` (section numbers below refer to it):
§1 the ``INPUT_CLASSICAL_112_PLANE`` input (8 history boards × 13 planes seen from
the side to move, then castling, colour, rule-50 and constant planes), §2 the
1858-move policy order, §3 the ONNX names ``lc0 leela2onnx`` writes.

:class:`Lc0Codec` is the classical format. Nets declaring one of lc0's newer input
formats (castling plane, canonical, hectoplies, armageddon, canonical v2) get
:class:`engine.codecs.lc0_planes.Lc0FormatCodec` from :meth:`Lc0Codec.create`; which
format a net has is settled by :func:`engine.codecs.lc0_formats.resolve_format`.

>>> MOVES[322], move_to_index("e7e5", black=True)
('e2e4', 322)
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, ClassVar, Mapping, NamedTuple, Sequence

import chess
import numpy as np

from ..games.base import GameState
from ..games.chess_game import ChessState
from .base import Codec, NetSignature, NetworkMismatchError, Shape

if TYPE_CHECKING:
    from .lc0_formats import Lc0Format, Resolution

__all__ = ["Lc0Codec", "MOVES", "MOVE_INDEX", "move_to_index", "encode_planes", "POLICY_SIZE", "NUM_PLANES",
           "Lc0Net"]

# -- format constants (lc0.md §1) -------------------------------------------------------

#: History boards in the input (lc0 ``kMoveHistory``).
HISTORY = 8
#: Planes per history board: 6 ours, 6 theirs, 1 repetition (lc0 ``kPlanesPerBoard``).
PLANES_PER_BOARD = 13
#: First auxiliary plane (lc0 ``kAuxPlaneBase``).
AUX_BASE = HISTORY * PLANES_PER_BOARD
#: Total input planes.
NUM_PLANES = 112
#: Plane holding the unscaled rule-50 half-move counter.
RULE50_PLANE = AUX_BASE + 5
#: Policy vector length.
POLICY_SIZE = 1858

#: Standard ONNX tensor names of ``lc0 leela2onnx`` (lc0.md §3).
INPUT_NAME = "/input/planes"
POLICY_NAME = "/output/policy"
WDL_NAME = "/output/wdl"
VALUE_NAME = "/output/value"
MLH_NAME = "/output/mlh"

_FULL = 0xFFFF_FFFF_FFFF_FFFF  # a plane of ones, as a 64-bit mask
_PIECES_PER_SIDE = 6
_FLIP = 56  # sq ^ 56 mirrors the ranks

# -- the 1858-move table (lc0.md §2.1) --------------------------------------------------

_PROMO_PIECES = "qrb"  # suffixed promotions, in lc0's order; knight uses the plain entry
_KNIGHT_JUMPS = {(1, 2), (2, 1)}


def _reachable(frm: int, to: int) -> bool:
    """Whether a queen or a knight could go ``frm`` → ``to`` on an empty board."""
    df = abs(chess.square_file(frm) - chess.square_file(to))
    dr = abs(chess.square_rank(frm) - chess.square_rank(to))
    if frm == to:
        return False
    return df == 0 or dr == 0 or df == dr or (df, dr) in _KNIGHT_JUMPS


def _build_moves() -> list[str]:
    """lc0's policy order: queen/knight moves by (from, to) square, then q/r/b promotions."""
    names = chess.SQUARE_NAMES
    moves = [names[f] + names[t] for f in chess.SQUARES for t in chess.SQUARES if _reachable(f, t)]
    for file in range(8):
        for to_file in (file - 1, file, file + 1):
            if 0 <= to_file < 8:
                moves += [f"{chess.FILE_NAMES[file]}7{chess.FILE_NAMES[to_file]}8{p}" for p in _PROMO_PIECES]
    return moves


#: The 1858 policy entries as UCI strings (castling as king-takes-rook), in index order.
MOVES: list[str] = _build_moves()
#: UCI string → policy index, for the white-to-move orientation.
MOVE_INDEX: dict[str, int] = {m: i for i, m in enumerate(MOVES)}

# fixed points of lc0.md §2.1–2.3: the table is wrong if any of these moved
_FIXED_POINTS = {
    "a1b1": 0, "a1h8": 22, "b1a1": 23, "e1a1": 97, "e1h1": 103, "g1f3": 159, "b1c3": 36,
    "e2e4": 322, "d2d4": 293, "e2e3": 317, "e7e8": 1515, "e7f8": 1516, "d7c8": 1485,
    "a8a1": 1598, "h8a1": 1769, "h8g8": 1791, "a7a8q": 1792, "a7b8q": 1795, "d7c8q": 1816,
    "e7d8q": 1825, "e7e8q": 1828, "e7e8r": 1829, "e7e8b": 1830, "e7f8q": 1831, "h7g8q": 1852,
    "h7h8b": 1857,
}
assert len(MOVES) == POLICY_SIZE and len(MOVE_INDEX) == POLICY_SIZE
assert all(MOVE_INDEX[m] == i for m, i in _FIXED_POINTS.items()), "lc0 move table broken"


def move_to_index(uci: str, black: bool) -> int:
    """Policy index of a UCI move played by ``black`` or white (lc0.md §2.2).

    Castling must be given king-takes-rook (``e1h1``), as lc0 spells it; a knight
    promotion maps to its plain from→to entry.

    >>> move_to_index("e7e8n", black=False), move_to_index("e2e1q", black=True)
    (1515, 1828)
    """
    move = chess.Move.from_uci(uci)
    frm, to = move.from_square, move.to_square
    if black:
        frm, to = frm ^ _FLIP, to ^ _FLIP
    key = chess.SQUARE_NAMES[frm] + chess.SQUARE_NAMES[to]
    if move.promotion not in (None, chess.KNIGHT):
        key += chess.piece_symbol(move.promotion)
    try:
        return MOVE_INDEX[key]
    except KeyError:
        raise ValueError(f"move {uci!r} has no lc0 policy entry") from None


# -- move code → index lookup tables (policy_indices hot path) --------------------------

_CODE_BITS = 15  # from (6) | to (6) | promotion piece (3)
_NO_INDEX = -1


def _code_table(black: bool, perm: np.ndarray | None = None) -> np.ndarray:
    """Index for every move code ``from | to<<6 | promo<<12`` (−1 where none), one colour.

    ``perm`` (square → square) moves both squares after the black flip: the canonical
    formats' board transforms (engine/codecs/lc0_planes.py).
    """
    plain = np.full(64 * 64, _NO_INDEX, np.int64)
    promo = np.full((chess.KING + 1, 64 * 64), _NO_INDEX, np.int64)
    for i, uci in enumerate(MOVES):
        move = chess.Move.from_uci(uci)
        pair = move.from_square * 64 + move.to_square
        if move.promotion is None:
            plain[pair] = i
        else:
            promo[move.promotion, pair] = i
    promo[0] = promo[chess.KNIGHT] = plain
    codes = np.arange(2**_CODE_BITS)
    frm, to, piece = codes & 63, (codes >> 6) & 63, codes >> 12
    if black:
        frm, to = frm ^ _FLIP, to ^ _FLIP
    if perm is not None:
        frm, to = perm[frm], perm[to]
    table = np.full(codes.size, _NO_INDEX, np.int64)
    ok = piece <= chess.KING
    table[ok] = promo[piece[ok], frm[ok] * 64 + to[ok]]
    return table


def _with_castling(table: np.ndarray, black: bool) -> np.ndarray:
    """``table`` with standard chess's king-two-squares moves sent to king-takes-rook."""
    out = table.copy()
    rank = 56 if black else 0
    king, short, long_ = rank + chess.E1, rank + chess.G1, rank + chess.C1
    out[king | short << 6] = MOVE_INDEX["e1h1"]
    out[king | long_ << 6] = MOVE_INDEX["e1a1"]
    return out


#: ``_TABLES[black][castling]``: code → index; the castling variant is used when the
#: side to move's king stands on its e-file home square in standard chess.
_TABLES: tuple[tuple[np.ndarray, np.ndarray], ...] = tuple(
    (plain, _with_castling(plain, black))
    for black, plain in ((False, _code_table(False)), (True, _code_table(True))))
_KING_HOME = (chess.BB_E1, chess.BB_E8)  # by colour index: white 0, black 1

# -- input planes (lc0.md §1) -----------------------------------------------------------

_ZERO_BOARD = (0,) * PLANES_PER_BOARD
_NO_CASTLING = (0, 0, 0, 0)


def _castling_masks(board: chess.Board) -> Sequence[int]:
    """Planes 104–107 as masks: our a-side, our h-side, their a-side, their h-side."""
    rights = board.clean_castling_rights()
    if not rights:
        return _NO_CASTLING
    out = []
    for color in (board.turn, not board.turn):
        side = rights & board.occupied_co[color]
        king = board.kings & board.occupied_co[color] & (chess.BB_RANK_1 if color else chess.BB_RANK_8)
        a_side = bool(side & (king - 1)) if king else False
        h_side = bool(side & ~((king << 1) - 1)) if king else False
        out += [_FULL if a_side else 0, _FULL if h_side else 0]
    return out


def _fill_snapshot(state: ChessState) -> tuple[int, ...]:
    """The first position's 12 bitboards with its en-passant pawn put back (HistoryFill copies)."""
    snap = state.snapshots[0]
    flag = state.ep_flags[0]
    if not flag:
        return snap
    file = flag - 1
    first_white = (state.board.turn == chess.WHITE) == (len(state.snapshots) % 2 == 1)
    # white to move first: black's pawn went rank 7 → 5; otherwise white's went rank 2 → 4
    slot, start, landed = (_PIECES_PER_SIDE, 48, 32) if first_white else (0, 8, 24)
    fixed = list(snap)
    fixed[slot] = (fixed[slot] & ~(1 << (landed + file))) | (1 << (start + file))
    return tuple(fixed)


def _plane_masks(state: ChessState, black: bool) -> list[int]:
    """All 112 planes as 64-bit masks in real square order (rule-50 plane left 0)."""
    snaps, reps = state.snapshots, state.repetitions
    n = len(snaps)
    out: list[int] = []
    extend = out.extend
    for k in range(n - 1, max(n - 1 - HISTORY, -1), -1):
        snap = snaps[k]
        extend(snap[_PIECES_PER_SIDE:] + snap[:_PIECES_PER_SIDE] if black else snap)
        out.append(_FULL if reps[k] else 0)
    missing = HISTORY - min(n, HISTORY)
    if missing:
        if state.from_startpos:
            extend(_ZERO_BOARD * missing)
        else:
            snap = _fill_snapshot(state)
            board = (snap[_PIECES_PER_SIDE:] + snap[:_PIECES_PER_SIDE] if black else snap) + (0,)
            extend(board * missing)
    extend(_castling_masks(state.board))
    extend((_FULL if black else 0, 0, 0, _FULL))
    return out


#: masks → bytes, one byte per rank; big-endian reverses the ranks (sq ^ 56) for black
_PACK = (struct.Struct(f"<{NUM_PLANES}Q").pack, struct.Struct(f">{NUM_PLANES}Q").pack)


def _write_planes(state: ChessState, dst: np.ndarray) -> None:
    """Fill ``dst`` (float32 [112, 8, 8]) with ``state``'s planes."""
    black = state.board.turn == chess.BLACK
    raw = _PACK[black](*_plane_masks(state, black))
    bits = np.unpackbits(np.frombuffer(raw, np.uint8), bitorder="little")
    dst[...] = bits.reshape(dst.shape)
    dst[RULE50_PLANE] = state.board.halfmove_clock


def encode_planes(state: ChessState) -> np.ndarray:
    """The 112 input planes of ``state`` as a new float32 [112, 8, 8] array.

    >>> from tabula.engine.games.chess_game import ChessState
    >>> float(encode_planes(ChessState())[111].sum())
    64.0
    """
    out = np.empty((NUM_PLANES, 8, 8), np.float32)
    _write_planes(state, out)
    return out


# -- signature matching (lc0.md §3) ----------------------------------------------------


def _tail_is(shape: Shape, tail: tuple[int, ...]) -> bool:
    """Whether ``shape`` is one (batch) axis followed by exactly ``tail``."""
    return len(shape) == len(tail) + 1 and tuple(shape[1:]) == tail


def _pick(outputs: Mapping[str, Shape], tail: tuple[int, ...], preferred: str,
          avoid: tuple[str, ...] = ()) -> str | None:
    """The output with shape [*, *tail]: ``preferred`` if it fits, else the first that fits."""
    if preferred in outputs and _tail_is(outputs[preferred], tail):
        return preferred
    fits = [k for k, v in outputs.items() if _tail_is(v, tail)]
    fits.sort(key=lambda k: any(a in k.lower() for a in avoid))  # stable: unlikely names last
    return fits[0] if fits else None


class _Heads(NamedTuple):
    input: str
    policy: str
    wdl: str | None
    value: str | None
    mlh: str | None


_MLH_HINTS = ("mlh", "moves", "left")


def _heads(sig: NetSignature) -> _Heads | None:
    """Tensor names of an lc0-shaped net, or None if it is not one.

    The moves-left output ([B,1], ``/output/mlh``, or a name with mlh/moves/left in it) is
    optional; a single-value net's value output is the other [B,1] output.
    """
    if len(sig.inputs) != 1:
        return None
    (inp, shape), = sig.inputs.items()
    if not _tail_is(shape, (NUM_PLANES, 8, 8)):
        return None
    policy = _pick(sig.outputs, (POLICY_SIZE,), POLICY_NAME)
    wdl = _pick(sig.outputs, (3,), WDL_NAME)
    value = None if wdl else _pick(sig.outputs, (1,), VALUE_NAME, avoid=_MLH_HINTS)
    if policy is None or (wdl is None and value is None):
        return None
    rest = {k: v for k, v in sig.outputs.items() if k != value}
    mlh = _pick(rest, (1,), MLH_NAME)
    if mlh is not None and mlh != MLH_NAME and not any(h in mlh.lower() for h in _MLH_HINTS):
        mlh = None  # an unnamed extra [B,1] output: not ours to guess
    return _Heads(inp, policy, wdl, value, mlh)


class Lc0Net(Codec):
    """What every lc0 format shares: the tensors of ``lc0 leela2onnx`` and how to read them.

    Subclasses encode the planes and map moves to policy entries for one input format.
    """

    name: ClassVar[str] = "lc0-112"
    game: ClassVar[str] = "chess"
    expects: ClassVar[str] = (
        "one input [batch,112,8,8] (/input/planes) and outputs [batch,1858] (/output/policy) "
        "plus [batch,3] (/output/wdl) or [batch,1] (/output/value), optionally [batch,1] (/output/mlh)")

    def __init__(self, sig: NetSignature, resolution: "Resolution | None" = None) -> None:
        super().__init__(sig)
        heads = _heads(sig)
        if heads is None:
            raise NetworkMismatchError(f"{sig.path}: not an lc0 net: expected {self.expects}, "
                                       f"got {sig.describe()}")
        self._input, self._policy, self._wdl, self._value, self._mlh = heads
        #: how the input format was settled (None: the codec was made directly, not by :meth:`create`)
        self.resolution = resolution
        #: whether a front end has shown :attr:`resolution`'s warning (it is shown once)
        self.warning_shown = False

    @classmethod
    def accepts(cls, sig: NetSignature) -> bool:
        return _heads(sig) is not None

    @classmethod
    def create(cls, sig: NetSignature, *, lc0_format: "str | int | None" = None, **_: object) -> Codec:
        """The codec for ``sig``'s input format (see :func:`~engine.codecs.lc0_formats.resolve_format`):
        :class:`Lc0Codec` for the classical format, else an ``Lc0FormatCodec``.

        ``lc0_format`` is the ``Lc0InputFormat`` option (None/"auto": not given). A bad format
        name in the net's metadata or the option is a :class:`NetworkMismatchError`.
        """
        from .lc0_formats import resolve_format

        try:
            res = resolve_format(sig.path, sig.metadata, lc0_format)
        except ValueError as exc:
            raise NetworkMismatchError(str(exc)) from None
        if res.format.number == 1:
            return Lc0Codec(sig, res)
        from .lc0_planes import Lc0FormatCodec

        return Lc0FormatCodec(sig, res)

    @property
    def input_format(self) -> "Lc0Format":
        """The lc0 input format this codec encodes."""
        from .lc0_formats import CLASSICAL

        return CLASSICAL

    @property
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        return {self._input: (NUM_PLANES, 8, 8)}

    @property
    def policy_output(self) -> str:
        return self._policy

    @property
    def output_names(self) -> list[str]:
        names = [self._policy, self._wdl or self._value]
        return names + [self._mlh] if self._mlh else names  # type: ignore[return-value]

    def decode_value(self, outputs: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        if self._wdl is not None:
            wdl = np.asarray(outputs[self._wdl][:n], dtype=np.float32)
            return wdl[:, 0] - wdl[:, 2], wdl[:, 1].copy()
        q = np.asarray(outputs[self._value][:n], dtype=np.float32).reshape(n)  # type: ignore[index]
        return q.copy(), np.zeros(n, np.float32)

    # -- moves left (lc0.md §3: /output/mlh, [B,1], after a ReLU) -----------------------------
    @property
    def has_moves_left(self) -> bool:
        """Whether the net has a moves-left head (:meth:`decode_moves_left`)."""
        return self._mlh is not None

    @property
    def moves_left_output(self) -> str | None:
        """Name of the moves-left output, None without one."""
        return self._mlh

    def decode_moves_left(self, outputs: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Expected plies left in the game, first ``n`` rows (float32 [n], ≥ 0), as the net says."""
        if self._mlh is None:
            raise NotImplementedError(f"{self.sig.path} has no moves-left head")
        return np.asarray(outputs[self._mlh][:n], dtype=np.float32).reshape(n).copy()


class Lc0Codec(Lc0Net):
    """lc0's ``INPUT_CLASSICAL_112_PLANE`` input and 1858-entry policy, WDL or tanh value.

    >>> sig = NetSignature("maia.onnx", {"/input/planes": ("batch", 112, 8, 8)},
    ...     {"/output/policy": ("batch", 1858), "/output/wdl": ("batch", 3)})
    >>> Lc0Codec.accepts(sig), Lc0Codec(sig).output_names
    (True, ['/output/policy', '/output/wdl'])
    """

    def encode(self, state: GameState, buffers: Mapping[str, np.ndarray], row: int) -> None:
        _write_planes(state, buffers[self._input][row])  # type: ignore[arg-type]

    def policy_indices(self, state: GameState, moves: Sequence[int]) -> np.ndarray:
        board = state.board  # type: ignore[attr-defined]
        black = board.turn == chess.BLACK
        home = _KING_HOME[black] & board.kings & board.occupied_co[board.turn]
        table = _TABLES[black][bool(home) and not board.chess960]
        return table[np.asarray(moves, dtype=np.int64)]
