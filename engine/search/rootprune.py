"""lc0's root rule under smart pruning: no more visits for a root move that cannot catch the best.

With smart pruning on, lc0 estimates the playouts its limits still allow and, while it gathers,
skips every root move whose visits plus that estimate stay below the visits of the current best
move (the best itself is always searchable). The playouts go to the moves that can still change
the answer instead. For the first 200 ms after the first evaluation the estimate is what a node
limit leaves; after that it is every limit's estimate divided by the smart-pruning factor, as for
the stop rule (``SmartPruningStopper.room`` in stoppers.py). Both searches apply it to their root
selection through :func:`hopeless`.

>>> hopeless(np.array([40, 10, 35]), best=0, room=20.0).tolist()
[False, True, False]
>>> hopeless(np.array([40, 10, 35]), best=0, room=float("inf")) is None
True
"""

from __future__ import annotations

import numpy as np


def hopeless(visits: np.ndarray, best: int, room: float) -> np.ndarray | None:
    """Which root moves can no longer catch ``best`` in ``room`` playouts (True: skip it);
    None when none is, so the caller keeps its mask as it is."""
    if not room < float(visits[best]) or len(visits) < 2:  # inf, nan, or more room than the gap can need
        return None
    out = (int(visits[best]) - visits.astype(np.int64)) > room
    out[best] = False
    return out if out.any() else None


def room_for(remaining: float, factor: float) -> float:
    """The playouts the rule allows for: what the limits still allow over the smart-pruning
    factor (lc0 divides its estimate the same way); infinite with smart pruning off."""
    if factor <= 0:
        return float("inf")
    return remaining / factor
