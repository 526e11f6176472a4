"""The chess referee: one game between two UCI engines, with python-chess keeping the rules."""

from __future__ import annotations

import datetime

from .errors import EngineFailure
from .records import Clock, GameRecord, MoveRecord
from .referee import GameSetup, adjudicate, failure_result, finish, timeout_for
from .uci_client import UciPlayer


def play_chess_game(players: tuple[UciPlayer, UciPlayer], setup: GameSetup) -> GameRecord:
    """Play one chess game; ``players[0]`` is White. Failures lose, they never raise."""
    import chess

    op = setup.opening
    board = chess.Board(op.fen or chess.STARTING_FEN)
    rec = GameRecord(setup.number, setup.pair, (players[0].name, players[1].name), setup.engine_of_side, op,
                     start_time=datetime.datetime.now().strftime("%Y.%m.%d %H:%M:%S"))
    for m in op.moves:
        board.push_uci(m)
        rec.moves.append(MoveRecord(m, 0.0, book=True))
    # side 0 = White; clocks indexed by colour
    clocks = (Clock(players[0].limits.tc), Clock(players[1].limits.tc))
    names = ("White", "Black")
    game_id = object()
    while True:
        outcome = board.outcome(claim_draw=True)
        if outcome is not None:
            return _chess_outcome(rec, outcome)
        side = 0 if board.turn == chess.WHITE else 1
        player = players[side]
        try:
            ans = player.play(board, clocks, game_id, timeout_for(player, clocks[side], setup))
        except EngineFailure as exc:
            player.kill()
            return failure_result(rec, side, names, exc)
        if player.limits.tc.clocked and not clocks[side].spend(ans.seconds, setup.margin):
            return finish(rec, 1 - side, f"{names[side]} loses on time ({ans.seconds:.3f} s)", "time forfeit")
        if ans.move == "resign":
            return finish(rec, 1 - side, f"{names[side]} resigns", "normal")
        if ans.move is None:
            return finish(rec, 1 - side, f"{names[side]} sent no move in a position with legal moves",
                           "rules infraction")
        move = chess.Move.from_uci(ans.move)
        if move not in board.legal_moves:  # python-chess checks already; belt and braces
            return finish(rec, 1 - side, f"{names[side]} makes an illegal move: {ans.move}", "rules infraction")
        board.push(move)
        rec.moves.append(MoveRecord(ans.move, ans.seconds, ans.score_cp, ans.mate, ans.depth))
        verdict = adjudicate(rec.moves, setup.adjudication, board.fullmove_number)
        if verdict is not None:
            kind, _ = verdict
            if kind == "resign":
                return finish(rec, 1 - side, f"{names[side]} resigns (adjudication by score)", "adjudication")
            return finish(rec, None, "Draw by adjudication (scores)", "adjudication")
        if setup.adjudication.max_moves and board.fullmove_number > setup.adjudication.max_moves:
            return finish(rec, None, f"Draw by adjudication (move {setup.adjudication.max_moves} reached)",
                           "adjudication")


def _chess_outcome(rec: GameRecord, outcome) -> GameRecord:  # noqa: ANN001
    import chess

    t = outcome.termination
    if t == chess.Termination.CHECKMATE:
        winner = 0 if outcome.winner == chess.WHITE else 1
        return finish(rec, winner, f"{('White', 'Black')[winner]} mates", "normal")
    text = {
        chess.Termination.STALEMATE: "Draw by stalemate",
        chess.Termination.INSUFFICIENT_MATERIAL: "Draw by insufficient mating material",
        chess.Termination.SEVENTYFIVE_MOVES: "Draw by 75-move rule",
        chess.Termination.FIVEFOLD_REPETITION: "Draw by fivefold repetition",
        chess.Termination.FIFTY_MOVES: "Draw by fifty moves rule",
        chess.Termination.THREEFOLD_REPETITION: "Draw by 3-fold repetition",
    }.get(t, f"Game over: {t.name.lower()}")
    return finish(rec, None, text, "normal")
