"""The go referee: one game between two GTP engines through :func:`bench.gtp_referee.play_game`."""

from __future__ import annotations

import datetime

from .errors import EngineFailure
from .gtp_client import GtpPlayer, go_clock
from .records import GameRecord, MoveRecord
from .referee import GameSetup, failure_result, finish


def play_go_game(players: tuple[GtpPlayer, GtpPlayer], setup: GameSetup, scorer, size: int, komi: float,  # noqa: ANN001
                 max_moves: int) -> GameRecord:
    """Play one go game with :func:`bench.gtp_referee.play_game`; ``players[0]`` is Black."""
    from ..gtp_referee import play_game

    rec = GameRecord(setup.number, setup.pair, (players[0].name, players[1].name), setup.engine_of_side,
                     setup.opening, start_time=datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"))
    names = ("Black", "White")
    for side, p in enumerate(players):
        try:
            p.reply_timeout = setup.move_timeout
            p.ensure_started()
        except EngineFailure as exc:
            p.kill()
            return failure_result(rec, side, names, exc)
    clock = go_clock(players[0].limits.tc)
    try:
        g = play_game(players[0].client, players[1].client, scorer, size, komi, max_moves or 3 * size * size, clock,
                      setup.opening.moves)
    except EngineFailure as exc:  # a set-up command or the scorer failed
        dead = [s for s, p in enumerate(players) if p.client is None or p.client.proc.poll() is not None]
        for p in players:
            p.kill()
        if dead:
            return failure_result(rec, dead[0], names, EngineFailure("crash", str(exc)))
        return finish(rec, None, f"Game abandoned: {exc}", "abandoned")
    rec.native = g
    rec.moves = [MoveRecord(m, 0.0) for m in g.moves]
    res = g.result.strip()
    tag = res[2:] if res[:2] in ("B+", "W+") else ""
    if res[:2] in ("B+", "W+"):
        winner = 0 if res[0] == "B" else 1
        loser = players[1 - winner]
        term = {"T": "time forfeit", "F": "rules infraction", "R": "normal"}.get(tag, "normal")
        if tag in ("T", "F"):
            loser.kill()  # it may be hung or gone: start afresh
            if "exited" in g.reason or "no reply" in g.reason:
                term = "abandoned"
        return finish(rec, winner, f"{res}: {g.reason}", term)
    return finish(rec, None, f"{res or 'no result'}: {g.reason}", "normal")
