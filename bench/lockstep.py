"""The driver the lockstep benches share (go_lockstep, katago_lockstep): seeded random games
spread evenly over board sizes, counted per size, and the command line around them
(``--games``, ``--sizes``, ``--seed``; ``identical: <tally> in N s`` at the end).

A bench brings a tally (a :class:`GameTally` with its own counts) and a function that plays
one game in lockstep, raising AssertionError at the first difference.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar


@dataclass
class GameTally:
    """The games played, in all and by board size; a bench's tally adds what they covered."""

    games: int = 0
    by_size: dict[int, int] = field(default_factory=dict)

    def __str__(self) -> str:
        sizes = ", ".join(f"{n}x{n}: {k}" for n, k in sorted(self.by_size.items()))
        return f"{self.games} games ({sizes})"


T = TypeVar("T", bound=GameTally)


def play_games(games: int, sizes: list[int], seed: int, tally: T,
               play: Callable[[int, random.Random, T], None]) -> T:
    """``games`` games of ``play(size, rng, tally)``, the sizes in turn, on one generator seeded
    with ``seed``; each game that ends is counted in ``tally``."""
    rng = random.Random(seed)
    for i in range(games):
        size = sizes[i % len(sizes)]
        play(size, rng, tally)
        tally.games += 1
        tally.by_size[size] = tally.by_size.get(size, 0) + 1
    return tally


def parser(doc: str, *, games: int, seed: int, sizes: str = "9,13,19") -> argparse.ArgumentParser:
    """A bench's command line (its docstring's first line as the description) with the shared
    options; the bench adds its own."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--games", type=int, default=games)
    ap.add_argument("--sizes", default=sizes)
    ap.add_argument("--seed", type=int, default=seed)
    return ap


def board_sizes(text: str) -> list[int]:
    """``--sizes``' value ("9,13,19") as a list."""
    return [int(s) for s in text.split(",")]


def report(run: Callable[[], GameTally]) -> int:
    """Run the games and print what they covered (reached only when all were identical) and
    how long they took; the exit status."""
    t0 = time.time()
    tally = run()
    print(f"identical: {tally} in {time.time() - t0:.0f} s")
    return 0
