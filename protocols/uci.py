"""UCI front end: chess GUIs, cutechess-cli and python-chess talk to Tabula through this.

``score cp`` follows lc0's ``ScoreType`` option, by default lc0's ``WDL_mu`` of the line's W/D/L
(see :func:`protocols.common.score_cp`); ``score mate N`` when the search proved a mate.
``depth`` is the average playout depth and ``seldepth`` the deepest, as lc0 reports.
"""

from __future__ import annotations

from tabula.engine.codecs import codec_for
from tabula.engine.codecs.lc0 import Lc0Net
from tabula.engine.codecs.lc0_formats import OPTION_CHOICES
from tabula.engine.controller import Engine, Report
from tabula.engine.games.base import InvalidPositionError
from tabula.engine.games.chess_game import ChessState, decode_move
from tabula.engine.options import Param
from tabula.engine.search.params import LC0_SEARCH_PARAMS, with_default

from .common import SCORE_TYPES, EngineProtocol, Writer, score_cp, wdl_permille

UCI_PARAMS: tuple[Param, ...] = (
    Param("Ponder", "check", False, "Think on the opponent's time (the GUI sends go ponder)."),
    Param("UCI_ShowWDL", "check", False, "Add win/draw/loss per mille to info lines."),
    Param("ScoreType", "combo", SCORE_TYPES[0], "What score cp shows (lc0's choices): WDL_mu, lc0's default, "
          "the W/D/L's logistic mean x 100; centipawn, 90 tan(1.5637541897 Q); win_percentage; Q; W-L.",
          choices=SCORE_TYPES),
    Param("UCI_ShowMovesLeft", "check", False, "Add the moves the game is expected to last (movesleft) "
          "to info lines, for nets with a moves-left head."),
    Param("UCI_Chess960", "check", False, "Chess960 castling (king takes rook) and Shredder-FEN."),
    Param("UCI_AnalyseMode", "check", False, "Accepted for GUIs that send it; it changes nothing."),
    # measured with the bundled net on a 2-core CPU: the same nodes/s from batch 8 to 64, and at
    # 400 playouts the smaller batch finds Stockfish's clearly-best move more often (84.7 % vs 76.3 %)
    with_default("MinibatchSize", 16, "Chess: 16, as wider virtual-loss batches cost search quality at "
                 "the few hundred playouts a move of a CPU; raise it on a GPU."),
    Param("Lc0InputFormat", "combo", "auto",
          "Input format of an lc0 net that does not declare one (an 'lc0 leela2onnx' export with no "
          "tabula.lc0_format metadata and no .pb.gz of the same name beside it); a net that declares "
          "its format keeps it. auto: classical, with a warning.", choices=OPTION_CHOICES),
    *LC0_SEARCH_PARAMS,
)


