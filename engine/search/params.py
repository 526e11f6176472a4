"""Search parameters: one frozen object snapshotted at ``go``, declared once as :class:`Param`.

Defaults follow lc0's classic search (src/search/classic/params.cc) where the
facts carry over: cpuct 1.745 growing with ``ln((N + 38739) / 38739)`` times
3.894, FPU reduction 0.330, policy softmax temperature 1.359, smart pruning 1.33, and the
moves-left utility's six MovesLeft* numbers (lc0's defaults; they act only for a net with a
moves-left head).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..games.base import CACHE_HISTORY
from ..options import Options, Param, find_param


#: Search options shown to GUIs (UCI names; USI shows the same names without spaces).
SEARCH_PARAMS: tuple[Param, ...] = (
    Param("MinibatchSize", "spin", 64, "Leaves gathered per network call (virtual-loss batch).", 1, 1024),
    Param("MaxCollisionEvents", "spin", 917, "Descents into a leaf already in flight tolerated per batch.",
          1, 65536),
    Param("MaxCollisionVisits", "spin", 80000, "Collision visits allowed per batch once the tree is large "
          "(from 1 below 28 root visits, growing to this at 145000).", 1, 100_000_000),
    Param("CPuct", "float", 1.745, "PUCT exploration constant (lc0 default).", 0.0, 100.0),
    Param("CPuctBase", "float", 38739.0, "Visits scale of cpuct growth.", 1.0, 1e9),
    Param("CPuctFactor", "float", 3.894, "Multiplier of ln((N+base)/base) added to cpuct.", 0.0, 1000.0),
    Param("FpuReduction", "float", 0.330, "First-play urgency: parent Q minus this × sqrt(visited policy).",
          -100.0, 100.0),
    Param("PolicyTemperature", "float", 1.359, "Softmax temperature of the policy logits.", 0.1, 10.0),
    Param("SmartPruning", "check", True, "Stop early when the best move can no longer change, and "
          "give no more visits to root moves that cannot catch it (lc0's rules, from 200 ms after "
          "the first evaluation)."),
    Param("SmartPruningFactor", "float", 1.33, "Divides the playouts still expected before pruning.",
          0.0, 10.0),
)

#: lc0's moves-left utility: only UCI shows these (only lc0 nets have a moves-left head); a net
#: without the head ignores them, and MovesLeftMaxEffect 0 turns the utility off
LC0_SEARCH_PARAMS: tuple[Param, ...] = (
    Param("MovesLeftMaxEffect", "float", 0.0345, "Largest moves-left utility added to a move's Q "
          "(nets with a moves-left head; 0: off).", 0.0, 1.0),
    Param("MovesLeftThreshold", "float", 0.8, "The moves-left utility acts where the node's |Q| is "
          "above this.", 0.0, 1.0),
    Param("MovesLeftSlope", "float", 0.0027, "Moves-left utility per ply of difference between a "
          "move's and its parent's expected moves left.", 0.0, 1.0),
    Param("MovesLeftConstantFactor", "float", 0.0, "Moves-left utility: constant factor.", -1.0, 1.0),
    Param("MovesLeftScaledFactor", "float", 1.6521, "Moves-left utility: factor of |Q| beyond the "
          "threshold.", -2.0, 2.0),
    Param("MovesLeftQuadraticFactor", "float", -0.6521, "Moves-left utility: factor of Q² beyond the "
          "threshold.", -1.0, 1.0),
    Param("CacheHistoryLength", "spin", CACHE_HISTORY, "Earlier positions in the eval cache's key (0, lc0's default: a "
          "transposition reuses the evaluation made with another history).", 0, 7),
)

#: Search options only go shows: GTP declares them (with its own defaults, via :func:`with_default`).
GO_SEARCH_PARAMS: tuple[Param, ...] = (
    Param("NetScoresPasses", "check", False, "Inside the search, a game ended by two passes whose "
          "Tromp-Taylor result the net disputes (dead stones still on the board) is worth the "
          "net's value of the position before the last pass."),
)
_DECLARED: tuple[Param, ...] = (*SEARCH_PARAMS, *LC0_SEARCH_PARAMS, *GO_SEARCH_PARAMS)


def _option(name: str) -> Any:
    """A :class:`SearchParams` field read from the search option ``name``, defaulting as it is declared."""
    p = find_param(_DECLARED, name)
    return field(default=p.default, metadata={"option": p.name})


@dataclass(frozen=True)
class SearchParams:
    """PUCT and batching knobs; one snapshot per search. A field backed by an option takes
    its default from that option's declaration above."""

    cpuct: float = _option("CPuct")
    cpuct_base: float = _option("CPuctBase")
    cpuct_factor: float = _option("CPuctFactor")
    fpu_reduction: float = _option("FpuReduction")
    policy_temperature: float = _option("PolicyTemperature")
    minibatch: int = _option("MinibatchSize")
    #: lc0's collision limits: events (descents that met a leaf already in flight) and visits
    #: per batch; the visits allowed grow from 1 at ``collision_scaling_start`` root visits to
    #: ``max_collision_visits`` at ``collision_scaling_end`` along a power curve
    max_collision_events: int = _option("MaxCollisionEvents")
    max_collision_visits: int = _option("MaxCollisionVisits")
    collision_scaling_start: int = 28
    collision_scaling_end: int = 145000
    collision_scaling_power: float = 1.25
    #: 0 when ``SmartPruning`` is off
    smart_pruning: float = _option("SmartPruningFactor")
    #: go: a double pass inside the tree whose Tromp–Taylor result the net disputes (it rates the
    #: position before the final pass the other way) is worth the net's value, not ±1
    net_scores_passes: bool = _option("NetScoresPasses")
    #: lc0's moves-left utility (MovesLeft* options); used only with a net that has a moves-left
    #: head, and off when the max effect is 0
    moves_left_max_effect: float = _option("MovesLeftMaxEffect")
    moves_left_threshold: float = _option("MovesLeftThreshold")
    moves_left_slope: float = _option("MovesLeftSlope")
    moves_left_constant_factor: float = _option("MovesLeftConstantFactor")
    moves_left_scaled_factor: float = _option("MovesLeftScaledFactor")
    moves_left_quadratic_factor: float = _option("MovesLeftQuadraticFactor")
    #: chess: earlier positions in the eval cache's key (GameState.set_cache_history)
    cache_history: int = _option("CacheHistoryLength")

    @classmethod
    def from_options(cls, opts: Options) -> "SearchParams":
        """Snapshot the current option values (an option this front end does not declare keeps
        the field's default)."""
        values = {f.name: opts.get(f.metadata["option"], f.default)
                  for f in fields(cls) if "option" in f.metadata}
        if not opts.get("SmartPruning", find_param(_DECLARED, "SmartPruning").default):
            values["smart_pruning"] = 0.0
        return cls(**values)


def with_default(name: str, default: object, why: str) -> Param:
    """The search parameter ``name`` with another default, for one front end (``why`` joins its help).

    A front end passes it among its own parameters; :class:`~engine.options.Options` lets a later
    declaration of a name replace the earlier one.
    """
    return find_param(_DECLARED, name).with_default(default, why)
