"""Leela Zero nets converted to ONNX by :mod:`nets.leelaz_import` (19×19 only).

Input (``shared/formats/go.md`` §1) float32 [B, 18, 19, 19]: planes 0–7 the side to
move's stones at t … t−7, 8–15 the opponent's, 16 ones if Black is to move, 17 ones
if White is; history before the start position is zero. This is Tabula's go plane
format (:mod:`engine.codecs.go_planes`) plus the White-to-move plane, with the same
point layout: index ``row·19 + col``, row 0 = GTP row 1 (bottom), pass = 361.

Outputs of the converted graph: ``output_policy`` [B, 362] **logits** (the raw
output of Leela Zero's policy FC layer; the softmax Leela Zero applies is left to
the search, which takes it over the legal moves only) and ``output_value`` [B, 1]
= ``tanh`` of the value FC output, from the side to move's view (format-2 / ELF
nets, whose value is from Black's view, are flipped inside the graph). Metadata:
``tabula.codec=leelaz``, ``tabula.game=go``, ``tabula.board_size=19``.

>>> sig = NetSignature("lz.onnx", {"input_planes": ("batch", 18, 19, 19)},
...     {"output_policy": ("batch", 362), "output_value": ("batch", 1)})
>>> LeelaZeroCodec.accepts(sig), LeelaZeroCodec(sig).board_size
(True, 19)
"""

from __future__ import annotations

from typing import ClassVar

from .base import NetSignature
from .go_planes import HISTORY, GoPlanesCodec, resolve_go_signature

__all__ = ["LeelaZeroCodec", "LZ_PLANES", "LZ_SIZE"]

#: Leela Zero's input planes and (only) board size.
LZ_PLANES = 2 * HISTORY + 2
LZ_SIZE = 19


class LeelaZeroCodec(GoPlanesCodec):
    """Leela Zero's 18-plane input, 362 policy logits, tanh value; 19×19 only."""

    name: ClassVar[str] = "leelaz"
    game: ClassVar[str] = "go"
    planes: ClassVar[int] = LZ_PLANES
    colour_planes: ClassVar[int] = 2
    expects: ClassVar[str] = (
        "one input [batch,18,19,19] and outputs [batch,362] (policy logits) and [batch,1] "
        "(tanh value), e.g. written by nets.leelaz_import")

    @classmethod
    def _resolve(cls, sig: NetSignature) -> tuple[str, str, str, int] | None:
        return resolve_go_signature(sig, LZ_PLANES, sizes=(LZ_SIZE,))
