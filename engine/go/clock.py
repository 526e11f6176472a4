"""The go clock: time settings and time left per colour, turned into each move's search limits.

GTP's ``time_settings`` (absolute, Canadian byo-yomi), KGS's ``kgs-time_settings``
(none/absolute/canadian/byoyomi) and ``time_left`` set it; :meth:`GoClock.move_limits`
gives the :class:`~engine.controller.Limits` of the next move (the clock, else ``movetime_s``,
and the ``visits`` cap), and :meth:`GoClock.spend` runs it down by the time a move took
until the controller's next ``time_left``.

>>> c = GoClock(); c.time_settings(60, 30, 5)
>>> c.kind, c.move_limits(0, visits=0, movetime_s=0.0, overhead_ms=300).time_ms
('canadian', 60000.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from tabula.engine.controller import Limits
from tabula.engine.games.go import BLACK, WHITE
from tabula.engine.timeman import Clock, allocate

#: seconds per move when neither visits, a move time nor a clock bounds it
UNBOUNDED_MOVE_S = 5.0


@dataclass
class GoClock:
    """Time settings and what is left per colour (seconds; ``stones`` 0 = main time).

    ``kind``: ``none``, ``absolute``, ``canadian`` (``byo_stones`` moves per
    ``byo_s`` period) or ``byoyomi`` (``periods`` periods of ``byo_s``; in byo-yomi
    ``stones`` counts the periods left, as KGS's ``time_left`` does).
    """

    kind: str = "none"
    main_s: float = 0.0
    byo_s: float = 0.0
    byo_stones: int = 0
    periods: int = 0
    left: dict[int, list[float]] = field(default_factory=dict)

    def reset(self, kind: str, main_s: float = 0.0, byo_s: float = 0.0, byo_stones: int = 0,
              periods: int = 0) -> None:
        self.kind, self.main_s, self.byo_s = kind, main_s, byo_s
        self.byo_stones, self.periods = byo_stones, periods
        self.left = {c: [main_s, 0] for c in (BLACK, WHITE)}
        if kind != "none" and main_s <= 0:
            self._enter_byo(BLACK)
            self._enter_byo(WHITE)

    def time_settings(self, main_s: float, byo_s: float, byo_stones: int) -> None:
        """GTP ``time_settings``: absolute (no byo-yomi), Canadian, or none (byo-yomi time without
        stones, or no time at all). :class:`ValueError` for negative values."""
        if main_s < 0 or byo_s < 0 or byo_stones < 0:
            raise ValueError("time settings must not be negative")
        if (byo_s > 0 and byo_stones == 0) or (main_s == 0 and byo_s == 0):
            self.reset("none")  # GTP: byo-yomi time without stones means no time limit
        elif byo_s == 0:
            self.reset("absolute", main_s)
        else:
            self.reset("canadian", main_s, byo_s, byo_stones)

    def kgs_time_settings(self, kind: str, nums: Sequence[float]) -> bool:
        """KGS ``kgs-time_settings``: ``none``; ``absolute`` main; ``canadian`` main byo stones;
        ``byoyomi`` main byo periods. False when ``kind`` and ``nums`` are none of these;
        :class:`ValueError` for a Canadian period without stones."""
        if kind == "none" and not nums:
            self.reset("none")
        elif kind == "absolute" and len(nums) == 1:
            self.reset("absolute", nums[0])
        elif kind == "canadian" and len(nums) == 3:
            if nums[2] <= 0:
                raise ValueError("canadian byo-yomi needs a positive number of stones")
            self.reset("canadian", nums[0], nums[1], int(nums[2]))
        elif kind == "byoyomi" and len(nums) == 3:
            self.reset("byoyomi", nums[0], nums[1], periods=int(nums[2]))
        else:
            return False
        return True

    def _enter_byo(self, colour: int) -> None:
        if self.kind == "canadian":
            self.left[colour] = [self.byo_s, self.byo_stones]
        elif self.kind == "byoyomi":
            self.left[colour] = [self.byo_s, self.periods]
        else:
            self.left[colour] = [0.0, 0]

    def set_left(self, colour: int, seconds: float, stones: int) -> None:
        """``time_left``: what the controller says is left."""
        self.left[colour] = [max(0.0, seconds), max(0, stones)]

    def limits(self, colour: int, overhead_ms: float) -> Limits:
        """Clock fields of :class:`Limits` for ``colour``'s next move."""
        lim = Limits()
        if self.kind == "none":
            return lim
        t, stones = self.left.get(colour, [self.main_s, 0])
        if self.kind == "absolute":
            lim.time_ms = t * 1000.0
        elif self.kind == "canadian":
            if stones > 0:
                lim.time_ms, lim.moves_to_go = t * 1000.0, int(stones)
            else:  # main time; the byo-yomi after it is a safety net, not a plan
                lim.time_ms = t * 1000.0
                if self.byo_stones > 0:
                    lim.inc_ms = 0.5 * self.byo_s * 1000.0 / self.byo_stones
        elif self.kind == "byoyomi":
            if stones > 0:
                lim.time_ms, lim.byoyomi_ms = 0.0, min(t if t > 0 else self.byo_s, self.byo_s) * 1000.0
            else:
                lim.time_ms, lim.byoyomi_ms = t * 1000.0, self.byo_s * 1000.0
        if lim.time_ms is not None and lim.time_ms <= 0 and lim.byoyomi_ms <= 0:
            lim.time_ms = 1.0
        return lim

    def move_limits(self, colour: int, *, visits: int, movetime_s: float, overhead_ms: float,
                    spent_s: float = 0.0, playouts: int = 0) -> Limits:
        """Limits for ``colour``'s move, less ``spent_s`` already used on it.

        The clock bounds the move when there is one, else ``movetime_s`` (when > 0);
        ``visits`` > 0 caps the root's visits (those kept from the last move's tree count),
        ``playouts`` > 0 this move's new playouts; with nothing bounding the move it gets
        :data:`UNBOUNDED_MOVE_S`, so a GUI is never left waiting.
        """
        lim = self.limits(colour, overhead_ms)
        if self.kind == "none":
            if movetime_s > 0:
                lim.movetime_ms = max(1.0, movetime_s * 1000.0 - spent_s * 1000.0)
        elif spent_s > 0:
            if lim.time_ms is not None and lim.time_ms > 0:
                lim.time_ms = max(1.0, lim.time_ms - spent_s * 1000.0)
            elif lim.byoyomi_ms > 0:
                lim.byoyomi_ms = max(1.0, lim.byoyomi_ms - spent_s * 1000.0)
        if visits > 0:
            lim.nodes = visits
        if playouts > 0:
            lim.playouts = playouts
        if visits <= 0 and playouts <= 0 and not lim.timed:  # nothing would end it: never leave the GUI waiting
            lim.movetime_ms = max(1.0, UNBOUNDED_MOVE_S * 1000.0 - spent_s * 1000.0)
        return lim

    def aside_seconds(self, colour: int, *, visits: int, movetime_s: float, overhead_ms: float,
                      playouts: int = 0) -> float:
        """Time the net-free playouts may take on this move: a quarter of its budget, at most 1 s."""
        lim = self.move_limits(colour, visits=visits, movetime_s=movetime_s, overhead_ms=overhead_ms,
                               playouts=playouts)
        if lim.movetime_ms is not None:
            budget = lim.movetime_ms
        elif lim.time_ms is not None or lim.byoyomi_ms > 0:
            clock = Clock(lim.time_ms or 0.0, lim.inc_ms, lim.moves_to_go, lim.byoyomi_ms)
            budget = allocate(clock, overhead_ms=overhead_ms).soft_ms
        else:
            return 1.0
        return max(0.02, min(1.0, budget / 4000.0))

    def spend(self, colour: int, seconds: float) -> None:
        """Run ``colour``'s clock down by ``seconds`` (until the next ``time_left``)."""
        if self.kind == "none":
            return
        t, stones = self.left.get(colour, [self.main_s, 0])
        if stones == 0:
            t -= seconds
            if t > 0 or self.kind == "absolute":
                self.left[colour] = [max(0.0, t), 0]
                return
            over = -t
            self._enter_byo(colour)
            t, stones = self.left[colour]
            seconds = over
        if self.kind == "canadian":
            t -= seconds
            stones -= 1
            if stones <= 0:
                t, stones = self.byo_s, self.byo_stones
            self.left[colour] = [max(0.0, t), stones]
        elif self.kind == "byoyomi":
            lost = int(seconds // self.byo_s) if self.byo_s > 0 else 0
            self.left[colour] = [self.byo_s, max(1, stones - lost)]


__all__ = ["GoClock", "UNBOUNDED_MOVE_S"]
