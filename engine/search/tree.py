"""The search tree as a structure of numpy arrays (no Python object per node).

Nodes and edges live in parallel arrays. Node *i* owns the contiguous edge range
``first[i] : first[i] + count[i]``; edge *e* leads to node ``child[e]`` (``UNVISITED``
until the move is first tried). Edge statistics are kept from the point of view of
the player who makes the edge's move, so a node's children compare directly.

The arrays grow by doubling until a byte budget is reached, then :attr:`full`
turns true and the search stops adding nodes (memory stays bounded under
``go infinite``).
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np
from .prior16 import rounded

#: bytes per node / per edge across all arrays below (used for the budget and hashfull)
NODE_BYTES = 8 + 4 + 8 + 4 + 1 + 2 + 8 + 4
EDGE_BYTES = 8 + 4 + 4 + 4 + 8 + 8 + 4


class Tree:
    """Struct-of-arrays MCTS tree with a byte budget."""

    ROOT_PARENT: ClassVar[int] = -1
    UNVISITED: ClassVar[int] = -1
    #: ``count`` values of a node that has no edges yet
    UNEXPANDED: ClassVar[int] = -1
    PENDING: ClassVar[int] = -2
    #: ``status`` values, from the point of view of the node's side to move
    UNKNOWN: ClassVar[int] = 0
    WON: ClassVar[int] = 1
    LOST: ClassVar[int] = -1
    DRAWN: ClassVar[int] = 2

    def __init__(self, budget_bytes: int = 256 << 20, initial_nodes: int = 4096,
                 branching: int = 32) -> None:
        self.budget = max(budget_bytes, 1 << 16)
        self.branching = branching
        n, e = initial_nodes, initial_nodes * branching
        # nodes
        self.first = np.zeros(n, np.int64)
        self.count = np.full(n, self.UNEXPANDED, np.int32)
        self.pedge = np.full(n, -1, np.int64)
        self.parent = np.full(n, -1, np.int32)
        self.status = np.zeros(n, np.int8)
        self.plies = np.zeros(n, np.int16)
        #: score sum and count (nets with a score head, e.g. KataGo's lead), from the view of
        #: the player who moved into the node, as edge values are
        self.ssum = np.zeros(n, np.float64)
        self.sn = np.zeros(n, np.int32)
        #: moves-left sum in plies (nets with a moves-left head): the node's M is msum / visits
        self.msum = np.zeros(n, np.float64)
        # edges
        self.move = np.zeros(e, np.int64)
        self.prior = np.zeros(e, np.float32)
        self.child = np.full(e, self.UNVISITED, np.int32)
        self.n = np.zeros(e, np.int32)
        self.w = np.zeros(e, np.float64)
        self.d = np.zeros(e, np.float64)
        self.vl = np.zeros(e, np.int32)
        self.num_nodes = 0
        self.num_edges = 0
        self.full = False
        self.root = self.new_node(-1, -1)
        #: root statistics (the root has no parent edge): visits, value sum, draw sum, STM view
        self.root_n = 0
        self.root_w = 0.0
        self.root_d = 0.0
        #: root score sum and count, side-to-move view
        self.root_ssum = 0.0
        self.root_sn = 0
        #: the root's moves-left sum
        self.root_msum = 0.0

    # -- memory ------------------------------------------------------------------------
    def bytes_used(self) -> int:
        """Bytes taken by the nodes and edges in use."""
        return self.num_nodes * NODE_BYTES + self.num_edges * EDGE_BYTES

    def hashfull(self) -> int:
        """Per-mille of the byte budget in use (UCI ``hashfull``)."""
        return min(1000, self.bytes_used() * 1000 // self.budget)

    def _grow_nodes(self) -> None:
        size = len(self.first) * 2
        for name, fill in (("first", 0), ("count", self.UNEXPANDED), ("pedge", -1), ("parent", -1), ("status", 0),
                           ("plies", 0), ("ssum", 0), ("sn", 0), ("msum", 0)):
            old = getattr(self, name)
            new = np.full(size, fill, old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def _grow_edges(self, need: int) -> None:
        size = len(self.move)
        while size < need:
            size *= 2
        for name, fill in (("move", 0), ("prior", 0), ("child", self.UNVISITED), ("n", 0), ("w", 0),
                           ("d", 0), ("vl", 0)):
            old = getattr(self, name)
            new = np.full(size, fill, old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def can_grow(self, edges: int) -> bool:
        """Whether one more node with ``edges`` edges fits the budget."""
        return self.bytes_used() + NODE_BYTES + edges * EDGE_BYTES <= self.budget

    # -- structure -----------------------------------------------------------------------
    def new_node(self, parent_edge: int, parent: int) -> int:
        """Append an unexpanded node reached from node ``parent`` through ``parent_edge`` (-1: root)."""
        i = self.num_nodes
        if i >= len(self.first):
            self._grow_nodes()
        self.first[i] = 0
        self.count[i] = self.UNEXPANDED
        self.pedge[i] = parent_edge
        self.parent[i] = parent
        self.status[i] = self.UNKNOWN
        self.plies[i] = 0
        self.ssum[i] = 0.0
        self.sn[i] = 0
        self.msum[i] = 0.0
        self.num_nodes = i + 1
        if parent_edge >= 0:
            self.child[parent_edge] = i
        if not self.can_grow(self.branching):
            self.full = True
        return i

    def expand(self, node: int, moves: Sequence[int], priors: np.ndarray) -> None:
        """Give ``node`` one edge per move with the given priors."""
        k = len(moves)
        f = self.num_edges
        if f + k > len(self.move):
            self._grow_edges(f + k)
        end = f + k
        self.move[f:end] = moves
        self.prior[f:end] = rounded(priors)  # lc0's 16-bit priors, as the compiled tree keeps them
        self.child[f:end] = self.UNVISITED
        self.n[f:end] = 0
        self.w[f:end] = 0.0
        self.d[f:end] = 0.0
        self.vl[f:end] = 0
        self.first[node] = f
        self.count[node] = k
        self.num_edges = end
        if not self.can_grow(self.branching):
            self.full = True

    def edges(self, node: int) -> range:
        """Edge indices of an expanded node."""
        f = int(self.first[node])
        return range(f, f + max(0, int(self.count[node])))

    def child_by_move(self, node: int, move: int) -> int:
        """Edge of ``node`` playing ``move``, or -1."""
        if self.count[node] <= 0:
            return -1
        f = int(self.first[node])
        hits = np.flatnonzero(self.move[f: f + self.count[node]] == move)
        return f + int(hits[0]) if len(hits) else -1

    def node_visits(self, node: int) -> int:
        """Completed visits of a node (the root keeps its own counter)."""
        pe = self.pedge[node]
        return self.root_n if node == self.root else int(self.n[pe])

    def reroot(self, moves: Sequence[int]) -> bool:
        """Make the node reached by ``moves`` from the root the new root; False if not in the tree.

        The rest of the tree stays allocated until :meth:`reset`; callers reset when
        :meth:`hashfull` says too much of the budget is garbage.
        """
        node = self.root
        for m in moves:
            e = self.child_by_move(node, m)
            if e < 0 or self.child[e] < 0:
                return False
            node = int(self.child[e])
        if node == self.root:
            return True
        pe = int(self.pedge[node])
        if self.count[node] <= 0 or self.status[node] == self.DRAWN:
            # never evaluated, or a draw by repetition that only the old path made final
            return False
        self.root_n = int(self.n[pe])
        # edge stats are from the mover's view: the mover of the last edge is the new root's opponent
        self.root_w = -float(self.w[pe])
        self.root_d = float(self.d[pe])
        self.root_ssum, self.root_sn = -float(self.ssum[node]), int(self.sn[node])
        self.root_msum = float(self.msum[node])
        self.root = node
        self.pedge[node] = -1
        self.parent[node] = -1
        return True
