"""The compiled go rules in lockstep with the reference (engine/games/go.py) over random games.

At every ply of seeded random games (passes included, more of them as a game grows long) it
checks that :class:`~engine.native.go_state.NativeGoState` and :class:`~engine.games.go.GoState`
agree on: the legal moves (same order), why each point is illegal for either colour (occupied,
suicide, superko), the stones' hash and board (so every capture), the pass count, the terminal
verdict and the Tromp–Taylor score, and the area; now and then it takes a move back and plays
it again (the native pop rebuilds the groups). Small boards are where superko happens.

    .venv/bin/python -m tabula.bench.go_lockstep --games 10000 --sizes 9,13,19

Last run (2 shared, loaded cores; ``--games 10000 --sizes 9,13,19 --seed 17 --full-every 10``):
identical over 10,000 games (3,334 9x9, 3,333 13x13, 3,333 19x19), 2,958,694 plies, 282,277
capturing moves, 15,210 superko and 11,252,858 suicide refusals, every game ended by two passes
and scored alike, in 1,631 s.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass

import numpy as np

from tabula.bench import lockstep
from tabula.engine.games.go import GoState
from tabula.engine.native import go_rules as gr
from tabula.engine.native.go_state import NativeGoState

_REASON = {None: gr.LEGAL, "point occupied": gr.OCCUPIED, "suicide": gr.SUICIDE, "superko": gr.SUPERKO}


@dataclass
class Tally(lockstep.GameTally):
    """What the games covered."""

    plies: int = 0
    captures: int = 0
    superko_refusals: int = 0
    suicide_refusals: int = 0
    finished: int = 0

    def __str__(self) -> str:
        return (f"{super().__str__()}, {self.plies} plies, {self.captures} capturing moves, "
                f"{self.superko_refusals} superko refusals, {self.suicide_refusals} suicide refusals, "
                f"{self.finished} ended by two passes")


def _reasons_ref(ref: GoState, colour: int) -> np.ndarray:
    out = np.zeros(ref.nn, np.int8)
    for p in range(ref.nn):
        out[p] = _REASON[ref._why(p, colour)]  # noqa: SLF001 - the reference's own reasons
    return out


def _compare(ref: GoState, nat: NativeGoState, where: str, full: bool, buf: np.ndarray, tally: Tally) -> None:
    def check(ok: bool, what: str) -> None:
        if not ok:
            raise AssertionError(f"{where}: {what} differ\n{ref}")

    check(list(ref.legal_moves()) == list(nat.legal_moves()), "legal moves")
    check(ref.position_hash == nat.position_hash, "hashes")
    check(ref.board_list() == nat.board_list(), "boards")
    check(ref.turn == nat.turn and ref.ply == nat.ply, "turn/ply")
    check(ref.consecutive_passes == nat.consecutive_passes, "passes")
    check(ref.terminal() == nat.terminal() and ref.final_score() == nat.final_score(), "verdicts")
    banned = ref._compute_banned()  # noqa: SLF001
    tally.superko_refusals += sum(1 for why in banned.values() if why == "superko")
    tally.suicide_refusals += sum(1 for why in banned.values() if why == "suicide")
    if full:
        for colour in (1, 2):
            gr.reasons(nat.g, colour, buf)
            check(np.array_equal(_reasons_ref(ref, colour), buf[:ref.nn]), f"reasons for colour {colour}")
        check(ref.area() == nat.area() and ref.score() == nat.score(), "area")


def play_game(size: int, rng: random.Random, tally: Tally, *, full_every: int = 1) -> None:
    """One random game in lockstep; AssertionError at the first difference (the game is
    counted by :func:`run`)."""
    komi = rng.choice((0.0, 0.5, 5.5, 6.5, 7.0, 7.5, -3.0))
    ref = GoState(size, komi)
    nat = NativeGoState.from_state(ref, room=8)
    buf = np.zeros(gr.MAX_POINTS, np.int8)
    limit = 4 * size * size + 40
    quiet = 2 * size * size  # plies with few passes: long games fill the board and capture
    for ply in range(limit):
        _compare(ref, nat, f"{size}x{size} game {tally.games} ply {ply}", ply % full_every == 0, buf, tally)
        if ref.terminal() is not None:
            tally.finished += 1
            break
        moves = ref.legal_moves()
        pass_p = 0.01 if ply < quiet else 0.25
        move = ref.PASS if rng.random() < pass_p else rng.choice(moves)
        before = ref.board_list()
        ref.push(move)
        nat.push(move)
        if move != ref.PASS and sum(1 for a, b in zip(before, ref.board_list()) if a and not b):
            tally.captures += 1
        if rng.random() < 0.05:  # take back and replay
            assert nat.pop() == ref.pop() == move
            _compare(ref, nat, f"{size}x{size} game {tally.games} ply {ply} (popped)", False, buf, tally)
            ref.push(move)
            nat.push(move)
        tally.plies += 1
    else:
        _compare(ref, nat, f"{size}x{size} game {tally.games} end", True, buf, tally)


def run(games: int, sizes: list[int], seed: int, full_every: int = 1) -> Tally:
    """``games`` games spread evenly over ``sizes``, seeded."""
    return lockstep.play_games(games, sizes, seed, Tally(),
                               lambda size, rng, tally: play_game(size, rng, tally, full_every=full_every))


def main(argv: list[str] | None = None) -> int:
    ap = lockstep.parser(__doc__, games=10_000, seed=17)
    ap.add_argument("--full-every", type=int, default=1,
                    help="check every point's reasons and the area every N plies (1: every ply)")
    a = ap.parse_args(argv)
    return lockstep.report(lambda: run(a.games, lockstep.board_sizes(a.sizes), a.seed, a.full_every))


if __name__ == "__main__":
    sys.exit(main())
