"""When to stop: one tiny object per limit, chained; the search loop only asks the chain.

``go infinite`` and ``go ponder`` simply build a chain without limits.

>>> chain = Chain([NodesStopper(100)])
>>> chain.should_stop(SearchStats(nodes=100))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .mcts import SearchStats
from .rootprune import room_for

#: lc0 lets smart pruning act only this long after the first evaluation of a search (its
#: ``kSmartPruningToleranceMs``): until then its root rule counts only what a node limit leaves,
#: undivided, and its stop rule waits.
SMART_PRUNING_TOLERANCE_S = 0.2


class Stopper:
    """Decides from the stats whether the search should end now."""

    reason: str = "limit"
    #: whether :meth:`remaining_playouts` is a hard count (a node limit), not an estimate
    exact: bool = False

    def should_stop(self, s: SearchStats) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def remaining_playouts(self, s: SearchStats) -> float:
        """Playouts this limit still allows (inf if it does not bound them)."""
        return float("inf")


@dataclass
class NodesStopper(Stopper):
    """``go nodes N``: visits of the root, those reused from the previous search included.

    lc0 counts ``go nodes`` the same way (visits, not new playouts), and so do Leela Zero's and
    KataGo's visit limits; ``go nodes 1`` is the root's own evaluation.
    """

    limit: int
    reason: str = "nodes"
    exact: bool = True

    def counted(self, s: SearchStats) -> int:
        """What the limit counts: the root's visits."""
        return s.nodes

    def should_stop(self, s: SearchStats) -> bool:
        return self.counted(s) >= self.limit

    def remaining_playouts(self, s: SearchStats) -> float:
        return max(0, self.limit - self.counted(s))


@dataclass
class PlayoutsStopper(NodesStopper):
    """A cap on this search's own playouts, the visits reused from the previous search not
    counted (Leela Zero's ``--playouts``, KataGo's ``maxPlayouts``; GTP's ``Playouts``)."""

    def counted(self, s: SearchStats) -> int:
        """What the limit counts: this search's playouts."""
        return s.playouts


@dataclass
class TimeStopper(Stopper):
    """A time budget: stop at ``soft`` seconds (``hard`` is the limit smart pruning never passes)."""

    soft: float
    reason: str = "time"

    def should_stop(self, s: SearchStats) -> bool:
        return s.elapsed >= self.soft

    def remaining_playouts(self, s: SearchStats) -> float:
        if s.playouts < 8 or s.elapsed <= 0.0:
            return float("inf")
        return max(0.0, self.soft - s.elapsed) * s.playouts / s.elapsed


@dataclass
class DepthStopper(Stopper):
    """``go depth D`` on lc0's average depth."""

    depth: int
    reason: str = "depth"

    def should_stop(self, s: SearchStats) -> bool:
        return s.depth >= self.depth


@dataclass
class MateStopper(Stopper):
    """``go mate M``: stop once a mate in at most M moves is proven."""

    moves: int
    mate_fn: object = None  # callable returning the root's mate distance in moves or None
    reason: str = "mate"

    def should_stop(self, s: SearchStats) -> bool:
        if not s.root_proven or self.mate_fn is None:
            return False
        m = self.mate_fn()  # type: ignore[operator]
        return m is not None and 0 < m <= self.moves


class ProvenStopper(Stopper):
    """The root's result is proven: searching more changes nothing."""

    reason = "proven"

    def should_stop(self, s: SearchStats) -> bool:
        return s.root_proven


class TreeFullStopper(Stopper):
    """The tree reached its memory budget."""

    reason = "memory"

    def should_stop(self, s: SearchStats) -> bool:
        return s.tree_full


@dataclass
class SmartPruningStopper(Stopper):
    """lc0's smart pruning: stop when the runner-up cannot catch the best move in the playouts
    left over ``factor``, and tell the root rule how many playouts it may count on (:meth:`room`).

    As in lc0, both wait ``tolerance`` seconds after the search's first evaluation. Until then
    the root rule counts only what a node limit leaves (a move that cannot catch the best even
    with every one of them), so at a few hundred nodes it seldom acts, and the search does not
    stop early.
    """

    factor: float
    others: tuple[Stopper, ...] = ()
    min_playouts: int = 32
    #: read from :data:`SMART_PRUNING_TOLERANCE_S` when the stopper is built (tests that need
    #: fixed-node searches independent of the machine's speed set it to infinity)
    tolerance: float = field(default_factory=lambda: SMART_PRUNING_TOLERANCE_S)
    reason: str = "pruned"
    _first_eval: float | None = field(default=None, repr=False, compare=False)

    def _settled(self, s: SearchStats) -> bool:
        """Whether ``tolerance`` has passed since the first evaluation this stopper saw."""
        if s.playouts <= 0:
            return False
        if self._first_eval is None:
            self._first_eval = s.elapsed
        return s.elapsed >= self._first_eval + self.tolerance

    def should_stop(self, s: SearchStats) -> bool:
        if self.factor <= 0 or not self._settled(s) or s.playouts < self.min_playouts:
            return False
        remaining = self._remaining(s)
        if remaining == float("inf"):
            return False
        best, second = s.top_visits
        return best - second > room_for(remaining, self.factor)

    def room(self, s: SearchStats) -> float:
        """The playouts lc0's root rule allows for now (inf: the rule is off)."""
        if self.factor <= 0:
            return float("inf")
        if not self._settled(s):
            return self._remaining(s, exact_only=True)
        return room_for(self._remaining(s), self.factor)

    def _remaining(self, s: SearchStats, exact_only: bool = False) -> float:
        """The fewest playouts the other limits allow (only node limits with ``exact_only``)."""
        return min((o.remaining_playouts(s) for o in self.others if o.exact or not exact_only),
                   default=float("inf"))


class Chain(Stopper):
    """Stops when any member stops; remembers which one did."""

    def __init__(self, stoppers: Iterable[Stopper]) -> None:
        self.stoppers = list(stoppers)
        self.reason = ""

    def should_stop(self, s: SearchStats) -> bool:
        for st in self.stoppers:
            if st.should_stop(s):
                self.reason = st.reason
                return True
        return False

    def remaining_playouts(self, s: SearchStats) -> float:
        return min((st.remaining_playouts(s) for st in self.stoppers), default=float("inf"))

    def prune_room(self, s: SearchStats) -> float:
        """The playouts lc0's root rule allows for (:meth:`SmartPruningStopper.room`; inf when
        smart pruning is off)."""
        return min((st.room(s) for st in self.stoppers if isinstance(st, SmartPruningStopper)),
                   default=float("inf"))
