"""The search: the Python reference (mcts, tree) and the compiled one (native, kernels).

Importing refreshes numba's cache of the compiled kernels when their sources changed
(:mod:`engine.native.cachestamp`).
"""

from ..native.cachestamp import refresh as _refresh

_refresh()
