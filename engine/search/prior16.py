"""Priors in 16 bits, as lc0 keeps them on its edges.

A prior p ∈ [0, 1] keeps 11 bits of mantissa and 5 of exponent, no sign: the float32's bits
minus the top nibble's fixed pattern, rounded to nearest at bit 12, shifted down 12 bits.
Priors below 2⁻³¹ become 0; every prior in [0, 1] comes back within a relative 2⁻¹² of
itself (see tests/test_prior16.py). Storing the prior this way halves an edge (4 → 2 bytes)
and gives the search the very numbers lc0's search sees for the same policy.

:func:`encode` / :data:`DECODE` work on whole arrays; the kernels use :func:`p16` on a
float32's bits and read :data:`P16` (the same table as ``DECODE``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: the float32 bit pattern every stored prior shares above its 16 kept bits
_BIAS = 3 << 28
#: rounding: half a unit of the 12 dropped bits, minus the pattern
_ROUND = (1 << 11) - _BIAS


def _decode_table() -> np.ndarray:
    codes = np.arange(1 << 16, dtype=np.uint32)
    return ((codes << 12) | _BIAS).astype(np.uint32).view(np.float32)


#: the prior each 16-bit code stands for (code 0: 2⁻³¹, which the search treats as 0 — it is
#: below any prior a softmax over at most a few hundred moves gives)
DECODE: np.ndarray = _decode_table()


#: the same table under the name the kernels use
P16 = DECODE


@njit(cache=True, nogil=True, inline="always")
def p16(bits: np.int32) -> np.uint16:
    """The 16-bit code of the float32 prior whose bits (as int32) are ``bits``."""
    x = np.int64(bits) + _ROUND
    return np.uint16(0) if x < 0 else np.uint16((x >> 12) & 0xFFFF)


@njit(cache=True, nogil=True)
def encode(priors: np.ndarray, out: np.ndarray) -> None:
    """Write the 16-bit codes of float32 ``priors`` (each in [0, 1]) into uint16 ``out``."""
    bits = priors.view(np.int32)
    for i in range(bits.size):
        out[i] = p16(bits[i])


def encode_array(priors: np.ndarray) -> np.ndarray:
    """The 16-bit codes of ``priors`` (any float array in [0, 1])."""
    p = np.ascontiguousarray(priors, np.float32)
    out = np.empty(p.size, np.uint16)
    encode(p, out)
    return out


def rounded(priors: np.ndarray) -> np.ndarray:
    """``priors`` as the tree stores them: each one through 16 bits and back (float32)."""
    return DECODE[encode_array(priors)]
