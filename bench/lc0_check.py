"""Check Tabula's lc0 codecs against lc0 itself, one random net per input format.

    python -m tabula.bench.lc0_check --lc0 /root/lc0-tools/lc0 [--positions 240] [--formats 2,3,4] [--keep DIR]

For every input format it writes a small random net in lc0's own weights format
(``proto/net.proto``, residual convolutional body; conv or dense policy; WDL or single
value; a moves-left head on some), converts it with ``lc0 leela2onnx``, and plays the same
positions through both engines: lc0 (``go nodes 1`` with ``VerboseMoveStats``, blas backend,
``PolicyTemperature 1``, ``ucinewgame`` before each position so its NN cache never answers)
and Tabula's codec on the ONNX (onnxruntime). Compared per position:

* **P**: lc0 prints each root move's prior with 2 decimals in percent, after its fast
  approximate exp and a 16-bit compressed store (lc0.md §2.4, §5). Tabula's priors are put
  through the same steps (``lc0_display_priors``) and must print the same, to the display
  rounding (≤ 5e-5); the exact float64 softmax is reported too (lc0's approximations: ≲ 1e-3).
* **V**: the root's W−L (or tanh value), printed with 4 decimals (≤ 5e-5 from rounding).
* **M**: the moves-left head, printed with 1 decimal (≤ 0.05), where the net has one.

Positions: games from the start position and from FENs (castling rights, en passant in the
FEN, non-zero rule-50 counters), lines that repeat positions, pawnless endings that take
every canonical transform (flip, mirror, transpose, the diagonal tie-breaks), and a few
Chess960 games (castling rooks off the corners). Black is to move in about half.

A control run encodes the same positions with the *nearest wrong* format (e.g. hectoplies
read as canonical) to show that the nets notice the difference. A second control maps the
policy of transposed positions the way lc0 v0.33.0-dev does (a 180° turn, see
engine/codecs/lc0_planes.py); lc0 itself is then matched, Tabula's mapping is not.

Last run (lc0 v0.33.0-dev 909a4082 blas, onnxruntime 1.32 CPU; 240 positions per format, seed 1,
about 130 with black to move, 101-106 with castling rights, 9-11 with an en-passant flag, 14-16
with a repetition; canonical formats: 73-75 transformed, 28 transposed): every format prints the
same P as lc0 to within one step of its last digit (max |dP| 1e-4; 5e-4 to 8e-4 against an
exact softmax), V within its rounding (max |dV| 5.0e-5), M within its rounding (0.05) where the
net has a moves-left head; no policy index differs. Controls: max |dP| 0.40-1.00 read as the
nearest wrong format; on transposed positions lc0 matches its own 180-degree mapping (|dP| ≤ 1e-4)
and differs from the transpose-consistent one Tabula uses by up to 0.34-1.00.

Needs lc0 built with the blas backend (shared/formats/lc0-build.md) and the `onnx` package
only for tagging. Nothing is written outside a temporary directory unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import chess
import numpy as np

# -- lc0 weights files (proto/net.proto), written with a few lines of protobuf wire format --------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, payload: bytes | int, *, fixed32: bool = False) -> bytes:
    """One field: bytes → length-delimited, int → varint (or fixed32)."""
    if isinstance(payload, bytes):
        return _varint(num << 3 | 2) + _varint(len(payload)) + payload
    if fixed32:
        return _varint(num << 3 | 5) + struct.pack("<I", payload)
    return _varint(num << 3) + _varint(payload)


def _layer(values: np.ndarray) -> bytes:
    """Weights.Layer: FLOAT32 encoding (4), params as little-endian floats."""
    return _field(3, np.asarray(values, "<f4").tobytes()) + _field(4, 4)


def _conv(rng: np.random.Generator, cin: int, cout: int, k: int, gain: float) -> bytes:
    """Weights.ConvBlock without batch norm: weights [cout, cin, k, k], biases [cout]."""
    w = rng.standard_normal(cout * cin * k * k) * gain / np.sqrt(cin * k * k)
    b = rng.standard_normal(cout) * 0.1
    return _field(1, _layer(w)) + _field(2, _layer(b))


def _dense(rng: np.random.Generator, cin: int, cout: int, gain: float) -> tuple[bytes, bytes]:
    return (_layer(rng.standard_normal(cin * cout) * gain / np.sqrt(cin)),
            _layer(rng.standard_normal(cout) * 0.1))


@dataclass(frozen=True)
class NetSpec:
    """A random lc0 net: body, heads and the input format it declares."""

    input_format: int
    filters: int = 24
    blocks: int = 2
    se: bool = False
    conv_policy: bool = True
    wdl: bool = True
    moves_left: bool = False
    seed: int = 0

    def describe(self) -> str:
        return (f"{self.blocks}x{self.filters}{' SE' if self.se else ''}, "
                f"{'conv' if self.conv_policy else 'dense'} policy, {'WDL' if self.wdl else 'tanh value'}"
                f"{', moves left' if self.moves_left else ''}")


def write_lc0_net(path: str | Path, spec: NetSpec) -> Path:
    """Write ``spec`` as an lc0 ``.pb.gz`` that ``lc0`` loads and ``lc0 leela2onnx`` converts."""
    rng = np.random.default_rng(spec.seed)
    f = spec.filters
    w = _field(1, _conv(rng, 112, f, 3, 2.0))
    for _ in range(spec.blocks):
        res = _field(1, _conv(rng, f, f, 3, 1.5)) + _field(2, _conv(rng, f, f, 3, 1.0))
        if spec.se:
            se_ch = max(4, f // 4)
            w1, b1 = _dense(rng, f, se_ch, 1.0)
            w2, b2 = _dense(rng, se_ch, 2 * f, 1.0)
            res += _field(3, _field(1, w1) + _field(2, b1) + _field(3, w2) + _field(4, b2))
        w += _field(2, res)
    if spec.conv_policy:
        w += _field(11, _conv(rng, f, f, 3, 1.5)) + _field(3, _conv(rng, f, 80, 3, 3.0))
    else:
        w += _field(3, _conv(rng, f, 32, 1, 1.5))
        pw, pb = _dense(rng, 32 * 64, 1858, 3.0)
        w += _field(4, pw) + _field(5, pb)
    w += _field(6, _conv(rng, f, 32, 1, 1.5))
    v1w, v1b = _dense(rng, 32 * 64, 128, 1.5)
    v2w, v2b = _dense(rng, 128, 3 if spec.wdl else 1, 2.0)
    w += _field(7, v1w) + _field(8, v1b) + _field(9, v2w) + _field(10, v2b)
    if spec.moves_left:
        w += _field(12, _conv(rng, f, 8, 1, 1.5))
        m1w, m1b = _dense(rng, 8 * 64, 128, 1.5)
        m2w, _ = _dense(rng, 128, 1, 20.0)
        w += _field(13, m1w) + _field(14, m1b) + _field(15, m2w) + _field(16, _layer(np.array([30.0])))
    netfmt = (_field(1, spec.input_format) + _field(2, 2 if spec.wdl else 1)
              + _field(3, 4 if spec.se else 3) + _field(4, 2 if spec.conv_policy else 1)
              + _field(5, 2 if spec.wdl else 1) + _field(6, 1 if spec.moves_left else 0))
    net = (_field(1, 0x1C0, fixed32=True) + _field(2, b"random weights for bench/lc0_check.py")
           + _field(3, _field(1, 0) + _field(2, 28) + _field(3, 0))
           + _field(4, _field(1, 1) + _field(2, netfmt)) + _field(10, w))
    p = Path(path)
    with gzip.open(p, "wb") as fh:
        fh.write(net)
    return p


# -- positions ------------------------------------------------------------------------------------


@dataclass
class Position:
    """A game as lc0 and Tabula receive it: a start (startpos or FEN) and moves."""

    fen: str | None
    moves: list[str]
    chess960: bool = False
    kind: str = ""

    def uci(self) -> str:
        head = "startpos" if self.fen is None else f"fen {self.fen}"
        return f"position {head}" + (f" moves {' '.join(self.moves)}" if self.moves else "")

    def state(self):
        from tabula.engine.games.chess_game import ChessState

        s = ChessState(self.fen, chess960=self.chess960)
        for m in self.moves:
            s.push(s.parse_move(m))
        return s


_MID_FENS = [
    "r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4",
    "rnbqkbnr/ppp1p1pp/8/3pPp2/8/8/PPPP1PPP/RNBQKBNR w KQkq f6 0 3",
    "rnbqkbnr/pppp1ppp/8/8/3Pp3/8/PPP1PPPP/RNBQKBNR b KQkq d3 0 2",
    "r3k2r/pppq1ppp/2n1bn2/3pp3/3PP3/2N1BN2/PPPQ1PPP/R3K2R w KQkq - 6 8",
    "r3k2r/8/8/8/8/8/8/R3K2R b Kq - 12 40",
    "4k2r/6pp/8/8/8/8/6PP/R3K3 w Qk - 3 30",
    "2kr3r/ppp2ppp/8/8/8/8/PPP2PPP/R4RK1 w - - 9 20",
    "8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1",
    "r4rk1/1pp1qppp/p1np1n2/2b1p1B1/2B1P1b1/P1NP1N2/1PP1QPPP/R4RK1 w - - 0 10",
    "rnbqkb1r/pp1p1ppp/5n2/2pPp3/8/8/PPP1PPPP/RNBQKBNR w KQkq e6 0 4",
]

_960_FENS = [
    "bqnb1rkr/pppppppp/8/8/8/8/PPPPPPPP/BQNB1RKR w HFhf - 0 1",
    "nrkbbqrn/pppppppp/8/8/8/8/PPPPPPPP/NRKBBQRN w GBgb - 0 1",
    "rkrnbqnb/pppppppp/8/8/8/8/PPPPPPPP/RKRNBQNB w CAca - 0 1",
    "qrbkrnnb/pppppppp/8/8/8/8/PPPPPPPP/QRBKRNNB w EBeb - 0 1",
]

_PAWNLESS_PIECES = ["Q", "R", "RN", "QB", "RB", "N", "B", "RR", "QN", "BN"]


def _random_game(rng: random.Random, fen: str | None, plies: int, chess960: bool = False) -> list[str]:
    board = chess.Board(fen or chess.STARTING_FEN, chess960=chess960)
    moves: list[str] = []
    for _ in range(plies):
        legal = list(board.legal_moves)
        if not legal or board.is_game_over(claim_draw=False):
            break
        # prefer double pawn pushes now and then: en-passant flags
        doubles = [m for m in legal if board.piece_type_at(m.from_square) == chess.PAWN
                   and abs(m.to_square - m.from_square) == 16]
        m = rng.choice(doubles) if doubles and rng.random() < 0.3 else rng.choice(legal)
        moves.append(board.uci(m))
        board.push(m)
    return moves


def _en_passant_line(rng: random.Random, fen: str | None, lead: int) -> list[str]:
    """A random game that ends on (or 1-2 plies after) a double push beside an enemy pawn."""
    board = chess.Board(fen or chess.STARTING_FEN)
    moves: list[str] = []
    for _ in range(lead + 40):
        legal = list(board.legal_moves)
        if not legal or board.is_game_over(claim_draw=False):
            break
        flagged = []
        for m in legal:
            if board.piece_type_at(m.from_square) == chess.PAWN and abs(m.to_square - m.from_square) == 16:
                beside = chess.BB_SQUARES[m.to_square]
                beside = ((beside << 1) & ~chess.BB_FILE_A) | ((beside >> 1) & ~chess.BB_FILE_H)
                if beside & board.pawns & board.occupied_co[not board.turn]:
                    flagged.append(m)
        m = rng.choice(flagged) if flagged and len(moves) >= lead else rng.choice(legal)
        moves.append(board.uci(m))
        board.push(m)
        if m in flagged:
            return moves + _random_game(rng, board.fen(), rng.choice([0, 0, 1, 2]))
    return moves


def _shuffle_line(rng: random.Random, fen: str | None, lead: int) -> list[str]:
    """A few random plies, then knights (or kings) going out and back: repetitions."""
    board = chess.Board(fen or chess.STARTING_FEN)
    moves = _random_game(rng, fen, lead)
    for m in moves:
        board.push_uci(m)
    for _ in range(rng.randrange(4, 13)):
        legal = [m for m in board.legal_moves if board.piece_type_at(m.from_square) in (chess.KNIGHT, chess.KING)
                 and not board.is_capture(m)]
        if not legal or board.is_game_over(claim_draw=False):
            break
        # go back where the piece came from when possible (repeats positions)
        back = [m for m in legal if board.move_stack and len(board.move_stack) >= 2
                and m.to_square == board.move_stack[-2].from_square and m.from_square == board.move_stack[-2].to_square]
        m = back[0] if back and rng.random() < 0.8 else rng.choice(legal)
        moves.append(board.uci(m))
        board.push(m)
    return moves


def _pawnless_fen(rng: random.Random) -> str:
    while True:
        board = chess.Board(None)
        squares = rng.sample(chess.SQUARES, 8)
        board.set_piece_at(squares[0], chess.Piece(chess.KING, chess.WHITE))
        board.set_piece_at(squares[1], chess.Piece(chess.KING, chess.BLACK))
        i = 2
        for color in (chess.WHITE, chess.BLACK):
            for sym in rng.choice(_PAWNLESS_PIECES):
                board.set_piece_at(squares[i], chess.Piece.from_symbol(sym if color else sym.lower()))
                i += 1
        board.turn = rng.random() < 0.5
        board.halfmove_clock = rng.choice([0, 0, 3, 17, 42])
        board.fullmove_number = 50
        if board.is_valid() and not board.is_game_over() and len(list(board.legal_moves)) >= 2:
            return board.fen()


def _diagonal_king_fen(rng: random.Random) -> str:
    """Pawnless, the side to move's king on a square that maps to the a8–h1 diagonal: tie-breaks."""
    diag = ["h1", "g2", "f3", "e4", "a1", "b2", "c3", "d4", "a8", "b7", "c6", "d5", "h8", "g7", "f6", "e5"]
    while True:
        board = chess.Board(None)
        us = rng.random() < 0.5
        ksq = chess.parse_square(rng.choice(diag))
        rest = [s for s in chess.SQUARES if s != ksq]
        rng.shuffle(rest)
        board.set_piece_at(ksq, chess.Piece(chess.KING, us))
        board.set_piece_at(rest[0], chess.Piece(chess.KING, not us))
        # symmetric placements now and then, so later tie-breaks decide
        board.set_piece_at(rest[1], chess.Piece(chess.QUEEN if rng.random() < 0.5 else chess.ROOK, us))
        if rng.random() < 0.5:
            board.set_piece_at(rest[2], chess.Piece(chess.KNIGHT, not us))
        board.turn = us
        board.halfmove_clock = rng.choice([0, 5])
        if board.is_valid() and not board.is_game_over() and len(list(board.legal_moves)) >= 2:
            return board.fen()


