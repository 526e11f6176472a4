"""Match statistics: Elo with a confidence interval, likelihood of superiority, SPRT.

Everything is from the first engine's point of view and uses the logistic Elo model,
``score = 1 / (1 + 10^(-elo/400))``.

* **Elo and its interval** come from the mean score and its standard error, mapped
  through the logistic curve (as cutechess-cli and Ordo's quick estimate do). The error
  is the trinomial one (each game a win/draw/loss) or, when games are paired (one
  opening played with both colours), the pentanomial one: each pair's score
  0, ½, 1, 1½, 2 is one sample, which removes the opening's share of the variance.
* **LOS** (likelihood of superiority) is ``Φ((W − L) / √(W + L))``: the probability that
  the first engine is the stronger, draws carrying no information.
* **SPRT** is the generalised SPRT (GSPRT) that fishtest uses, after M. Van den Bergh:
  the samples are games (trinomial: scores 1, ½, 0) or game pairs (pentanomial: 0, ¼,
  ½, ¾, 1); under each hypothesis ``H0: score = s0``, ``H1: score = s1`` (logistic Elo
  ``elo0``, ``elo1``) the outcome probabilities are the maximum-likelihood multinomial
  with that mean, and ``LLR = Σ nᵢ · ln(p1ᵢ / p0ᵢ)``. Empty outcome cells count as 1e-3
  (fishtest's regularisation), so a run of identical results gives a finite, small LLR
  (``n`` straight wins: ``n · ln(s1 / s0)``). For large samples this equals the normal
  approximation :func:`llr_normal`, ``N · (s1 − s0) · (2x̄ − s0 − s1) / (2σ²)``. The test
  stops when ``LLR ≤ ln(β / (1 − α))`` (accept H0: elo ≤ elo0) or ``LLR ≥ ln((1 − β) / α)``
  (accept H1: elo ≥ elo1).

>>> round(elo_from_score(0.6), 1)
70.4
>>> round(los(55, 45), 4)
0.8413
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

#: z for a two-sided 95 % interval
Z95 = 1.959963984540054


def elo_from_score(score: float) -> float:
    """Logistic Elo difference for a mean score in (0, 1); ±inf at the ends."""
    if score <= 0.0:
        return -math.inf
    if score >= 1.0:
        return math.inf
    return -400.0 * math.log10(1.0 / score - 1.0)


def score_from_elo(elo: float) -> float:
    """Expected score of a player ``elo`` points stronger."""
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def _phi(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def los(wins: int, losses: int) -> float:
    """Likelihood of superiority, ``Φ((W − L) / √(W + L))``; 0.5 without decisive games."""
    if wins + losses == 0:
        return 0.5
    return _phi((wins - losses) / math.sqrt(wins + losses))


def _mean_var(values: Sequence[float], counts: Sequence[int]) -> tuple[int, float, float]:
    n = sum(counts)
    if n == 0:
        return 0, 0.0, 0.0
    mean = sum(v * c for v, c in zip(values, counts)) / n
    var = sum(c * (v - mean) ** 2 for v, c in zip(values, counts)) / n
    return n, mean, var


@dataclass(frozen=True)
class EloEstimate:
    """An Elo difference with its interval; ``lo``/``hi`` bound it at the given confidence."""

    elo: float
    lo: float
    hi: float
    score: float
    samples: int

    @property
    def error(self) -> float:
        """Half the width of the interval (the ``±`` people quote); inf when a bound is."""
        if math.isinf(self.lo) or math.isinf(self.hi):
            return math.inf
        return (self.hi - self.lo) / 2.0


def _estimate(n: int, mean: float, var: float, z: float) -> EloEstimate:
    if n == 0:
        return EloEstimate(0.0, -math.inf, math.inf, 0.5, 0)
    se = math.sqrt(var / n)
    return EloEstimate(elo_from_score(mean), elo_from_score(mean - z * se), elo_from_score(mean + z * se), mean, n)


def elo_trinomial(wins: int, draws: int, losses: int, z: float = Z95) -> EloEstimate:
    """Elo and interval from game counts (each game one sample).

    >>> e = elo_trinomial(60, 0, 40); round(e.elo, 1), round(e.lo), round(e.hi)
    (70.4, 3, 144)
    """
    n, mean, var = _mean_var((1.0, 0.5, 0.0), (wins, draws, losses))
    return _estimate(n, mean, var, z)


#: scores of a game pair, per pair and per game
PAIR_SCORES = (0.0, 0.25, 0.5, 0.75, 1.0)


def elo_pentanomial(pairs: Sequence[int], z: float = Z95) -> EloEstimate:
    """Elo and interval from pair counts ``[LL, LD, DD+WL, WD, WW]`` (each pair one sample)."""
    if len(pairs) != 5:
        raise ValueError("pentanomial counts need 5 entries: LL, LD, DD/WL, WD, WW")
    n, mean, var = _mean_var(PAIR_SCORES, pairs)
    return _estimate(n, mean, var, z)


@dataclass(frozen=True)
class SprtBounds:
    """An SPRT's hypotheses and error rates, and the LLR bounds they give."""

    elo0: float = 0.0
    elo1: float = 5.0
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        if not (0 < self.alpha < 1 and 0 < self.beta < 1):
            raise ValueError("alpha and beta must lie in (0, 1)")
        if self.elo1 <= self.elo0:
            raise ValueError("elo1 must be greater than elo0")

    @property
    def lower(self) -> float:
        """LLR at or below which H0 (elo ≤ elo0) is accepted: ``ln(β / (1 − α))``."""
        return math.log(self.beta / (1.0 - self.alpha))

    @property
    def upper(self) -> float:
        """LLR at or above which H1 (elo ≥ elo1) is accepted: ``ln((1 − β) / α)``."""
        return math.log((1.0 - self.beta) / self.alpha)

    @classmethod
    def parse(cls, text: str) -> "SprtBounds":
        """From ``elo0=0,elo1=5,alpha=0.05,beta=0.05`` (any subset) or ``0,5[,0.05,0.05]``."""
        fields = [f.strip() for f in text.replace(" ", ",").split(",") if f.strip()]
        kw: dict[str, float] = {}
        names = ("elo0", "elo1", "alpha", "beta")
        for i, f in enumerate(fields):
            if "=" in f:
                k, v = f.split("=", 1)
                if k.strip() not in names:
                    raise ValueError(f"unknown SPRT field {k!r}; use {', '.join(names)}")
                kw[k.strip()] = float(v)
            elif i < len(names):
                kw[names[i]] = float(f)
            else:
                raise ValueError(f"too many SPRT fields in {text!r}")
        return cls(**kw)


