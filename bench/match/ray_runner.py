"""Matches on a Ray cluster: every game a Ray task that starts both engines on its node.

The driver (this process) plans the games as the local runner does (openings, colours), keeps
``cpu_slots`` games in flight, and hands each finished game to the same :class:`.ledger.Ledger`
(statistics, SPRT, the record file written once per game, the progress callback). When the SPRT
decides, nothing more is scheduled and the games in flight are cancelled. A game whose worker is
lost (process killed, node gone) is played again from the start, on whichever node Ray picks,
and counted in :attr:`MatchResult.retries`. A failure inside the game's own code (an engine that
is not on that node, one that does not start) ends the match with the node's name in the message.

A worker process keeps its board (:class:`.table.Table`, both engines started) for the next game
of the same match, as a local board thread does, so a short game does not pay two engine starts;
the engines end with the worker when the match's driver disconnects (their stdin closes). Tasks are submitted with
``max_retries=0``: the driver resubmits lost games itself, so that it can count them and cap them
(:data:`MAX_TRIES`).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

from ..cluster import connected, cpu_slots, node_label
from .config import MatchConfig, check_config
from .errors import EngineFailure, MatchError
from .ledger import GameCallback, Ledger, plan_games
from .records import GameRecord
from .referee import GameSetup
from .result import MatchResult
from .spec import EngineSpec
from .table import Table

#: How often one game may be started before the match gives up on it (its worker lost each time).
MAX_TRIES = 4


def missing_paths(spec: EngineSpec) -> list[str]:
    """The engine's files this machine lacks: its program, its working folder, absolute-path arguments."""
    out = []
    if spec.cwd and not Path(spec.cwd).is_dir():
        out.append(spec.cwd)
    exe = spec.cmd[0]
    if os.sep in exe:
        p = Path(exe) if os.path.isabs(exe) else Path(spec.cwd or ".") / exe
        if not (p.is_file() and os.access(p, os.X_OK)):
            out.append(str(p))
    elif shutil.which(exe) is None:
        out.append(exe)
    for arg in spec.cmd[1:]:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if os.path.isabs(value) and not os.path.exists(value):
            out.append(value)
    return out


#: this worker process's board: (match id, table), kept between the games of one match
_warm: tuple[str, Table] | None = None


def _start_table(cfg: MatchConfig) -> Table:
    """Both engines started on this node, or :class:`MatchError` naming the node."""
    for spec in cfg.engines:
        lost = missing_paths(spec)
        if lost:
            raise MatchError(f"node {node_label()}: engine {spec.name}: {', '.join(lost)} not found")
    table = Table(cfg)
    for p in table.players:
        try:
            p.ensure_started()
        except EngineFailure as exc:
            table.close()
            raise MatchError(f"node {node_label()}: {exc}") from None
    return table


def play_one_game(cfg: MatchConfig, setup: GameSetup, match_id: str = "") -> tuple[GameRecord, tuple[int, int]]:
    """The Ray task: play ``setup`` with this worker's engines for match ``match_id`` (started here
    for its first game). Returns the record and the engines' restarts during it. Raises
    :class:`MatchError` naming this node when an engine is missing or does not start."""
    global _warm
    if not cfg.engine_stderr:
        logging.getLogger("chess.engine").setLevel(logging.ERROR)  # engines' stray "info string" lines
    if _warm is None or _warm[0] != match_id:
        if _warm is not None:
            _warm[1].close()
            _warm = None
        _warm = (match_id, _start_table(cfg))
    table = _warm[1]
    before = table.restarts()
    try:
        rec = table.play(setup)
    except BaseException:
        table.close()
        _warm = None
        raise
    after = table.restarts()
    return rec, (after[0] - before[0], after[1] - before[1])


def run_match_ray(cfg: MatchConfig, address: str | None = None, on_game: GameCallback | None = None) -> MatchResult:
    """Play the match as Ray tasks. ``address``: None or empty for a local Ray of
    ``cfg.concurrency`` CPUs, else a cluster (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``).
    Blocks until the match ends; raises :class:`MatchError` (or :class:`~bench.cluster.ClusterError`)."""
    check_config(cfg)
    plan = plan_games(cfg)
    t_start = time.monotonic()
    with connected(address, num_cpus=max(1, cfg.concurrency)) as ray:
        task = ray.remote(num_cpus=1, max_retries=0)(play_one_game)
        window = cpu_slots(ray)
        cfg_ref = ray.put(cfg)
        match_id = uuid.uuid4().hex
        ledger = Ledger(cfg, plan, on_game)
        todo: deque[GameSetup] = deque(plan)
        in_flight: dict[Any, GameSetup] = {}
        tries: dict[int, int] = {}
        retries, restarts = 0, [0, 0]

        def cancel_all() -> None:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            in_flight.clear()

        try:
            while todo or in_flight:
                while todo and len(in_flight) < window and not ledger.decided:
                    setup = todo.popleft()
                    tries[setup.number] = tries.get(setup.number, 0) + 1
                    in_flight[task.remote(cfg_ref, setup, match_id)] = setup
                if not in_flight:
                    break
                (ref,), _ = ray.wait(list(in_flight), num_returns=1)
                setup = in_flight.pop(ref)
                try:
                    rec, rs = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the game's own code failed
                    cause = exc.cause if getattr(exc, "cause", None) is not None else exc
                    raise MatchError(str(cause)) from None
                except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                        ray.exceptions.LocalRayletDiedError, ray.exceptions.ObjectLostError,
                        ray.exceptions.OwnerDiedError) as exc:
                    if tries[setup.number] >= MAX_TRIES:
                        raise MatchError(f"game {setup.number}: its worker was lost {MAX_TRIES} times "
                                         f"({type(exc).__name__})") from None
                    retries += 1
                    todo.appendleft(setup)
                    continue
                restarts = [restarts[0] + rs[0], restarts[1] + rs[1]]
                if ledger.record(rec):
                    todo.clear()
                    cancel_all()
        finally:
            cancel_all()
    return ledger.close(time.monotonic() - t_start, (restarts[0], restarts[1]), retries)
