"""Free handicap placement (GTP ``place_free_handicap``): where the engine puts its own handicap stones.

>>> from tabula.engine.games.go import vertex
>>> [vertex(p, 9) for p in free_handicap(9, 5)]
['C3', 'G7', 'C7', 'G3', 'E5']
"""

from __future__ import annotations

from tabula.engine.games.go import handicap_points


def free_handicap(size: int, count: int) -> list[int]:
    """Points for ``place_free_handicap``: the fixed placement, then spread-out extra points.

    Beyond the fixed placement (or on boards below 7×7) each next stone goes to
    the point off the first line farthest from the stones already placed.
    """
    pts: list[int] = []
    if size >= 7:
        limit = 4 if size % 2 == 0 or size == 7 else 9
        pts = handicap_points(size, min(count, limit)) if count >= 2 else []
    lo = 1 if size >= 5 else 0
    cands = [r * size + c for r in range(lo, size - lo) for c in range(lo, size - lo)]
    if not pts and count > 0:
        mid = (size // 2) * size + size // 2
        pts = [mid]
    while len(pts) < count:
        free = [p for p in cands if p not in pts] or [p for p in range(size * size) if p not in pts]
        if not free:
            break

        def spread(p: int) -> tuple[int, int]:
            r, c = divmod(p, size)
            return (min(abs(r - q // size) + abs(c - q % size) for q in pts), -p)

        pts.append(max(free, key=spread))
    return pts


__all__ = ["free_handicap"]
