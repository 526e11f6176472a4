"""The shogi referee: one game between two USI engines (mate, declaration, sennichite, adjudication)."""

from __future__ import annotations

import datetime

from .errors import EngineFailure
from .records import Clock, GameRecord, MoveRecord
from .referee import GameSetup, adjudicate, failure_result, finish, timeout_for
from .usi_client import UsiPlayer


def _shogi_position_key(board) -> str:  # noqa: ANN001
    return board.sfen().rsplit(" ", 1)[0]


def play_shogi_game(players: tuple[UsiPlayer, UsiPlayer], setup: GameSetup) -> GameRecord:
    """Play one shogi game; ``players[0]`` moves first from the start position (usually Sente).

    Rules the referee applies: no legal move loses (mate), ``bestmove resign`` loses,
    ``bestmove win`` wins with a valid entering-king declaration and loses otherwise, the
    fourth occurrence of a position is sennichite (a draw, or a loss for the side that gave
    check on every move of the cycle), and ``max_moves`` plies end in a draw.
    """
    import cshogi

    op = setup.opening
    board = cshogi.Board(op.fen) if op.fen else cshogi.Board()
    first_turn = board.turn  # 0 = black (sente)
    rec = GameRecord(setup.number, setup.pair, (players[0].name, players[1].name), setup.engine_of_side, op,
                     start_time=datetime.datetime.now().strftime("%Y/%m/%d %H:%M:%S"), start_side=first_turn)
    base = f"position sfen {op.fen}" if op.fen else "position startpos"
    played: list[str] = []
    seen: dict[str, list[int]] = {_shogi_position_key(board): [0]}
    gave_check: list[bool] = []
    for m in op.moves:
        board.push(board.move_from_usi(m))
        played.append(m)
        gave_check.append(bool(board.is_check()))
        seen.setdefault(_shogi_position_key(board), []).append(len(played))
        rec.moves.append(MoveRecord(m, 0.0, book=True))
    # side index 0 = the player who moves first from the start position
    side_of_turn = {first_turn: 0, 1 - first_turn: 1}
    colour_names = ("Sente", "Gote")
    names = (colour_names[first_turn], colour_names[1 - first_turn])
    # clocks by player side; USI wants them by colour (btime = sente)
    clocks = (Clock(players[0].limits.tc), Clock(players[1].limits.tc))
    for p in players:
        try:
            p.new_game()
        except EngineFailure as exc:
            p.kill()
            side = players.index(p)
            _send_gameover(players, None)
            return failure_result(rec, side, names, exc)
    max_plies = setup.adjudication.max_moves
    while True:
        side = side_of_turn[board.turn]
        if board.is_game_over():
            _send_gameover(players, 1 - side)
            return finish(rec, 1 - side, f"{names[1 - side]} mates", "normal")
        player = players[side]
        by_colour = (clocks[side_of_turn[0]], clocks[side_of_turn[1]])  # (sente, gote)
        position = base + (" moves " + " ".join(played) if played else "")
        try:
            ans = player.play(position, by_colour, timeout_for(player, clocks[side], setup))
        except EngineFailure as exc:
            player.kill()
            _send_gameover(players, 1 - side)
            return failure_result(rec, side, names, exc)
        if player.limits.tc.clocked and not clocks[side].spend(ans.seconds, setup.margin):
            _send_gameover(players, 1 - side)
            return finish(rec, 1 - side, f"{names[side]} loses on time ({ans.seconds:.3f} s)", "time forfeit")
        if ans.move == "resign":
            _send_gameover(players, 1 - side)
            return finish(rec, 1 - side, f"{names[side]} resigns", "normal")
        if ans.move == "win":
            if board.is_nyugyoku():
                _send_gameover(players, side)
                return finish(rec, side, f"{names[side]} wins by entering-king declaration", "normal")
            _send_gameover(players, 1 - side)
            return finish(rec, 1 - side, f"{names[side]} declares an entering-king win without the points",
                           "rules infraction")
        mv = board.move_from_usi(ans.move) if ans.move else 0
        if not mv or not board.is_legal(mv):
            _send_gameover(players, 1 - side)
            return finish(rec, 1 - side, f"{names[side]} makes an illegal move: {ans.move}", "rules infraction")
        board.push(mv)
        played.append(ans.move)
        gave_check.append(bool(board.is_check()))
        rec.moves.append(MoveRecord(ans.move, ans.seconds, ans.score_cp, ans.mate, ans.depth))
        occ = seen.setdefault(_shogi_position_key(board), [])
        occ.append(len(played))
        if len(occ) >= 4:
            cycle = range(occ[-2], occ[-1])  # plies of the last cycle (indices into gave_check)
            for s in (0, 1):
                # plies of side s in the cycle: ply index i was played by side (i + first mover) parity
                mine = [gave_check[i] for i in cycle if (i % 2 == 0) == (s == 0)]
                if mine and all(mine):
                    _send_gameover(players, 1 - s)
                    return finish(rec, 1 - s, f"{names[s]} loses by perpetual check", "normal")
            _send_gameover(players, None)
            return finish(rec, None, "Draw by sennichite (fourfold repetition)", "normal")
        verdict = adjudicate(rec.moves, setup.adjudication, len(played) // 2 + 1)
        if verdict is not None:
            kind, _ = verdict
            if kind == "resign":
                _send_gameover(players, 1 - side)
                return finish(rec, 1 - side, f"{names[side]} resigns (adjudication by score)", "adjudication")
            _send_gameover(players, None)
            return finish(rec, None, "Draw by adjudication (scores)", "adjudication")
        if max_plies and len(played) >= max_plies:
            _send_gameover(players, None)
            return finish(rec, None, f"Draw by adjudication ({max_plies} plies reached)", "adjudication")


def _send_gameover(players: tuple[UsiPlayer, UsiPlayer], winner_side: int | None) -> None:
    for s, p in enumerate(players):
        p.game_over("draw" if winner_side is None else ("win" if s == winner_side else "lose"))