def llr_normal(values: Sequence[float], counts: Sequence[int], elo0: float, elo1: float) -> float:
    """The normal approximation of the GSPRT LLR, ``N (s1 − s0)(2x̄ − s0 − s1) / (2σ²)``;
    0 while the samples have no variance."""
    n, mean, var = _mean_var(values, counts)
    if n == 0 or var <= 0.0:
        return 0.0
    s0, s1 = score_from_elo(elo0), score_from_elo(elo1)
    return n * (s1 - s0) * (2.0 * mean - s0 - s1) / (2.0 * var)


#: pseudo-count of an outcome never seen (fishtest's regularisation)
EMPTY_CELL = 1e-3


def mle_with_mean(values: Sequence[float], probs: Sequence[float], s: float) -> list[float]:
    """The distribution over ``values`` closest (max likelihood) to ``probs`` whose mean is ``s``.

    It is ``pᵢ = πᵢ / (1 + μ(aᵢ − s))`` with ``μ`` the root of ``Σ πᵢ(aᵢ − s)/(1 + μ(aᵢ − s))``,
    found by bisection. ``s`` must lie strictly between the smallest and largest value
    that has a positive probability.
    """
    d = [a - s for a in values]
    live = [di for di, pi in zip(d, probs) if pi > 0]
    hi_d, lo_d = max(live), min(live)
    if not (lo_d < 0 < hi_d):
        raise ValueError(f"mean {s} is outside the observed values")
    lo, hi = -1.0 / hi_d, 1.0 / -lo_d

    def f(mu: float) -> float:
        return sum(pi * di / (1.0 + mu * di) for di, pi in zip(d, probs) if pi > 0)

    for _ in range(100):
        mid = (lo + hi) / 2.0
        if f(mid) > 0.0:
            lo = mid
        else:
            hi = mid
    mu = (lo + hi) / 2.0
    return [pi / (1.0 + mu * di) if pi > 0 else 0.0 for di, pi in zip(d, probs)]


