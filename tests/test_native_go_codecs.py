"""The compiled go encoders (engine/native/go_encoder.py) against the Python codecs, and the
compiled go gatherer's choice of codecs."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tabula.engine.codecs.go_planes import write_planes
from tabula.engine.games.go import WHITE, GoState, handicap_points
from tabula.engine.native.go_state import NativeGoState
from tabula.engine.search.go_kernels import colour_planes_of


def random_positions(size: int, games: int, seed: int, every: int = 3):
    """(reference, native) pairs along seeded random games, passes and captures included."""
    rng = random.Random(seed)
    for gi in range(games):
        if gi % 3 == 2 and size >= 7:
            ref = GoState(size, 7.5, black=handicap_points(size, 2), to_move=WHITE)
        else:
            ref = GoState(size, 7.5)
        nat = NativeGoState.from_state(ref, room=16)
        for ply in range(3 * size * size):
            if ply % every == 0:
                yield ref, nat
            if ref.terminal() is not None:
                break
            move = ref.PASS if rng.random() < 0.03 else rng.choice(ref.legal_moves())
            ref.push(move)
            nat.push(move)
        yield ref, nat


@pytest.mark.parametrize("size,games,colour_planes", [(9, 12, 1), (13, 4, 1), (19, 3, 1), (19, 3, 2), (5, 20, 2)])
def test_planes_bit_identical(size, games, colour_planes):
    planes = 16 + colour_planes
    want = np.empty((planes, size, size), np.float32)
    got = np.full((planes, size, size), 7.0, np.float32)
    via_python = np.empty_like(want)
    count = 0
    for ref, nat in random_positions(size, games, seed=size * 10 + colour_planes):
        write_planes(ref, want, colour_planes)
        nat.encode_planes(got, colour_planes)
        assert np.array_equal(want, got), (ref.ply, str(ref))
        write_planes(nat, via_python, colour_planes)  # the Python codec reads a NativeGoState alike
        assert np.array_equal(want, via_python)
        count += 1
    assert count > 20


def test_gatherer_serves_tabula_and_leela_zero_planes_only():
    class Other:
        colour_planes = 1
    from tabula.engine.codecs.go_planes import GoPlanesCodec
    from tabula.engine.codecs.leelaz import LeelaZeroCodec
    go = object.__new__(GoPlanesCodec)
    lz = object.__new__(LeelaZeroCodec)
    assert colour_planes_of(go) == 1 and colour_planes_of(lz) == 2 and colour_planes_of(Other()) == 0
