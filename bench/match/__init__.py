"""Engine-against-engine matches: chess over UCI, shogi over USI, go over GTP; Elo, LOS and SPRT.

Two engines, each a command line with options, play every opening twice (once with
each colour), under a time control (Fischer clock, byoyomi) or a node / depth /
fixed-time limit, on ``concurrency`` boards at once. The referee keeps the clocks and
the rules: an engine that crashes, answers too late, or plays an illegal move loses
that game with the reason recorded, is restarted, and the match goes on. Games can be
adjudicated by score (resign, draw) and by length. Results go to PGN (chess), CSA or
SFEN-move lines (shogi), SGF (go); the statistics (:mod:`bench.elo`) include an SPRT that
ends the match early.

>>> spec = EngineSpec.parse("cmd='tabula uci --net n.onnx' name=T option.Threads=1 nodes=200")
>>> spec.cmd, spec.name, spec.options, spec.nodes
(['tabula', 'uci', '--net', 'n.onnx'], 'T', {'Threads': '1'}, 200)

Chess engines are driven by python-chess's ``chess.engine``; shogi engines by the small
USI client here (cshogi's runs engines without arguments); go engines by
:mod:`bench.gtp_referee` (its GTP client and game loop, GNU Go as the neutral scorer;
go games start from the empty board and take a clock or the engines' own strength
settings, since GTP has no node limit).

Modules: :mod:`.errors`, :mod:`.spec` (time controls, engine specs, limits),
:mod:`.openings`, :mod:`.records` (move/game records, clocks), the engine clients
(:mod:`.player`, :mod:`.uci_client`, :mod:`.usi_client`, :mod:`.gtp_client`), the referees
(:mod:`.referee`, :mod:`.chess_game`, :mod:`.shogi_game`, :mod:`.go_game`),
:mod:`.writers` (PGN/CSA/SFEN/SGF), :mod:`.config` (the match's set-up and its checks),
:mod:`.table` (one board: its engines and referee), :mod:`.ledger` (the games to play, and each
finished game taken once: statistics, SPRT, record file), :mod:`.runner` (boards in threads),
:mod:`.ray_runner` (games as Ray tasks on a cluster) and :mod:`.result` (the statistics).
"""

from __future__ import annotations

from .chess_game import play_chess_game
from .config import GAMES, PROTOCOL_OF_GAME, MatchConfig, check_config, match_config
from .errors import EngineFailure, MatchError
from .go_game import play_go_game
from .gtp_client import GtpPlayer, go_clock
from .openings import Opening, load_openings
from .player import MoveAnswer, Player
from .records import Clock, GameRecord, MoveRecord
from .referee import Adjudication, GameSetup, adjudicate
from .result import MatchResult, side_names
from .ledger import GameCallback, Ledger, plan_games
from .ray_runner import run_match_ray
from .runner import run_match
from .table import Table
from .shogi_game import play_shogi_game
from .spec import EngineSpec, Limits, TimeControl, limits_for
from .uci_client import UciPlayer
from .usi_client import UsiEngine, UsiPlayer
from .writers import csa_text, pgn_text, sfen_line, sgf_text

__all__ = [
    "GAMES", "PROTOCOL_OF_GAME", "Adjudication", "Clock", "EngineFailure", "EngineSpec", "GameCallback",
    "GameRecord", "GameSetup", "GtpPlayer", "Ledger", "Limits", "MatchConfig", "MatchError", "MatchResult", "MoveAnswer",
    "MoveRecord", "Opening", "Player", "Table", "TimeControl", "UciPlayer", "UsiEngine", "UsiPlayer", "adjudicate",
    "check_config", "csa_text", "go_clock", "limits_for", "load_openings", "match_config", "pgn_text",
    "plan_games", "play_chess_game", "play_go_game", "play_shogi_game", "run_match", "run_match_ray", "sfen_line",
    "sgf_text", "side_names",
]
