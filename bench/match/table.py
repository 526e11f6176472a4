"""One board of a match: its two engines (started on demand, restarted after a failure) and its
referee. The local runner keeps one per thread for many games; a Ray task builds one per game."""

from __future__ import annotations

import subprocess
from typing import Callable

from .chess_game import play_chess_game
from .config import MatchConfig
from .go_game import play_go_game
from .gtp_client import GtpPlayer
from .player import Player
from .records import GameRecord
from .referee import GameSetup
from .shogi_game import play_shogi_game
from .spec import limits_for
from .uci_client import UciPlayer
from .usi_client import UsiPlayer

PLAYER_OF_GAME: dict[str, type[Player]] = {"chess": UciPlayer, "shogi": UsiPlayer, "go": GtpPlayer}


def new_players(cfg: MatchConfig) -> list[Player]:
    """The two engines of ``cfg`` as players, not started yet."""
    cls = PLAYER_OF_GAME[cfg.game]
    stderr = None if cfg.engine_stderr else subprocess.DEVNULL
    return [cls(s, limits_for(s, cfg.limits), start_timeout=cfg.start_timeout, stderr=stderr)  # type: ignore[call-arg]
            for s in cfg.engines]


class Table:
    """A board: ``play(setup)`` plays one game with this table's engines; ``close()`` quits them.

    Blocks for the whole game. ``players`` may hand in engines that are already started.
    """

    def __init__(self, cfg: MatchConfig, players: list[Player] | None = None) -> None:
        self.cfg = cfg
        self.players = players if players is not None else new_players(cfg)
        self._scorer = None
        self._play: Callable[..., GameRecord] = self._referee()

    def _referee(self) -> Callable[..., GameRecord]:
        cfg = self.cfg
        if cfg.game == "chess":
            return play_chess_game
        if cfg.game == "shogi":
            return play_shogi_game
        from ..gtp_referee import SCORER, GtpClient

        cmd = SCORER if cfg.go_scorer is None else cfg.go_scorer
        if cmd:
            self._scorer = GtpClient(cmd, timeout=max(cfg.move_timeout, 60.0))

        def play(sides, setup):  # noqa: ANN001, ANN202
            return play_go_game(sides, setup, self._scorer, cfg.go_size, cfg.go_komi, cfg.adjudication.max_moves)
        return play

    def play(self, setup: GameSetup) -> GameRecord:
        """Play one game: ``setup.engine_of_side`` says which engine takes which colour."""
        sides = (self.players[setup.engine_of_side[0]], self.players[setup.engine_of_side[1]])
        return self._play(sides, setup)

    def restarts(self) -> tuple[int, int]:
        """Engine starts beyond the first, per engine."""
        return (max(0, self.players[0].starts - 1), max(0, self.players[1].starts - 1))

    def close(self) -> None:
        """Quit both engines and the scorer."""
        for p in self.players:
            p.quit()
        if self._scorer is not None:
            self._scorer.close()
            self._scorer = None
