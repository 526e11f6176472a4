"""The driver's side of a match, shared by the local runner and the Ray runner: which games to
play (openings, colours), and the ledger that takes each finished game once (statistics, SPRT,
the record file, the progress callback)."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Callable

from ..elo import Tally, sprt_decision
from .config import MatchConfig
from .openings import Opening
from .records import GameRecord
from .referee import GameSetup
from .result import MatchResult
from .spec import limits_for
from .writers import csa_text, pgn_text, sfen_line, sgf_text

GameCallback = Callable[[GameRecord, MatchResult], None]


def plan_games(cfg: MatchConfig) -> list[GameSetup]:
    """Every game of the match in order: each opening twice, the second time with colours swapped."""
    ops = list(cfg.openings) or [Opening()]
    if cfg.opening_order == "random":
        random.Random(cfg.seed).shuffle(ops)
    out = []
    for g in range(cfg.games):
        pair, swap = g // 2, g % 2 == 1
        out.append(GameSetup(g + 1, pair, ops[pair % len(ops)], (1, 0) if swap else (0, 1),
                             cfg.adjudication, cfg.margin, cfg.move_timeout))
    return out


class Ledger:
    """Takes finished games (thread-safe): tally, pentanomial pairs, SPRT, record file, callback.

    ``record`` returns True once the SPRT has decided (the caller stops scheduling games).
    A game number recorded twice is an error: every game is written exactly once.
    """

    def __init__(self, cfg: MatchConfig, plan: list[GameSetup], on_game: GameCallback | None = None) -> None:
        self.cfg = cfg
        self.result = MatchResult(cfg, [], Tally())
        self.on_game = on_game
        self._pair_size: dict[int, int] = {}
        for s in plan:
            self._pair_size[s.pair] = self._pair_size.get(s.pair, 0) + 1
        self._pair_scores: dict[int, list[float]] = {}
        self._numbers: set[int] = set()
        self._lock = threading.Lock()
        self.decided = False
        if cfg.out:
            Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
            Path(cfg.out).write_text("")

    def record(self, rec: GameRecord) -> bool:
        """Take one finished game; True when the SPRT has decided."""
        cfg, result = self.cfg, self.result
        with self._lock:
            if rec.number in self._numbers:
                raise RuntimeError(f"game {rec.number} was recorded twice")
            self._numbers.add(rec.number)
            result.games.append(rec)
            s = rec.score_first_engine
            result.tally.add_game(s)
            ps = self._pair_scores.setdefault(rec.pair, [])
            ps.append(s)
            if len(ps) == 2 and self._pair_size[rec.pair] == 2:
                result.tally.add_pair(ps[0], ps[1])
            if cfg.sprt is not None:
                result.sprt_llr = result.tally.llr(cfg.sprt)
                decision = sprt_decision(result.sprt_llr, cfg.sprt)
                if decision and not result.sprt_result:
                    result.sprt_result = decision
                    if len(result.games) < cfg.games:
                        result.stopped_early = True
                    self.decided = True
            if cfg.out:
                append_record(cfg, rec)
            if self.on_game is not None:
                self.on_game(rec, result)
            return self.decided

    def close(self, seconds: float, restarts: tuple[int, int], retries: int = 0) -> MatchResult:
        """The match's result, games in order."""
        result = self.result
        result.games.sort(key=lambda g: g.number)
        result.restarts = restarts
        result.retries = retries
        result.seconds = seconds
        if self.cfg.sprt is not None and result.sprt_llr is None:
            result.sprt_llr = result.tally.llr(self.cfg.sprt)
        return result


def append_record(cfg: MatchConfig, rec: GameRecord) -> None:
    """Append one game to ``cfg.out`` as PGN (chess), SGF (go), CSA or SFEN lines (shogi)."""
    path = Path(cfg.out)  # type: ignore[arg-type]
    spec = cfg.engines[rec.engine_of_side[0]]
    tc = limits_for(spec, cfg.limits).tc.describe()
    if cfg.game == "chess":
        text = pgn_text(rec, event=cfg.event, time_control=tc)
    elif cfg.game == "go":
        text = sgf_text(rec.native, cfg.go_size, cfg.go_komi) if rec.native is not None else ""  # type: ignore[arg-type]
    elif path.suffix.lower() == ".csa":
        text = ("/\n" if path.stat().st_size else "") + csa_text(rec, event=cfg.event, time_control=tc)
    else:
        text = sfen_line(rec)
    with path.open("a") as f:
        f.write(text)
