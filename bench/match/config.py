"""A match's configuration: what ``tabula match`` builds from its options, and the checks it must pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..elo import SprtBounds
from .errors import MatchError
from .gtp_client import go_clock
from .openings import Opening, load_openings
from .referee import Adjudication
from .spec import EngineSpec, Limits, TimeControl

GAMES = ("chess", "shogi", "go")
PROTOCOL_OF_GAME = {"chess": "uci", "shogi": "usi", "go": "gtp"}


@dataclass
class MatchConfig:
    """Everything a match needs; see ``tabula match --help`` for the meaning of each."""

    game: str
    engines: tuple[EngineSpec, EngineSpec]
    games: int = 2
    openings: list[Opening] = field(default_factory=lambda: [Opening()])
    opening_order: str = "sequential"
    seed: int | None = None
    limits: Limits = Limits()
    concurrency: int = 1
    adjudication: Adjudication = Adjudication()
    sprt: SprtBounds | None = None
    out: str | None = None
    margin: float = 0.1
    move_timeout: float = 60.0
    start_timeout: float = 30.0
    event: str = "Tabula match"
    engine_stderr: bool = False
    go_size: int = 9
    go_komi: float = 7.0
    go_scorer: str | None = None     #: GTP scorer command; None: GNU Go; "": Tromp-Taylor only


def check_config(cfg: MatchConfig) -> None:
    """Raise :class:`MatchError` unless the game, the engines' protocols and the limits fit together."""
    if cfg.game not in GAMES:
        raise MatchError(f"match supports {', '.join(GAMES)} (go over GTP is not wired in yet), not {cfg.game!r}")
    for spec in cfg.engines:
        want = PROTOCOL_OF_GAME[cfg.game]
        if spec.proto and spec.proto != want:
            raise MatchError(f"{spec.name}: {cfg.game} is played over {want}, not {spec.proto}")
    if cfg.games < 1:
        raise MatchError("a match needs at least one game")
    if cfg.game == "go":
        if cfg.limits.nodes is not None or cfg.limits.movetime is not None or cfg.limits.depth is not None or \
                any(s.nodes is not None or s.movetime is not None or s.depth is not None for s in cfg.engines):
            raise MatchError("GTP has no node/time-per-move/depth limits: set them on the engine's command "
                             "line (e.g. tabula gtp --visits N) or give a clock with --tc/--byoyomi")
        go_clock(cfg.limits.tc)


def match_config(game: str, engines: Sequence[str], *, games: int = 2, openings: str | None = None,
                 opening_plies: int | None = None, opening_order: str = "sequential", seed: int | None = None,
                 tc: str | None = None, byoyomi: float = 0.0, nodes: int | None = None,
                 movetime: float | None = None, depth: int | None = None, concurrency: int = 1,
                 resign_moves: int = 0, resign_score: int = 1000, draw_moves: int = 0, draw_score: int = 10,
                 draw_movenumber: int = 40, max_moves: int | None = None, sprt: str | None = None,
                 out: str | None = None, size: int = 9, komi: float = 7.0, scorer: str | None = None,
                 margin: float = 0.1, move_timeout: float = 60.0, start_timeout: float = 30.0,
                 event: str = "Tabula match", engine_stderr: bool = False) -> MatchConfig:
    """The match ``tabula match`` asks for, from its options (engine specs as text, ``tc`` as
    ``BASE+INC``, ``sprt`` as ``elo0=…,elo1=…``); raises :class:`MatchError` or ``ValueError``."""
    specs = [EngineSpec.parse(e) for e in engines]
    if len(specs) != 2:
        raise MatchError(f"give exactly two --engine specs, not {len(specs)}")
    limits = Limits(TimeControl.parse(tc, byoyomi), nodes, movetime, depth)
    if not any(s.tc or s.nodes or s.movetime or s.depth for s in specs) and limits == Limits() \
            and game != "go":
        raise MatchError("give a limit: --tc, --byoyomi, --nodes, --st or --depth (or per engine)")
    ops = load_openings(openings, game, opening_plies, size) if openings else None
    if max_moves is None:
        max_moves = {"shogi": 512, "go": 0}.get(game, 0)
    cfg = MatchConfig(
        game=game, engines=(specs[0], specs[1]), games=games, opening_order=opening_order, seed=seed,
        limits=limits, concurrency=concurrency,
        adjudication=Adjudication(resign_moves, resign_score, draw_movenumber, draw_moves, draw_score,
                                  max_moves),
        sprt=SprtBounds.parse(sprt) if sprt else None, out=out, margin=margin, move_timeout=move_timeout,
        start_timeout=start_timeout, event=event, engine_stderr=engine_stderr, go_size=size, go_komi=komi,
        go_scorer=scorer)
    if ops:
        cfg.openings = ops
    return cfg