def make_positions(count: int, seed: int = 1, *, fen_clock_ok: bool = True) -> list[Position]:
    """``count`` distinct positions of the kinds in the module docstring.

    ``fen_clock_ok=False`` leaves out FEN starts whose own rule-50 counter is not 0 when no
    capture or pawn move has reset it since: lc0 v0.33.0-dev crashes on them with a canonical
    v2 net (its history walk runs away, see engine/codecs/lc0_planes.py).
    """
    rng = random.Random(seed)
    out: list[Position] = []
    seen: set[str] = set()

    def add(p: Position) -> None:
        s = p.state()
        if s.terminal() is not None or len(s.legal_moves()) < 2:
            return
        if not fen_clock_ok and p.fen is not None and s.board.halfmove_clock > s.ply:
            return  # the FEN's own counter is not 0 and nothing reset it since
        key = p.uci()
        if key not in seen:
            seen.add(key)
            out.append(p)

    plan = [("startpos", 0.32), ("enpassant", 0.08), ("fen", 0.16), ("repeat", 0.12), ("pawnless", 0.14),
            ("diagonal", 0.08), ("noncastle", 0.05), ("960", 0.05)]
    quota = {k: max(1, round(v * count)) for k, v in plan}
    for kind, _ in plan:
        target = len(out) + quota[kind]
        tries = 0
        while len(out) < target and tries < 50 * quota[kind]:
            tries += 1
            if kind == "startpos":
                add(Position(None, _random_game(rng, None, rng.randrange(0, 70)), kind=kind))
            elif kind == "enpassant":
                add(Position(None, _en_passant_line(rng, None, rng.randrange(2, 30)), kind=kind))
            elif kind == "fen":
                fen = rng.choice(_MID_FENS)
                add(Position(fen, _random_game(rng, fen, rng.randrange(0, 12)), kind=kind))
            elif kind == "repeat":
                fen = rng.choice([None, *_MID_FENS[:4]])
                add(Position(fen, _shuffle_line(rng, fen, rng.randrange(0, 16)), kind=kind))
            elif kind == "pawnless":
                fen = _pawnless_fen(rng)
                add(Position(fen, _random_game(rng, fen, rng.randrange(0, 8)), kind=kind))
            elif kind == "diagonal":
                add(Position(_diagonal_king_fen(rng), [], kind=kind))
            elif kind == "noncastle":  # pawns, no castling rights: flips only
                fen = "4k3/pp3ppp/2n5/3p4/3P4/2N5/PP3PPP/4K3 w - - 0 20"
                add(Position(fen, _random_game(rng, fen, rng.randrange(0, 20)), kind=kind))
            elif kind == "960":
                fen = rng.choice(_960_FENS)
                add(Position(fen, _random_game(rng, fen, rng.randrange(0, 30), chess960=True),
                             chess960=True, kind=kind))
    while len(out) < count:
        add(Position(None, _random_game(rng, None, rng.randrange(0, 70)), kind="startpos"))
    return out[:count]


