"""SGF for go: the one reader and writer of the project (GTP ``loadsgf``/``printsgf``, match records).

Reading keeps the first game's main line (the first variation everywhere) as property
dicts, then turns its root (SZ, KM, AB/AW with ``aa:cc`` rectangles, PL, HA) and moves into
a :class:`~engine.games.go.GoState`. Writing gives FF[4] with the set-up, komi, moves and,
for a record, the players and result.

>>> game = SgfGame.parse("(;SZ[9]KM[6.5];B[ee];W[cc])")
>>> loaded = game.load(game.board_size(), game.komi(7.5)); loaded.state.ply, loaded.state.komi
(2, 6.5)
>>> write_sgf(9, 6.5, [(0, 40)], app="Tabula")
'(;GM[1]FF[4]CA[UTF-8]AP[Tabula]SZ[9]KM[6.5]RU[Chinese];B[ee])'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from tabula.engine.games.go import BLACK, WHITE, GoState, colour_of


class SgfPropertyError(ValueError):
    """A root property's value cannot be read (SZ, KM, PL); the message says which and why."""


def parse_sgf_main_line(text: str) -> list[dict[str, list[str]]]:
    """The nodes of the first game's main line (first variation everywhere), as property dicts.

    >>> parse_sgf_main_line("(;SZ[9]KM[7];B[ee](;W[cc])(;W[gg]))")
    [{'SZ': ['9'], 'KM': ['7']}, {'B': ['ee']}, {'W': ['cc']}]
    """
    i = text.find("(")
    if i < 0:
        raise ValueError("not an SGF file: no '(' found")
    nodes: list[dict[str, list[str]]] = []
    n = len(text)
    # stack of "is this game tree on the main line" / "has it seen its first child yet"
    stack: list[list[bool]] = []
    main = True
    while i < n:
        ch = text[i]
        if ch == "(":
            if stack:
                parent = stack[-1]
                take = parent[0] and not parent[1]
                parent[1] = True
            else:
                take = main
                main = False  # only the first game of a collection
            stack.append([take, False])
            i += 1
        elif ch == ")":
            if not stack:
                raise ValueError("SGF: unbalanced ')'")
            stack.pop()
            i += 1
            if not stack:
                break
        elif ch == ";":
            if not stack:
                raise ValueError("SGF: node outside a game tree")
            i += 1
            props: dict[str, list[str]] = {}
            while True:
                while i < n and text[i].isspace():
                    i += 1
                j = i
                while i < n and text[i].isalpha():
                    i += 1
                if j == i:
                    break
                ident = "".join(c for c in text[j:i] if c.isupper())
                values = []
                while True:
                    while i < n and text[i].isspace():
                        i += 1
                    if i >= n or text[i] != "[":
                        break
                    i += 1
                    buf = []
                    while i < n and text[i] != "]":
                        if text[i] == "\\" and i + 1 < n:
                            i += 1
                        buf.append(text[i])
                        i += 1
                    if i >= n:
                        raise ValueError("SGF: unterminated property value")
                    i += 1
                    values.append("".join(buf))
                if not values:
                    raise ValueError(f"SGF: property {ident or text[j:i]!r} without a value")
                props.setdefault(ident, []).extend(values)
            if stack[-1][0] and not stack[-1][1]:
                nodes.append(props)
        elif ch.isspace():
            i += 1
        else:
            raise ValueError(f"SGF: unexpected {ch!r} at offset {i}")
    if stack:
        raise ValueError("SGF: unbalanced '('")
    return nodes


def sgf_point(value: str, size: int) -> int:
    """An SGF point (``dd``; row ``a`` at the top) as a move code; ``""``/``tt`` is pass.

    >>> sgf_point("aa", 9), sgf_point("", 9)
    (72, 81)
    """
    v = value.strip().lower()
    if v == "" or (v == "tt" and size <= 19):
        return size * size
    if len(v) != 2 or not all("a" <= ch <= "z" for ch in v):
        raise ValueError(f"SGF: bad point {value!r}")
    col, row_from_top = ord(v[0]) - 97, ord(v[1]) - 97
    if col >= size or row_from_top >= size:
        raise ValueError(f"SGF: point {value!r} is off the {size}x{size} board")
    return (size - 1 - row_from_top) * size + col


def sgf_coord(move: int, size: int) -> str:
    """A move code as an SGF point (pass is empty).

    >>> sgf_coord(72, 9), sgf_coord(81, 9)
    ('aa', '')
    """
    if move == size * size:
        return ""
    row, col = divmod(move, size)
    return chr(97 + col) + chr(97 + size - 1 - row)


def sgf_points(values: Sequence[str], size: int) -> list[int]:
    """Points of AB/AW values, with ``aa:cc`` rectangles expanded."""
    out: list[int] = []
    for v in values:
        if ":" in v:
            a, b = v.split(":", 1)
            pa, pb = sgf_point(a, size), sgf_point(b, size)
            (ra, ca), (rb, cb) = divmod(pa, size), divmod(pb, size)
            out += [r * size + c for r in range(min(ra, rb), max(ra, rb) + 1)
                    for c in range(min(ca, cb), max(ca, cb) + 1)]
        else:
            out.append(sgf_point(v, size))
    return out


