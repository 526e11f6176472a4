"""The match runner: boards in threads, engines started and restarted, games recorded as they end."""

from __future__ import annotations

import queue
import random
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from ..elo import Tally, sprt_decision
from .chess_game import play_chess_game
from .config import MatchConfig, check_config
from .errors import EngineFailure, MatchError
from .go_game import play_go_game
from .gtp_client import GtpPlayer
from .openings import Opening
from .player import Player
from .records import GameRecord
from .referee import GameSetup
from .result import MatchResult
from .shogi_game import play_shogi_game
from .spec import Limits, limits_for
from .uci_client import UciPlayer
from .usi_client import UsiPlayer
from .writers import csa_text, pgn_text, sfen_line, sgf_text


GameCallback = Callable[[GameRecord, "MatchResult"], None]


def run_match(cfg: MatchConfig, on_game: GameCallback | None = None) -> MatchResult:
    """Play the match; ``on_game`` is called (under a lock) after each finished game."""
    check_config(cfg)
    ops = list(cfg.openings) or [Opening()]
    if cfg.opening_order == "random":
        random.Random(cfg.seed).shuffle(ops)
    tasks = []
    for g in range(cfg.games):
        pair = g // 2
        swap = g % 2 == 1
        tasks.append(GameSetup(g + 1, pair, ops[pair % len(ops)], (1, 0) if swap else (0, 1),
                               cfg.adjudication, cfg.margin, cfg.move_timeout))
    pending: "queue.Queue[GameSetup]" = queue.Queue()
    for t in tasks:
        pending.put(t)
    result = MatchResult(cfg, [], Tally())
    lock = threading.Lock()
    stop = threading.Event()
    pair_scores: dict[int, list[float]] = {}
    starts = [0, 0]
    errors: list[BaseException] = []
    player_cls = {"chess": UciPlayer, "shogi": UsiPlayer, "go": GtpPlayer}[cfg.game]
    stderr = None if cfg.engine_stderr else subprocess.DEVNULL
    limits = [limits_for(s, cfg.limits) for s in cfg.engines]
    t_start = time.monotonic()

    # fail fast when an engine cannot start at all; these processes then play on board 1
    first_players: list[Player] = []
    for i, spec in enumerate(cfg.engines):
        p = player_cls(spec, limits[i], start_timeout=cfg.start_timeout, stderr=stderr)
        try:
            p.ensure_started()
        except EngineFailure as exc:
            for q in first_players:
                q.quit()
            raise MatchError(str(exc)) from None
        first_players.append(p)

    def record(rec: GameRecord) -> None:
        with lock:
            result.games.append(rec)
            s = rec.score_first_engine
            result.tally.add_game(s)
            ps = pair_scores.setdefault(rec.pair, [])
            ps.append(s)
            paired = sum(1 for t in tasks if t.pair == rec.pair)
            if len(ps) == 2 and paired == 2:
                result.tally.add_pair(ps[0], ps[1])
            if cfg.sprt is not None:
                result.sprt_llr = result.tally.llr(cfg.sprt)
                decision = sprt_decision(result.sprt_llr, cfg.sprt)
                if decision and not result.sprt_result:
                    result.sprt_result = decision
                    if len(result.games) < cfg.games:
                        result.stopped_early = True
                    stop.set()
            if cfg.out:
                _append_record(cfg, rec, limits)
            if on_game is not None:
                on_game(rec, result)

    def worker(players: list[Player] | None) -> None:
        if players is None:
            players = [player_cls(s, limits[i], start_timeout=cfg.start_timeout, stderr=stderr)
                       for i, s in enumerate(cfg.engines)]
        scorer = None
        try:
            if cfg.game == "chess":
                play: Callable = play_chess_game
            elif cfg.game == "shogi":
                play = play_shogi_game
            else:
                from ..gtp_referee import SCORER, GtpClient

                cmd = SCORER if cfg.go_scorer is None else cfg.go_scorer
                if cmd:
                    scorer = GtpClient(cmd, timeout=max(cfg.move_timeout, 60.0))

                def play(sp, st):  # noqa: ANN001, ANN202
                    return play_go_game(sp, st, scorer, cfg.go_size, cfg.go_komi, cfg.adjudication.max_moves)
            while not stop.is_set():
                try:
                    setup = pending.get_nowait()
                except queue.Empty:
                    return
                side_players = (players[setup.engine_of_side[0]], players[setup.engine_of_side[1]])
                rec = play(side_players, setup)  # type: ignore[arg-type]
                record(rec)
        except BaseException as exc:  # noqa: BLE001 - reported after the match
            errors.append(exc)
            stop.set()
        finally:
            for i, p in enumerate(players):
                with lock:
                    starts[i] += max(0, p.starts - 1)
                p.quit()
            if scorer is not None:
                scorer.close()

    if cfg.out:
        Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.out).write_text("")
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
    result.games.sort(key=lambda g: g.number)
    result.restarts = (starts[0], starts[1])
    result.seconds = time.monotonic() - t_start
    if cfg.sprt is not None and result.sprt_llr is None:
        result.sprt_llr = result.tally.llr(cfg.sprt)
    return result


def _append_record(cfg: MatchConfig, rec: GameRecord, limits: Sequence[Limits]) -> None:
    path = Path(cfg.out)  # type: ignore[arg-type]
    tc = limits[rec.engine_of_side[0]].tc.describe()
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