# -- lc0's side ------------------------------------------------------------------------------------

_MOVE_LINE = re.compile(r"info string (\S+)\s+\(\s*(\d+)\s*\).*?\(P:\s*([\d.]+)%\)")
_NODE_V = re.compile(r"info string node .*?\(M:\s*([-\d.]+)\).*?\(V:\s*([-\d.]+)\)")


@dataclass
class Lc0Answer:
    priors: dict[str, float]  # lc0 move text (king-takes-rook castling) → P
    indices: dict[str, int]
    value: float
    moves_left: float


class Lc0Process:
    """An lc0 UCI session on one weights file (blas backend, no NN cache between positions)."""

    def __init__(self, lc0: str, weights: Path, backend: str = "blas") -> None:
        self.proc = subprocess.Popen(
            [lc0, f"--weights={weights}", f"--backend={backend}", "--threads=1", "--minibatch-size=1",
             "--policy-softmax-temp=1", "--verbose-move-stats", "--smart-pruning-factor=0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self._send("uci")
        self._until("uciok")
        self._send("isready")
        self._until("readyok")
        self.chess960: bool | None = None

    def _send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def _until(self, prefix: str, timeout: float = 60.0) -> list[str]:
        assert self.proc.stdout is not None
        lines, t0 = [], time.monotonic()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("lc0 ended: " + "".join(lines[-5:]))
            lines.append(line.rstrip("\n"))
            if line.startswith(prefix):
                return lines
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"lc0 did not answer {prefix!r}")

    def evaluate(self, pos: Position) -> Lc0Answer:
        if self.chess960 != pos.chess960:
            self._send(f"setoption name UCI_Chess960 value {'true' if pos.chess960 else 'false'}")
            self.chess960 = pos.chess960
        self._send("ucinewgame")
        self._send(pos.uci())
        self._send("go nodes 1")
        lines = self._until("bestmove")
        priors, indices = {}, {}
        value = moves_left = float("nan")
        for line in lines:
            node = _NODE_V.match(line)
            if node:
                moves_left, value = float(node.group(1)), float(node.group(2))
                continue
            m = _MOVE_LINE.match(line)
            if m:
                priors[m.group(1)] = float(m.group(3)) / 100
                indices[m.group(1)] = int(m.group(2))
        return Lc0Answer(priors, indices, value, moves_left)

    def close(self) -> None:
        try:
            self._send("quit")
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - best effort
            self.proc.kill()


def lc0_move_text(board: chess.Board, move: chess.Move) -> str:
    """How lc0 prints ``move``: castling as king takes rook."""
    if board.is_castling(move) and not board.chess960:
        rank = chess.square_rank(move.from_square)
        rook = chess.square(7 if board.is_kingside_castling(move) else 0, rank)
        return chess.square_name(move.from_square) + chess.square_name(rook)
    return board.uci(move)


# -- lc0's display pipeline, for Tabula's logits -----------------------------------------------------


def _fast_exp2(a: np.ndarray) -> np.ndarray:
    """lc0's FastExp2 (src/utils/fastmath.h), element-wise in float32."""
    a = np.asarray(a, np.float32)
    out = np.zeros_like(a)
    ok = a >= -126
    x = a[ok]
    e = np.where(x < 0, (x - 1).astype(np.int32), x.astype(np.int32))  # truncation, as C++ casts
    frac = (x - e.astype(np.float32)).astype(np.float32)
    frac = (np.float32(1) + frac * (np.float32(0.6602339) + np.float32(0.33976606) * frac)).astype(np.float32)
    bits = frac.view(np.int32) + (e.astype(np.uint32) << 23).astype(np.int32)
    out[ok] = bits.view(np.float32)
    return out


def _store_p(p: np.ndarray) -> np.ndarray:
    """lc0's Edge::SetP then GetP: 16 bits kept of the float."""
    bits = np.asarray(p, np.float32).view(np.int32).astype(np.int64) + ((1 << 11) - (3 << 28))
    kept = np.where(bits < 0, 0, bits >> 12).astype(np.uint32)
    return ((kept << 12) | np.uint32(3 << 28)).view(np.float32)


def lc0_display_priors(logits: np.ndarray) -> np.ndarray:
    """What lc0 stores as the prior of each legal move, from their policy logits (temperature 1)."""
    x = np.asarray(logits, np.float32)
    e = _fast_exp2(np.float32(1.442695040) * (x - x.max()))
    total = np.float32(0)
    for v in e:
        total = np.float32(total + v)
    return _store_p((e * (np.float32(1) / total)).astype(np.float32))


def _printed(p: np.ndarray) -> np.ndarray:
    """lc0's ``%.2f%%`` (``%.1f`` at ≥ 99.995 %), back as a fraction."""
    pct = np.asarray(p, np.float64) * 100
    return np.where(pct >= 99.995, np.round(pct, 1), np.round(pct, 2)) / 100


# -- Tabula's side ----------------------------------------------------------------------------------


def _master_transform_square(sq: int, transform: int) -> int:
    """lc0 v0.33.0-dev's move transform (src/neural/encoder.cc ``Transform``), for the control."""
    from tabula.engine.codecs.lc0_planes import FLIP, MIRROR, TRANSPOSE

    if transform & (MIRROR | TRANSPOSE):
        sq ^= 56
    if transform & (FLIP | TRANSPOSE):
        sq ^= 7
    return sq


def _master_indices(codec, state, moves) -> np.ndarray:
    from tabula.engine.codecs.lc0 import _code_table

    t = codec.transform(state)
    perm = np.array([_master_transform_square(s, t) for s in range(64)], np.int64)
    table = _code_table(state.board.turn == chess.BLACK, perm)
    return table[np.asarray(moves, np.int64)]


@dataclass
class FormatResult:
    fmt: str
    net: str
    positions: int = 0
    black: int = 0
    transformed: int = 0
    transposed: int = 0
    max_dp_display: float = 0.0
    max_dp_exact: float = 0.0
    max_dv: float = 0.0
    max_dm: float | None = None
    index_mismatches: int = 0
    control_max_dp: float = 0.0
    control_max_dv: float = 0.0
    control_format: str = ""
    transpose_master_max_dp: float | None = None
    transpose_tabula_max_dp: float | None = None
    kinds: dict[str, int] = field(default_factory=dict)
    #: positions with: castling rights, an en-passant flag now, a repetition in the last 8 plies,
    #: a history (≥ 1 move played), a non-zero rule-50 counter
    features: dict[str, int] = field(default_factory=dict)


def check_format(lc0: str, workdir: Path, fmt_number: int, spec: NetSpec, positions: list[Position],
                 control: int, tag: bool) -> FormatResult:
    from tabula.engine.codecs.lc0_formats import Resolution, parse_format
    from tabula.engine.evaluator import OnnxEvaluator
    from tabula.engine.games.chess_game import decode_move

    fmt = parse_format(fmt_number)
    pb = write_lc0_net(workdir / f"net-{fmt.short}.pb.gz", spec)
    onnx_path = workdir / f"net-{fmt.short}.onnx"
    subprocess.run([lc0, "leela2onnx", f"--input={pb}", f"--output={onnx_path}"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if tag:  # the format from metadata, with no weights file beside it
        from tabula.nets.tools import tag_lc0_format

        tagged = workdir / "tagged" / onnx_path.name
        tagged.parent.mkdir(exist_ok=True)
        tag_lc0_format(onnx_path, fmt.short, output=tagged)
        net_path = tagged
    else:  # the format from net-<fmt>.pb.gz beside the ONNX
        net_path = onnx_path
    ev = OnnxEvaluator(net_path, backend="cpu", threads=1, max_batch=len(positions))
    codec = ev.codec
    assert codec.input_format == fmt, (codec.input_format, fmt)
    states = [p.state() for p in positions]

    def run(c):
        batch = ev.new_batch(len(states))
        for i, s in enumerate(states):
            c.encode(s, batch.inputs, i)
        out = ev.run(batch, len(states))
        q, _ = c.decode_value(out, len(states))
        mlh = c.decode_moves_left(out, len(states)) if c.has_moves_left else None
        return out[c.policy_output], q, mlh

    # the control: the same net read as the nearest wrong format
    if control == 1:
        from tabula.engine.codecs.lc0 import Lc0Codec
        ctrl_codec = Lc0Codec(ev.signature, Resolution(parse_format(control), "control"))
    else:
        from tabula.engine.codecs.lc0_planes import Lc0FormatCodec
        ctrl_codec = Lc0FormatCodec(ev.signature, Resolution(parse_format(control), "control"))
    pol, q, mlh = run(codec)
    cpol, cq, _ = run(ctrl_codec)
    res = FormatResult(fmt.short, spec.describe(), control_format=parse_format(control).short)
    proc = Lc0Process(lc0, pb)
    t_master, t_tabula = [], []
    try:
        for i, (pos, s) in enumerate(zip(positions, states)):
            ans = proc.evaluate(pos)
            moves = list(s.legal_moves())
            board = s.board
            names = [lc0_move_text(board, decode_move(m)) for m in moves]
            if set(names) != set(ans.priors):
                raise AssertionError(f"{pos.uci()}: legal moves differ: {sorted(set(names) ^ set(ans.priors))}")
            idx = codec.policy_indices(s, moves)
            logits = pol[i, idx]
            lc0_p = np.array([ans.priors[n] for n in names])
            shown = _printed(lc0_display_priors(logits))
            exact = np.exp(logits.astype(np.float64) - logits.max())
            exact /= exact.sum()
            # the printed index is lc0's untransformed one: Tabula's with no transform must agree
            plain = ctrl_indices_plain(s, moves)
            res.index_mismatches += int(sum(int(plain[j]) != ans.indices[n] for j, n in enumerate(names)))
            transform = codec.transform(s) if hasattr(codec, "transform") else 0  # Lc0Codec: none
            dp_disp = float(np.abs(shown - lc0_p).max())
            if transform & 4:
                master = _printed(lc0_display_priors(pol[i, _master_indices(codec, s, moves)]))
                t_master.append(float(np.abs(master - lc0_p).max()))
                t_tabula.append(dp_disp)
            else:
                res.max_dp_display = max(res.max_dp_display, dp_disp)
                res.max_dp_exact = max(res.max_dp_exact, float(np.abs(exact - lc0_p).max()))
            res.max_dv = max(res.max_dv, abs(float(q[i]) - ans.value))
            if mlh is not None:
                res.max_dm = max(res.max_dm or 0.0, abs(float(mlh[i]) - ans.moves_left))
            cidx = ctrl_codec.policy_indices(s, moves)
            cshown = _printed(lc0_display_priors(cpol[i, cidx]))
            res.control_max_dp = max(res.control_max_dp, float(np.abs(cshown - lc0_p).max()))
            res.control_max_dv = max(res.control_max_dv, abs(float(cq[i]) - ans.value))
            res.positions += 1
            res.black += board.turn == chess.BLACK
            res.transformed += bool(transform)
            res.transposed += bool(transform & 4)
            res.kinds[pos.kind] = res.kinds.get(pos.kind, 0) + 1
            for name, has in (("castling", bool(board.clean_castling_rights())), ("en passant", bool(s.ep_flags[-1])),
                              ("repetition", any(s.repetitions[-8:])), ("history", bool(pos.moves)),
                              ("rule50>0", board.halfmove_clock > 0)):
                res.features[name] = res.features.get(name, 0) + has
    finally:
        proc.close()
        ev.close()
    if t_master:
        res.transpose_master_max_dp = max(t_master)
        res.transpose_tabula_max_dp = max(t_tabula)
    return res


def ctrl_indices_plain(state, moves) -> np.ndarray:
    """Policy indices with no board transform (what lc0 prints beside each move)."""
    from tabula.engine.codecs.lc0_planes import policy_table

    return policy_table(state.board, 0)[np.asarray(moves, np.int64)]


#: the format each is checked against as a control (the nearest wrong reading), and the net used
PLAN: dict[int, tuple[int, NetSpec]] = {
    1: (2, NetSpec(1, seed=11)),
    2: (1, NetSpec(2, se=True, conv_policy=False, seed=12)),
    3: (2, NetSpec(3, wdl=False, seed=13)),
    4: (3, NetSpec(4, moves_left=True, seed=14)),
    132: (4, NetSpec(132, se=True, moves_left=True, seed=15)),
    5: (4, NetSpec(5, conv_policy=False, moves_left=True, seed=16)),
    133: (5, NetSpec(133, wdl=False, moves_left=True, seed=17)),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lc0", default=shutil.which("lc0") or "/root/lc0-tools/lc0")
    ap.add_argument("--positions", type=int, default=240)
    ap.add_argument("--formats", default=",".join(str(k) for k in PLAN))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", default=None, help="directory for the nets (default: a temporary one)")
    ap.add_argument("--json", default=None, help="write the results here as JSON")
    args = ap.parse_args(argv)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lc0check-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    ok = True
    for n in (int(x) for x in args.formats.split(",")):
        control, spec = PLAN[n]
        positions = make_positions(args.positions, args.seed, fen_clock_ok=n not in (5, 133))
        t0 = time.monotonic()
        r = check_format(args.lc0, work, n, spec, positions, control, tag=n % 2 == 0)
        results.append(r)
        # one step of lc0's printed digits: P 0.01 % (a float's last bit can tip the rounding),
        # V 4 decimals, M 1 decimal; onnxruntime against lc0's blas adds ~1e-6
        good = r.max_dp_display <= 1.01e-4 and r.max_dv <= 6e-5 and r.index_mismatches == 0 and \
            (r.max_dm is None or r.max_dm <= 0.0501)
        ok &= good
        print(f"{r.fmt:>24}: {r.positions} positions ({r.black} black to move, {r.transformed} transformed, "
              f"{r.transposed} transposed); net {r.net}\n"
              f"{'':>26}positions with " + ", ".join(f"{k} {v}" for k, v in r.features.items()) + "\n"
              f"{'':>26}max |dP| {r.max_dp_display:.1e} as lc0 prints it, {r.max_dp_exact:.1e} against an "
              f"exact softmax; max |dV| {r.max_dv:.1e}"
              + (f"; max |dM| {r.max_dm:.2f}" if r.max_dm is not None else "")
              + f"; index mismatches {r.index_mismatches}; {'OK' if good else 'MISMATCH'}"
              f" ({time.monotonic() - t0:.0f} s)\n"
              f"{'':>26}control (read as {r.control_format}): max |dP| {r.control_max_dp:.3f}, "
              f"max |dV| {r.control_max_dv:.3f}"
              + (f"\n{'':>26}transposed positions: Tabula's mapping max |dP| {r.transpose_tabula_max_dp:.3f}, "
                 f"lc0 v0.33's 180-degree mapping {r.transpose_master_max_dp:.1e}"
                 if r.transpose_master_max_dp is not None else ""), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=1))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