def _colour(text: str) -> int:
    colour = colour_of(text)
    if colour is None:
        raise SgfPropertyError(f"invalid color {text!r}")
    return colour


@dataclass
class LoadedGame:
    """A game read from SGF: the position reached, and the set-up it started from."""

    state: GoState
    black: list[int]
    white: list[int]
    to_move: int
    handicap: int


@dataclass
class SgfGame:
    """The main line of an SGF go game; read its root and moves step by step.

    The steps are separate so a front end can check the board size (is there a net
    for it?) before the rest of the file is read.
    """

    nodes: list[dict[str, list[str]]]

    @classmethod
    def parse(cls, text: str) -> "SgfGame":
        """Parse SGF text; :class:`ValueError` when it is not SGF or holds no game."""
        nodes = parse_sgf_main_line(text)
        if not nodes:
            raise ValueError("no game")
        return cls(nodes)

    @property
    def root(self) -> dict[str, list[str]]:
        return self.nodes[0]

    def board_size(self) -> int:
        """SZ (19 when absent); :class:`SgfPropertyError` when it is not an integer."""
        text = self.root.get("SZ", ["19"])[0].split(":")[0]
        try:
            return int(text)
        except ValueError:
            raise SgfPropertyError(f"SZ must be an integer, not {text!r}") from None

    def komi(self, default: float) -> float:
        """KM (``default`` when absent or empty); :class:`SgfPropertyError` when it is not a finite number."""
        root = self.root
        if "KM" not in root or not root["KM"][0].strip():
            return default
        text = root["KM"][0]
        try:
            v = float(text)
        except ValueError:
            raise SgfPropertyError(f"KM must be a number, not {text!r}") from None
        if not math.isfinite(v):
            raise SgfPropertyError("KM must be finite")
        return v

    def load(self, size: int, komi: float, limit: int | None = None) -> LoadedGame:
        """The position after the moves (``limit``: the position before move number ``limit``).

        Raises :class:`ValueError` (bad points, set-up after the first node),
        :class:`~engine.games.base.IllegalMoveError` or
        :class:`~engine.games.base.InvalidPositionError`, and :class:`SgfPropertyError` for a bad PL.
        """
        root = self.root
        black = sgf_points(root.get("AB", []), size)
        white = sgf_points(root.get("AW", []), size)
        moves: list[tuple[int, int]] = []
        for k, node in enumerate(self.nodes):
            if k > 0 and any(key in node for key in ("AB", "AW", "AE")):
                raise ValueError("set-up stones after the first node are not supported")
            for key, colour in (("B", BLACK), ("W", WHITE)):
                if key in node:
                    moves.append((colour, sgf_point(node[key][0], size)))
        first = moves[0][0] if moves else (WHITE if black and not white else BLACK)
        if "PL" in root:
            first = _colour(root["PL"][0])
        handicap = int(root["HA"][0]) if "HA" in root and root["HA"][0].strip().isdigit() else 0
        state = GoState(size, komi, black=black, white=white, to_move=first)
        count = len(moves) if limit is None else max(0, min(len(moves), limit - 1))
        for colour, move in moves[:count]:
            state.play_color(colour, move)
        return LoadedGame(state, black, white, first, handicap)


def write_sgf(size: int, komi: float, moves: Iterable[tuple[int, int]], *, app: str, handicap: int = 0,
              black: Sequence[int] = (), white: Sequence[int] = (), to_move: int = BLACK,
              players: tuple[str, str] | None = None, result: str | None = None) -> str:
    """A go game as one SGF game tree (no newline at the end).

    ``moves`` are ``(colour, move code)`` pairs; ``black``/``white`` the set-up stones
    (``PL[W]`` follows them when White moves first); ``players`` (Black, White) and
    ``result`` go in PB/PW and RE when given, as they are (no escaping).
    """
    n = size
    head = f"(;GM[1]FF[4]CA[UTF-8]AP[{app}]SZ[{n}]KM[{komi:g}]RU[Chinese]"
    if handicap:
        head += f"HA[{handicap}]"
    if black:
        head += "AB" + "".join(f"[{sgf_coord(p, n)}]" for p in black)
    if white:
        head += "AW" + "".join(f"[{sgf_coord(p, n)}]" for p in white)
    if (black or white) and to_move == WHITE:
        head += "PL[W]"
    if players is not None:
        head += f"PB[{players[0]}]PW[{players[1]}]"
    if result is not None:
        head += f"RE[{result}]"
    body = "".join(f";{'BW'[c]}[{sgf_coord(m, n)}]" for c, m in moves)
    return head + body + ")"


__all__ = ["LoadedGame", "SgfGame", "SgfPropertyError", "parse_sgf_main_line", "sgf_coord", "sgf_point",
           "sgf_points", "write_sgf"]
