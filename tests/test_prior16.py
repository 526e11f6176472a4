"""16-bit priors (engine/search/prior16.py): lc0's layout, exact where it should be, close elsewhere."""

from __future__ import annotations

import numpy as np

from tabula.engine.search.prior16 import DECODE, encode_array, rounded


def test_reference_values():
    # 1 and the powers of two keep their bits exactly; 0 and tiny priors take code 0
    codes = encode_array(np.array([1.0, 0.5, 0.25, 2.0 ** -20, 0.0, 1e-12], np.float32))
    assert codes.tolist() == [0xF800, 0xF000, 0xE800, 0x5800, 0, 0]
    assert DECODE[[0xF800, 0xF000, 0xE800, 0x5800]].tolist() == [1.0, 0.5, 0.25, 2.0 ** -20]
    assert DECODE[0] == np.float32(2.0 ** -31)


def test_round_trip_is_within_half_a_unit():
    p = np.random.default_rng(1).dirichlet(np.ones(40), size=500).astype(np.float32).ravel()
    back = rounded(p)
    big = p >= 2.0 ** -30
    assert np.all(np.abs(back[big] - p[big]) <= p[big] * 2.0 ** -12)
    # rounding to nearest: the code of the decoded value is the code itself
    codes = encode_array(p)
    assert np.array_equal(encode_array(DECODE[codes]), codes)


def test_codes_are_monotonic():
    p = np.sort(np.random.default_rng(2).random(10_000).astype(np.float32))
    assert np.all(np.diff(encode_array(p).astype(np.int64)) >= 0)
