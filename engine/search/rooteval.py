"""The root's evaluation, shared by the reference search (mcts.py) and the compiled one (native.py).

Before the first batch a search needs its root's priors and value: from the eval cache when it
holds the position with as many moves, else from one network call of a single row, whose result
then goes into the cache (with the score, moves-left and ownership the net gives). Each search
then writes the result into its own tree.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from ..codecs.base import softmax_priors
from ..evaluator_api import Batch
from ..games.base import GameState


class RootEval(NamedTuple):
    """The root's legal moves and what the net (or the cache) says of the position."""

    moves: list[int]
    priors: np.ndarray
    q: float
    d: float
    score: float | None
    m: float | None


def evaluate_root(search: Any, batch: Batch, encode: Callable[[GameState, dict, int], None],
                  indices: Callable[[GameState, Sequence[int]], np.ndarray]) -> RootEval:
    """``search.state``'s root evaluation, from ``search.cache`` or one network call on ``batch``.

    ``search`` gives ``state``, ``cache``, ``ev``, ``codec``, ``params`` and the flags ``_scored``,
    ``_ml``, ``_owned`` (with ``_add_ownership``); ``encode`` writes a position into a batch row
    and ``indices`` gives the policy indices of moves, as the search's own leaves are written.
    """
    state = search.state
    moves = state.legal_moves()
    key = state.key()
    hit = search.cache.get(key)
    if hit is not None and len(hit[0]) == len(moves):
        return RootEval(moves, *hit)
    codec = search.codec
    encode(state, batch.inputs, 0)
    out = search.ev.run(batch, 1)
    priors = softmax_priors(out[codec.policy_output][0, indices(state, moves)], search.params.policy_temperature)
    qa, da = codec.decode_value(out, 1)
    q, d = float(qa[0]), float(da[0])
    score = float(codec.decode_score(out, 1)[0]) if search._scored else None  # noqa: SLF001
    m = float(codec.decode_moves_left(out, 1)[0]) if search._ml else None  # noqa: SLF001
    if search._owned:  # noqa: SLF001
        search._add_ownership(out, [0])  # noqa: SLF001
    search.cache.put(key, priors, q, d, score, m)
    return RootEval(moves, priors, q, d, score, m)