class UciProtocol(EngineProtocol):
    """The engine side of UCI."""

    hello = "uci"
    hello_ok = "uciok"
    spaced_names = True

    def __init__(self, engine: Engine, write: Writer | None = None) -> None:
        super().__init__(engine, write)
        self.commands["ucinewgame"] = self.cmd_ucinewgame

    def cmd_ucinewgame(self, args: list[str]) -> None:
        self.engine.stop()
        self.engine.clear()

    # -- Lc0InputFormat: the loaded lc0 net gets the format the option asks for ---------------
    def cmd_isready(self, args: list[str]) -> None:
        if not self.engine.searching():
            try:
                loaded = self.engine.ensure_ready()
            except Exception:  # noqa: BLE001 - the base command below reports it
                pass
            else:
                if loaded:
                    self.info_string(f"loaded {loaded}")
                self._apply_lc0_format()
        super().cmd_isready(args)

    def cmd_go(self, args: list[str]) -> None:
        if self.engine.searching():
            self.engine.stop()
            self.engine.wait()
        if self.engine.evaluator is None and self.engine.state is not None:
            try:
                self.engine.ensure_ready()
            except Exception:  # noqa: BLE001 - go reports it
                pass
        self._apply_lc0_format()
        super().cmd_go(args)

    def _apply_lc0_format(self) -> None:
        """Re-pick an lc0 net's codec when ``Lc0InputFormat`` changed since it was made, and say
        once per net which input format it is read with (a warning when that was assumed)."""
        ev = self.engine.evaluator
        codec = getattr(ev, "codec", None)
        if not isinstance(codec, Lc0Net) or codec.resolution is None:
            return
        want = self.engine.options["Lc0InputFormat"]
        if (codec.resolution.option or "auto").lower() != want.lower():
            codec = codec_for(ev.signature, lc0_format=want)  # type: ignore[union-attr]
            ev.codec = codec  # type: ignore[union-attr]
            self.engine.clear()  # evaluations and tree of the other format are void
        res = codec.resolution  # type: ignore[union-attr]
        if codec.warning_shown or res is None or res.source == "tabula export":  # type: ignore[union-attr]
            return
        codec.warning_shown = True  # type: ignore[union-attr]
        self.info_string(f"warning: {res.warning}" if res.warning else res.describe())

    def parse_position(self, args: list[str]) -> tuple[ChessState, object, list[int]]:
        if not args:
            raise InvalidPositionError("usage: position startpos|fen <fen> [moves …]")
        chess960 = bool(self.engine.options["UCI_Chess960"])
        if "moves" in args:
            k = args.index("moves")
            head, moves = args[:k], args[k + 1:]
        else:
            head, moves = args, []
        if head[0] == "startpos":
            fen = None
        elif head[0] == "fen":
            fields = head[1:]
            if len(fields) < 4:
                raise InvalidPositionError(f"FEN needs at least 4 fields: {' '.join(fields)!r}")
            fields += ["0", "1"][len(fields) - 4:] if len(fields) < 6 else []
            fen = " ".join(fields)
        else:
            raise InvalidPositionError(f"position: expected startpos or fen, got {head[0]!r}")
        state = ChessState(fen, chess960=chess960)
        codes = []
        for text in moves:
            code = state.parse_move(text)
            state.push(code)
            codes.append(code)
        return state, (fen or "startpos", chess960), codes

    def format_info(self, report: Report) -> list[str]:
        s = report.stats
        state = self.engine.state
        show_wdl = bool(self.engine.options["UCI_ShowWDL"])
        show_ml = bool(self.engine.options["UCI_ShowMovesLeft"])
        score_type = str(self.engine.options["ScoreType"])
        multi = len(report.lines) > 1
        out = []
        for k, line in enumerate(report.lines, 1):
            if line.mate is not None:
                score = f"score mate {line.mate}"
            else:
                score = f"score cp {score_cp(line.q, line.d, score_type)}"
            if show_wdl:
                w, d, l_ = wdl_permille(line.q, line.d)
                score += f" wdl {w} {d} {l_}"
            if show_ml and line.m is not None:  # lc0: (1 + M of the move) / 2, in moves
                score += f" movesleft {int((1.0 + line.m) / 2.0)}"
            pv = " ".join(self._pv_text(state, line.pv)) if state is not None else ""
            parts = [f"info depth {max(1, s.depth)} seldepth {max(1, s.seldepth)}",
                     f"time {int(s.elapsed * 1000)} nodes {s.nodes}", score,
                     f"hashfull {report.hashfull} nps {s.nps}"]
            if multi:
                parts.append(f"multipv {k}")
            parts.append(f"pv {pv}")
            out.append(" ".join(parts))
        return out

    @staticmethod
    def _pv_text(state: ChessState, pv: list[int]) -> list[str]:
        """PV moves in UCI notation (walks a copy so notation follows the board)."""
        board = state.board.copy(stack=False)
        out = []
        for code in pv:
            move = decode_move(code)
            out.append(board.uci(move))
            board.push(move)
        return out

    def format_bestmove(self, best: int | None, ponder: int | None, state) -> str:
        if best is None or state is None:
            return "bestmove 0000"
        text = f"bestmove {state.move_to_text(best)}"
        if ponder is not None:
            state = state.copy()
            state.push(best)
            if ponder in state.legal_moves():
                text += f" ponder {state.move_to_text(ponder)}"
        return text


def run_uci(engine: Engine, lines, write: Writer | None = None) -> None:
    """Run the UCI loop over an iterable of input lines."""
    UciProtocol(engine, write).run(lines)
