"""A match's results: the games, Elo / LOS / SPRT, and the summary as text and JSON."""

from __future__ import annotations

from dataclasses import dataclass

from ..elo import EloEstimate, Tally
from .config import MatchConfig
from .records import GameRecord


@dataclass
class MatchResult:
    """The match's games and statistics (first engine's view)."""

    config: MatchConfig
    games: list[GameRecord]
    tally: Tally
    sprt_llr: float | None = None
    sprt_result: str | None = None
    stopped_early: bool = False
    restarts: tuple[int, int] = (0, 0)
    retries: int = 0          #: games played again because their worker was lost (Ray runner)
    seconds: float = 0.0

    @property
    def elo(self) -> EloEstimate:
        """Elo with a 95 % interval (pentanomial when pairs were completed)."""
        return self.tally.elo()

    def failures(self) -> dict[str, int]:
        """How many games ended by each kind of failure or adjudication."""
        out: dict[str, int] = {}
        for g in self.games:
            out[g.termination] = out.get(g.termination, 0) + 1
        return out

    def summary(self) -> str:
        """cutechess-cli style text."""
        a, b = (e.name for e in self.config.engines)
        t = self.tally
        n = t.games
        score = (t.wins + t.draws / 2) / n if n else 0.0
        e = self.elo
        kind = "pentanomial" if sum(t.pairs) else "trinomial"
        lines = [f"Score of {a} vs {b}: {t.wins} - {t.losses} - {t.draws}  [{score:.3f}] {n}"]
        if n:
            lines.append(f"Elo difference: {_fmt_elo(e.elo)} +/- {_fmt_elo(e.error)} (95%, {kind}), "
                         f"LOS: {100 * t.los():.1f} %, DrawRatio: {100 * t.draws / n:.1f} %")
        if sum(t.pairs):
            lines.append(f"Ptnml(0-2): [{', '.join(str(x) for x in t.pairs)}]")
        if self.config.sprt is not None and self.sprt_llr is not None:
            s = self.config.sprt
            lines.append(f"SPRT: llr {self.sprt_llr:.3f}, lbound {s.lower:.3f}, ubound {s.upper:.3f} "
                         f"(elo0 {s.elo0:g}, elo1 {s.elo1:g}, alpha {s.alpha:g}, beta {s.beta:g})"
                         + (f" - {self.sprt_result} accepted" if self.sprt_result else ""))
        ends = ", ".join(f"{k} {v}" for k, v in sorted(self.failures().items()))
        lines.append(f"Terminations: {ends}")
        if any(self.restarts):
            lines.append(f"Engine (re)starts beyond the first: {a} {self.restarts[0]}, {b} {self.restarts[1]}")
        if self.retries:
            lines.append(f"Games played again after their worker was lost: {self.retries}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        """Plain data for ``--json``."""
        t, e = self.tally, self.elo
        return {
            "game": self.config.game,
            "engines": [s.name for s in self.config.engines],
            "games": t.games, "wins": t.wins, "losses": t.losses, "draws": t.draws,
            "pentanomial": list(t.pairs),
            "elo": _json_num(e.elo), "elo_lo": _json_num(e.lo), "elo_hi": _json_num(e.hi),
            "los": t.los(),
            "sprt": None if self.config.sprt is None else {
                "elo0": self.config.sprt.elo0, "elo1": self.config.sprt.elo1, "alpha": self.config.sprt.alpha,
                "beta": self.config.sprt.beta, "llr": self.sprt_llr, "lower": self.config.sprt.lower,
                "upper": self.config.sprt.upper, "result": self.sprt_result},
            "stopped_early": self.stopped_early,
            "terminations": self.failures(),
            "restarts": list(self.restarts),
            "retries": self.retries,
            "seconds": round(self.seconds, 2),
            "results": [{"game": g.number, "pair": g.pair, **side_names(g, self.config.game),
                         "result": g.result, "reason": g.reason, "termination": g.termination,
                         "plies": len(g.moves)} for g in self.games],
        }


def side_names(rec: GameRecord, game: str) -> dict[str, str]:
    """Who played which colour: ``{"white": …, "black": …}`` (chess, go) or ``{"sente": …, "gote": …}``."""
    if game == "chess":
        return {"white": rec.players[0], "black": rec.players[1]}
    if game == "go":
        return {"black": rec.players[0], "white": rec.players[1]}
    return {"sente": rec.players[rec.start_side], "gote": rec.players[1 - rec.start_side]}


def _fmt_elo(x: float) -> str:
    if x != x:  # nan
        return "nan"
    return "inf" if x == float("inf") else ("-inf" if x == float("-inf") else f"{x + 0.0:.1f}".replace("-0.0", "0.0"))


def _json_num(x: float) -> float | None:
    return None if x in (float("inf"), float("-inf")) else round(x, 2)
