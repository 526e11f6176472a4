"""Opening positions for a match: read from EPD / FEN / PGN (chess), SFEN lines (shogi) or move
lines (go), checked."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from .errors import MatchError


@dataclass(frozen=True)
class Opening:
    """A start position (FEN/SFEN; None: the standard start) plus moves in protocol notation."""

    fen: str | None = None
    moves: tuple[str, ...] = ()
    label: str = ""


def _parse_position_line(line: str, game: str) -> Opening:
    text = line.split("#", 1)[0].strip()
    tokens = text.split()
    if tokens and tokens[0] == "position":
        tokens = tokens[1:]
    moves: list[str] = []
    if "moves" in tokens:
        i = tokens.index("moves")
        tokens, moves = tokens[:i], tokens[i + 1:]
    head = "fen" if game == "chess" else "sfen"
    if not tokens or tokens[0] == "startpos":
        fen = None
    elif tokens[0] == head:
        fen = " ".join(tokens[1:])
    else:
        fen = " ".join(tokens)
    return Opening(fen, tuple(moves), line.split("#", 1)[1].strip() if "#" in line else "")


def _chess_openings(path: Path, plies: int | None) -> list[Opening]:
    import chess
    import chess.pgn

    text = path.read_text()
    out: list[Opening] = []
    if path.suffix.lower() == ".pgn":
        stream = io.StringIO(text)
        while True:
            game = chess.pgn.read_game(stream)
            if game is None:
                break
            board = game.board()
            fen = None if board.fen() == chess.STARTING_FEN else board.fen()
            moves = [m.uci() for m in game.mainline_moves()]
            if plies is not None:
                moves = moves[:plies]
            out.append(Opening(fen, tuple(moves), game.headers.get("Opening", game.headers.get("Event", ""))))
        return out
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.split()[0] in ("startpos", "fen", "position"):
            op = _parse_position_line(line, "chess")
        else:  # a FEN, or EPD (four FEN fields, then operations)
            try:
                op = Opening(chess.Board(line).fen(), ())
            except ValueError:
                board, ops = chess.Board.from_epd(line)
                op = Opening(board.fen(), (), str(ops.get("id", "")))
        board = chess.Board(op.fen or chess.STARTING_FEN)
        for m in op.moves:
            board.push_uci(m)
        out.append(op)
    return out


def _shogi_openings(path: Path, plies: int | None) -> list[Opening]:
    import cshogi

    out = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        op = _parse_position_line(line, "shogi")
        if plies is not None:
            op = Opening(op.fen, op.moves[:plies], op.label)
        board = cshogi.Board(op.fen) if op.fen else cshogi.Board()
        for m in op.moves:
            mv = board.move_from_usi(m)
            if not mv or not board.is_legal(mv):
                raise MatchError(f"{path}: illegal move {m!r} in opening {line!r}")
            board.push(mv)
        out.append(op)
    return out


def _go_openings(path: Path, plies: int | None, size: int) -> list[Opening]:
    """One opening a line: GTP vertices (``pass`` allowed) played alternately from Black on the
    empty ``size``×``size`` board, e.g. ``E5 C3 G7``; ``#`` starts a comment."""
    from tabula.engine.games.go import GoState, parse_vertex, vertex

    out = []
    for raw in path.read_text().splitlines():
        text = raw.split("#", 1)[0].split()
        if not text:
            continue
        moves = text[:plies] if plies is not None else text
        state = GoState(size, 7.0)
        played = []
        for m in moves:
            try:
                move = parse_vertex(m, size)
            except ValueError:
                raise MatchError(f"{path}: {m!r} is not a vertex on {size}x{size} in opening {raw.strip()!r}") from None
            if not state.is_legal(move):
                raise MatchError(f"{path}: illegal move {m!r} in opening {raw.strip()!r}")
            state.push(move)
            played.append(vertex(move, size))
        out.append(Opening(None, tuple(played), raw.split("#", 1)[1].strip() if "#" in raw else ""))
    return out


def load_openings(path: str | Path, game: str, plies: int | None = None, size: int = 9) -> list[Opening]:
    """Openings from a file: chess EPD / FEN lines / PGN (first ``plies`` moves of each game),
    shogi ``[position] startpos|sfen S [moves …]`` lines or bare SFENs, go move lines on a
    ``size`` board (:func:`_go_openings`). Each is checked."""
    p = Path(path)
    if not p.is_file():
        raise MatchError(f"openings file not found: {p}")
    readers = {"chess": lambda: _chess_openings(p, plies), "shogi": lambda: _shogi_openings(p, plies),
               "go": lambda: _go_openings(p, plies, size)}
    try:
        ops = readers[game]()
    except MatchError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one clear message
        raise MatchError(f"{p}: cannot read openings: {exc}") from None
    if not ops:
        raise MatchError(f"{p}: no openings in the file")
    return ops
