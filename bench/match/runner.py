"""The match runner: boards in threads, engines started and restarted, games recorded as they end.

:mod:`.ray_runner` plays the same games as Ray tasks on a cluster; both share the plan and the
ledger (:mod:`.ledger`) and the board (:mod:`.table`).
"""

from __future__ import annotations

import queue
import threading
import time

from .config import MatchConfig, check_config
from .errors import EngineFailure, MatchError
from .ledger import GameCallback, Ledger, plan_games
from .player import Player
from .referee import GameSetup
from .result import MatchResult
from .table import Table, new_players

__all__ = ["GameCallback", "run_match"]


def run_match(cfg: MatchConfig, on_game: GameCallback | None = None) -> MatchResult:
    """Play the match; ``on_game`` is called (under a lock) after each finished game."""
    check_config(cfg)
    plan = plan_games(cfg)
    pending: "queue.Queue[GameSetup]" = queue.Queue()
    for t in plan:
        pending.put(t)
    lock = threading.Lock()
    stop = threading.Event()
    starts = [0, 0]
    errors: list[BaseException] = []
    t_start = time.monotonic()

    # fail fast when an engine cannot start at all; these processes then play on board 1
    first_players: list[Player] = []
    for p in new_players(cfg):
        try:
            p.ensure_started()
        except EngineFailure as exc:
            for q in first_players:
                q.quit()
            raise MatchError(str(exc)) from None
        first_players.append(p)
    ledger = Ledger(cfg, plan, on_game)

    def worker(players: list[Player] | None) -> None:
        table = None
        try:
            table = Table(cfg, players)
            while not stop.is_set():
                try:
                    setup = pending.get_nowait()
                except queue.Empty:
                    return
                if ledger.record(table.play(setup)):
                    stop.set()
        except BaseException as exc:  # noqa: BLE001 - reported after the match
            errors.append(exc)
            stop.set()
        finally:
            if table is not None:
                with lock:
                    for i, n in enumerate(table.restarts()):
                        starts[i] += n
                table.close()
            elif players is not None:
                for p in players:
                    p.quit()

    n_workers = max(1, min(cfg.concurrency, cfg.games))
    threads = [threading.Thread(target=worker, args=(first_players if i == 0 else None,), name=f"match-{i}",
                                daemon=True) for i in range(n_workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        exc = errors[0]
        if isinstance(exc, (EngineFailure, OSError)):
            raise MatchError(f"{type(exc).__name__}: {exc}") from exc
        raise exc
    return ledger.close(time.monotonic() - t_start, (starts[0], starts[1]))
