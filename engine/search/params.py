"""Search parameters: one frozen object snapshotted at ``go``, declared once as :class:`Param`.

Defaults follow lc0's classic search (src/search/classic/params.cc) where the
facts carry over: cpuct 1.745 growing with ``ln((N + 38739) / 38739)`` times
3.894, FPU reduction 0.330, policy softmax temperature 1.359, smart pruning 1.33.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..options import Options, Param


@dataclass(frozen=True)
class SearchParams:
    """PUCT and batching knobs; one snapshot per search."""

    cpuct: float = 1.745
    cpuct_base: float = 38739.0
    cpuct_factor: float = 3.894
    fpu_reduction: float = 0.330
    policy_temperature: float = 1.359
    minibatch: int = 64
    #: lc0's collision limits: events (descents that met a leaf already in flight) and visits
    #: per batch; the visits allowed grow from 1 at ``collision_scaling_start`` root visits to
    #: ``max_collision_visits`` at ``collision_scaling_end`` along a power curve
    max_collision_events: int = 917
    max_collision_visits: int = 80000
    collision_scaling_start: int = 28
    collision_scaling_end: int = 145000
    collision_scaling_power: float = 1.25
    smart_pruning: float = 1.33
    #: go: a double pass inside the tree whose Tromp–Taylor result the net disputes (it rates the
    #: position before the final pass the other way) is worth the net's value, not ±1
    net_scores_passes: bool = False

    @classmethod
    def from_options(cls, opts: Options) -> "SearchParams":
        """Snapshot the current option values."""
        return cls(
            cpuct=opts["CPuct"], cpuct_base=opts["CPuctBase"], cpuct_factor=opts["CPuctFactor"],
            fpu_reduction=opts["FpuReduction"], policy_temperature=opts["PolicyTemperature"],
            minibatch=opts["MinibatchSize"], max_collision_events=opts["MaxCollisionEvents"],
            max_collision_visits=opts["MaxCollisionVisits"],
            smart_pruning=opts["SmartPruningFactor"] if opts["SmartPruning"] else 0.0,
            net_scores_passes=bool(opts.get("NetScoresPasses", False)),
        )


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
    Param("SmartPruning", "check", True, "Stop early when the best move can no longer change."),
    Param("SmartPruningFactor", "float", 1.33, "Divides the playouts still expected before pruning.",
          0.0, 10.0),
)


def with_default(name: str, default: object, why: str) -> Param:
    """The search parameter ``name`` with another default, for one front end (``why`` joins its help).

    A front end passes it among its own parameters; :class:`~engine.options.Options` lets a later
    declaration of a name replace the earlier one.
    """
    p = next(p for p in SEARCH_PARAMS if p.name == name)
    return replace(p, default=p.parse(str(default)), help=f"{p.help} {why}")
