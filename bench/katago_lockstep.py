"""The compiled KataGo features in lockstep with the reference (engine/codecs/katago_features.py).

Over seeded random games it encodes positions as a search does — a root, then children and
grandchildren played from it — with the reference (:class:`KataFeatures`, its ladder reuse and
caches on) and with the compiled encoder (:func:`engine.native.kata_encoder.fill` on a
:class:`NativeGoState`, a fresh context per root), and checks that all 22 planes and 19
globals are equal, element for element. The games chase ataris on purpose (a move next to a
short chain, an extension out of atari), so ladders run and break; ``--budget`` shrinks
KataGo's ladder node budget in both (answers then depend on move order and chain lists).

    .venv/bin/python -m tabula.bench.katago_lockstep --games 30 --sizes 9,13,19
    .venv/bin/python -m tabula.bench.katago_lockstep --games 10 --sizes 13 --budget 3

Last runs (2 shared, loaded cores): ``--games 300 --sizes 9,13,19 --seed 17``: identical over
83,167 positions (12,489 roots; 45,095 with a laddered chain, 17,272 with a working atari,
47,503 with ladders on the earlier boards); ``--games 60 --seed 18 --budget 3``: identical over
16,578 positions; ``--games 60 --seed 19 --rules tromp-taylor`` (multi-stone suicide):
identical over 17,292 positions.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass

import numpy as np

from tabula.bench import lockstep
from tabula.engine.codecs import katago_board
from tabula.engine.codecs.katago_features import GLOBAL_FEATURES, SPATIAL_FEATURES, KataFeatures, KataRules
from tabula.engine.games.go import GoState
from tabula.engine.native import go_rules as gr
from tabula.engine.native import kata_encoder as ke
from tabula.engine.native.go_state import NativeGoState


@dataclass
class Tally(lockstep.GameTally):
    """What the games covered."""

    roots: int = 0
    positions: int = 0
    laddered: int = 0      #: positions with a laddered chain (plane 14)
    working: int = 0       #: positions with a working atari (plane 17)
    prev_ladders: int = 0  #: positions whose planes 15/16 show a ladder

    def __str__(self) -> str:
        return (f"{super().__str__()}, {self.roots} roots, {self.positions} positions, "
                f"{self.laddered} with a laddered chain, {self.working} with a working atari, "
                f"{self.prev_ladders} with ladders on the earlier boards")


class Pair:
    """The reference and the compiled encoder on one game; ``root()`` starts a new search root."""

    def __init__(self, ref: GoState, rules: KataRules) -> None:
        n = ref.size
        self.ref = ref
        self.feats = KataFeatures(n, rules)
        self.nat: NativeGoState | None = None
        self.ctx: ke.KataCtx | None = None
        self.a = (np.zeros((SPATIAL_FEATURES, n, n), np.float32), np.zeros(GLOBAL_FEATURES, np.float32))
        self.b = (np.zeros((SPATIAL_FEATURES, n, n), np.float32), np.zeros(GLOBAL_FEATURES, np.float32))
        self.moves = np.zeros(gr.MAX_POINTS + 1, np.int32)

    def root(self) -> None:
        self.nat = NativeGoState.from_state(self.ref, room=64)
        self.ctx = ke.ctx_for(self.ref, self.feats, self.nat.g.hhash.size)
        ke.prepare_root(self.ctx, self.nat.g)

    def push(self, move: int) -> None:
        self.ref.push(move)
        self.nat.push(move)  # type: ignore[union-attr]

    def pop(self) -> None:
        self.ref.pop()
        self.nat.pop()  # type: ignore[union-attr]

    def check(self, where: str, tally: Tally) -> None:
        """Encode the current position both ways; AssertionError where they differ."""
        self.feats.fill(self.ref, *self.a)
        nl = gr.legal_moves(self.nat.g, self.moves)  # type: ignore[union-attr]
        ke.fill(self.ctx, self.nat.g, self.moves, nl, *self.b)  # type: ignore[union-attr,arg-type]
        (sa, ga), (sb, gb) = self.a, self.b
        for c in range(SPATIAL_FEATURES):
            if not np.array_equal(sa[c], sb[c]):
                raise AssertionError(f"{where}: plane {c} differs\nreference\n{sa[c].astype(int)}\n"
                                     f"compiled\n{sb[c].astype(int)}\n{self.ref}")
        if not np.array_equal(ga, gb):
            raise AssertionError(f"{where}: globals differ\n{ga}\n{gb}")
        tally.positions += 1
        tally.laddered += bool(sa[14].any())
        tally.working += bool(sa[17].any())
        tally.prev_ladders += bool(sa[15].any() or sa[16].any())


def chase_move(s: GoState, rng: random.Random) -> int:
    """A random legal move, more often than not next to a chain with one or two liberties (an
    atari, or an escape): the moves that start and run ladders."""
    legal = s.legal_moves()[:-1]
    if not legal:
        return s.PASS
    board = s.board_list()
    me = s.turn + 1
    if rng.random() < 0.7:
        hot = set()
        for p in range(s.nn):
            if board[p] and s.liberties(p) <= 2:
                hot.update(q for q in _libs(s, p, board))
        near = [m for m in legal if m in hot]
        if near:
            return rng.choice(near)
    quiet = [m for m in legal if not _own_eye(s, m, board, me)]
    return rng.choice(quiet) if quiet else s.PASS


def _libs(s: GoState, p: int, board: list[int]) -> list[int]:
    n = s.size
    out = []
    for st in s.group(p):
        r, c = divmod(st, n)
        for q, ok in ((st - n, r > 0), (st + n, r < n - 1), (st - 1, c > 0), (st + 1, c < n - 1)):
            if ok and not board[q]:
                out.append(q)
    return out


def _own_eye(s: GoState, m: int, board: list[int], me: int) -> bool:
    n = s.size
    r, c = divmod(m, n)
    nb = [q for q, ok in ((m - n, r > 0), (m + n, r < n - 1), (m - 1, c > 0), (m + 1, c < n - 1)) if ok]
    return all(board[q] == me for q in nb)


def play_game(size: int, rng: random.Random, tally: Tally, *, every: int = 5, children: int = 3,
              rules: KataRules | None = None) -> None:
    """One random game; every ``every`` plies a root with ``children`` children (and sometimes
    grandchildren), each encoded both ways (the game is counted by :func:`run`)."""
    komi = rng.choice((0.0, 5.5, 6.5, 7.0, 7.5, -3.0))
    pair = Pair(GoState(size, komi), rules or KataRules())
    s = pair.ref
    limit = 3 * size * size
    for ply in range(limit):
        if s.terminal() is not None:
            break
        if ply % every == 0:
            pair.root()
            tally.roots += 1
            where = f"{size}x{size} game {tally.games} ply {ply}"
            pair.check(where + " root", tally)
            for m in rng.sample(s.legal_moves(), min(children, len(s.legal_moves()))):
                pair.push(m)
                depth = 1
                pair.check(f"{where} child {s.move_to_text(m)}", tally)
                while depth < 4 and rng.random() < 0.5 and s.terminal() is None:
                    pair.push(chase_move(s, rng))
                    depth += 1
                    pair.check(f"{where} depth {depth}", tally)
                for _ in range(depth):
                    pair.pop()
        move = s.PASS if rng.random() < (0.02 if ply < size * size else 0.3) else chase_move(s, rng)
        s.push(move)


def run(games: int, sizes: list[int], seed: int, *, budget: int | None = None, every: int = 5,
        rules: KataRules | None = None) -> Tally:
    """``games`` games spread over ``sizes``, seeded; ``budget``: the ladder node budget of both;
    ``rules``: KataGo's rules the features are for (default: Tabula's)."""
    saved = katago_board.LADDER_BUDGET
    if budget is not None:
        katago_board.LADDER_BUDGET = budget
    try:
        return lockstep.play_games(games, sizes, seed, Tally(),
                                   lambda size, rng, tally: play_game(size, rng, tally, every=every, rules=rules))
    finally:
        katago_board.LADDER_BUDGET = saved


def main(argv: list[str] | None = None) -> int:
    ap = lockstep.parser(__doc__, games=30, seed=7)
    ap.add_argument("--every", type=int, default=5, help="a search root every N plies")
    ap.add_argument("--budget", type=int, default=None, help="ladder node budget (KataGo: 25000)")
    ap.add_argument("--rules", default=None, help="KataGo rules preset (default: Tabula's; positional ko only)")
    a = ap.parse_args(argv)
    rules = KataRules.from_name(a.rules) if a.rules else None
    return lockstep.report(lambda: run(a.games, lockstep.board_sizes(a.sizes), a.seed, budget=a.budget,
                                       every=a.every, rules=rules))


if __name__ == "__main__":
    sys.exit(main())