def llr(values: Sequence[float], counts: Sequence[float], elo0: float, elo1: float) -> float:
    """GSPRT log-likelihood ratio for samples with the given score ``values`` (see the module).

    Samples are games (values 1, ½, 0) or pairs (values 0, ¼, ½, ¾, 1); 0 without samples.
    """
    if sum(counts) <= 0:
        return 0.0
    reg = [c if c > 0 else EMPTY_CELL for c in counts]
    n = sum(reg)
    probs = [c / n for c in reg]
    p0 = mle_with_mean(values, probs, score_from_elo(elo0))
    p1 = mle_with_mean(values, probs, score_from_elo(elo1))
    return sum(c * math.log(b / a) for c, a, b in zip(reg, p0, p1))


def llr_trinomial(wins: int, draws: int, losses: int, elo0: float, elo1: float) -> float:
    """LLR with each game one sample."""
    return llr((1.0, 0.5, 0.0), (wins, draws, losses), elo0, elo1)


def llr_pentanomial(pairs: Sequence[int], elo0: float, elo1: float) -> float:
    """LLR with each game pair one sample (counts ``[LL, LD, DD+WL, WD, WW]``)."""
    return llr(PAIR_SCORES, pairs, elo0, elo1)


def sprt_decision(value: float, bounds: SprtBounds) -> str | None:
    """``"H1"`` or ``"H0"`` once the LLR crosses a bound, else ``None`` (keep playing)."""
    if value >= bounds.upper:
        return "H1"
    if value <= bounds.lower:
        return "H0"
    return None


@dataclass
class Tally:
    """Running results of a match, first engine's view: games, and pairs when games come paired."""

    wins: int = 0
    draws: int = 0
    losses: int = 0
    #: pair counts [LL, LD, DD+WL, WD, WW]
    pairs: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    def add_game(self, score: float) -> None:
        """Record one game's score (1, ½, 0)."""
        if score > 0.5:
            self.wins += 1
        elif score < 0.5:
            self.losses += 1
        else:
            self.draws += 1

    def add_pair(self, first: float, second: float) -> None:
        """Record a finished pair (the two games' scores); the games are added separately."""
        k = int(round(2 * (first + second)))
        p = list(self.pairs)
        p[k] += 1
        self.pairs = tuple(p)  # type: ignore[assignment]

    @property
    def games(self) -> int:
        """Games recorded."""
        return self.wins + self.draws + self.losses

    def elo(self, pentanomial: bool | None = None) -> EloEstimate:
        """Elo with a 95 % interval; pentanomial when pairs exist (or when asked)."""
        use_pairs = sum(self.pairs) > 0 if pentanomial is None else pentanomial
        return elo_pentanomial(self.pairs) if use_pairs else elo_trinomial(self.wins, self.draws, self.losses)

    def llr(self, bounds: SprtBounds, pentanomial: bool | None = None) -> float:
        """SPRT LLR, pentanomial when pairs exist (or when asked)."""
        use_pairs = sum(self.pairs) > 0 if pentanomial is None else pentanomial
        if use_pairs:
            return llr_pentanomial(self.pairs, bounds.elo0, bounds.elo1)
        return llr_trinomial(self.wins, self.draws, self.losses, bounds.elo0, bounds.elo1)

    def los(self) -> float:
        """Likelihood of superiority from the game counts."""
        return los(self.wins, self.losses)
