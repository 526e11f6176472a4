"""Game records as text: PGN (chess), CSA and SFEN-move lines (shogi), SGF (go)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .records import GameRecord

if TYPE_CHECKING:
    from ..gtp_referee import Game


def pgn_text(rec: GameRecord, *, event: str = "Tabula match", round_: str | None = None,
             time_control: str = "-") -> str:
    """The game as PGN, with cutechess-style move comments ``{+0.31/12 0.52s}``."""
    import chess
    import chess.pgn

    game = chess.pgn.Game()
    h = game.headers
    h["Event"] = event
    h["Site"] = "?"
    h["Date"] = rec.start_time.split(" ")[0] if rec.start_time else "????.??.??"
    h["Round"] = round_ or str(rec.number)
    h["White"], h["Black"] = rec.players
    h["Result"] = rec.result
    if rec.opening.fen:
        game.setup(chess.Board(rec.opening.fen))
    h["TimeControl"] = time_control
    h["Termination"] = rec.termination
    h["PlyCount"] = str(len(rec.moves))
    node: chess.pgn.GameNode = game
    for m in rec.moves:
        mv = chess.Move.from_uci(m.move)
        if m.book:
            comment = "book"
        else:
            if m.mate is not None:
                ev = f"{'+' if m.mate > 0 else '-'}M{abs(m.mate)}"
            elif m.score_cp is not None:
                ev = f"{m.score_cp / 100:+.2f}"
            else:
                ev = "?"
            comment = f"{ev}/{m.depth or 0} {m.seconds:.3f}s"
        node = node.add_variation(mv, comment=comment)
    node.comment = (node.comment + ", " if node.comment and node is not game else "") + rec.reason
    if node is game:
        game.comment = rec.reason
    exporter = chess.pgn.StringExporter(headers=True, variations=False, comments=True)
    return game.accept(exporter) + "\n\n"


def _csa_end(rec: GameRecord) -> str:
    """The CSA special move that ended the game."""
    t, r = rec.termination, rec.reason
    if t == "time forfeit":
        return "%TIME_UP"
    if t == "rules infraction":
        return "%ILLEGAL_MOVE"
    if t == "abandoned":
        return "%CHUDAN"
    if t == "adjudication":  # CSA has no adjudication; the result is in the comment that follows
        return "%JISHOGI" if "plies reached" in r else "%CHUDAN"
    # special moves are made by the side to move: the mated side resigns, the declarer declares
    for key, code in (("resigns", "%TORYO"), ("mates", "%TORYO"), ("perpetual", "%OUTE_SENNICHITE"),
                      ("sennichite", "%SENNICHITE"), ("declaration", "%KACHI")):
        if key in r:
            return code
    return "%CHUDAN"


def csa_text(rec: GameRecord, *, event: str = "Tabula match", time_control: str = "-") -> str:
    """The game as one CSA record (``V2.2``); records in a file are separated by ``/``."""
    import cshogi

    out = ["V2.2", f"N+{rec.players[rec.start_side]}", f"N-{rec.players[1 - rec.start_side]}",
           f"$EVENT:{event}", f"$START_TIME:{rec.start_time}", f"$TIME_LIMIT:{time_control}"]
    board = cshogi.Board(rec.opening.fen) if rec.opening.fen else cshogi.Board()
    if rec.opening.fen:
        out.append(board.csa_pos().rstrip("\n"))
    else:
        out += ["PI", "+"]
    for m in rec.moves:
        mv = board.move_from_usi(m.move)
        out.append(("+" if board.turn == 0 else "-") + cshogi.move_to_csa(mv))
        out.append(f"T{int(m.seconds)}")
        if m.book:
            out.append("'book")
        elif m.score_cp is not None or m.mate is not None:
            out.append(f"'** {m.score_cp if m.mate is None else ('+' if m.mate > 0 else '-') + 'M' + str(abs(m.mate))}")
        board.push(mv)
    out.append(_csa_end(rec))
    out.append(f"'{rec.result} {rec.reason}")
    return "\n".join(out) + "\n"


def sfen_line(rec: GameRecord) -> str:
    """One line per game: the USI position, then the result and the reason as a comment."""
    base = f"sfen {rec.opening.fen}" if rec.opening.fen else "startpos"
    moves = " ".join(m.move for m in rec.moves)
    return (f"{base}{' moves ' + moves if moves else ''}  # game {rec.number}: {rec.players[0]} vs "
            f"{rec.players[1]} {rec.result} {rec.reason}\n")


def sgf_text(game: Game, size: int, komi: float) -> str:
    """A go game as the GTP referee recorded it, as SGF (:func:`engine.go.sgf.write_sgf`)."""
    from tabula.engine.games.go import parse_vertex
    from tabula.engine.go.sgf import write_sgf

    moves = [(i % 2, size * size if m.lower() == "pass" else parse_vertex(m, size))
             for i, m in enumerate(game.moves)]
    return write_sgf(size, komi, moves, app="tabula-referee", players=(game.black, game.white),
                     result=game.result) + "\n"
