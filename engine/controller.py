"""The engine controller: one position, the options, the search's threads, the time manager.

Protocol front ends (UCI, USI, GTP) only translate text into these calls. Which
calls block is stated on each: ``go`` and ``stop`` return at once; ``ensure_ready``
and ``set_position`` may block (loading the net, waiting for a search to end).

Results come back through callbacks run on the search thread: ``on_info`` about
every second and once before the end, ``on_done`` exactly once per ``go``. With
``SearchThreads`` above 1 that thread keeps the limits, the reports and ``stop`` while the
search threads (engine/search/workers.py) work on the tree.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .codecs.base import NetworkMismatchError
from .evaluator import (BACKENDS, EvalCache, NetworkLoadError, OnnxEvaluator, default_search_threads,
                        default_threads)
from .evaluator_api import Evaluator
from .games.base import GameState
from .options import OptionError, Options, Param
from .search.mcts import Line, MoveStat, Search, SearchStats
from .search.compile_ahead import NativeKernels, kernels_for
from .search.native import NativeSearch, NativeTree, cache_moves_hint, compiled_leaves
from .search.nncache import NativeEvalCache
from .search.params import SEARCH_PARAMS, SearchParams
from .search.stoppers import (Chain, DepthStopper, MateStopper, NodesStopper, PlayoutsStopper,
                              ProvenStopper, SmartPruningStopper, Stopper, TimeStopper, TreeFullStopper)
from .search.tree import Tree
from .timeman import MOVES_LEFT_MIDPOINT, Budget, Clock, allocate, estimated_moves_left, movetime_budget

log = logging.getLogger(__name__)

#: Games searched by the compiled search (engine/search/native.py); the others by the Python
#: reference (engine/search/mcts.py). Go runs its leaves in compiled code too, on Tabula's and
#: Leela Zero's planes and on KataGo's features (engine/search/go_kernels.py; KataGo under simple
#: or situational ko keeps the Python leaf path).
NATIVE_GAMES = frozenset({"chess", "shogi", "go"})

DEFAULT_NET = "<default>"
#: seconds between the controller's looks at the limits, ``stop`` and the info clock while search
#: threads run; they wake it sooner only when the limits are reached (SearchWorkers.wait)
THREADS_POLL_S = 0.005

#: Options every front end shows (protocols add their own, e.g. UCI_ShowWDL).
ENGINE_PARAMS: tuple[Param, ...] = (
    Param("WeightsFile", "string", DEFAULT_NET,
          "Path of the ONNX network; <default> is the bundled net for this game."),
    Param("Backend", "combo", "auto", "onnxruntime execution provider.", choices=BACKENDS),
    Param("BackendOptions", "string", "",
          "Options of the cuda/tensorrt provider as key=value,… (e.g. trt_fp16_enable=True)."),
    Param("Threads", "spin", default_threads(),
          "CPU threads for the network, all together: the search threads calling it and its own "
          "helpers (the compiled search needs a sliver of a core beside them).", 1, 256),
    Param("SearchThreads", "spin", default_search_threads(),
          "Search threads on one tree, each with a batch of its own in the network (2 on two or more "
          "cores: two batches run at once). 1 gives the one-thread search, deterministic at fixed "
          "nodes. The Python reference search (while the kernels compile) ignores it and runs one.",
          1, 64),
    Param("NNCacheSize", "spin", 200_000, "Positions kept in the network result cache.", 0, 10_000_000),
    Param("Hash", "spin", 256, "Memory for the search tree, in MB.", 16, 65536),
    Param("MultiPV", "spin", 1, "Number of best lines reported.", 1, 500),
    Param("Move Overhead", "spin", 100, "Milliseconds kept in reserve per move for GUI/pipe latency.",
          0, 10_000),
    Param("Clear Hash", "button", None, "Forget the search tree and the network cache."),
    Param("VerboseMoveStats", "check", False,
          "After each search, report every root move's N, P, Q, D and U (as lc0's option of that name)."),
)


class EngineError(RuntimeError):
    """Something the user asked for cannot be done now (no net, busy, …)."""


@dataclass
class Limits:
    """The fields of a ``go`` command (any subset); times in ms."""

    time_ms: float | None = None       #: the side to move's clock
    inc_ms: float = 0.0
    opp_time_ms: float | None = None
    moves_to_go: int | None = None
    byoyomi_ms: float = 0.0
    movetime_ms: float | None = None
    nodes: int | None = None
    #: new playouts of this search, reused visits not counted (GTP's Playouts)
    playouts: int | None = None
    depth: int | None = None
    mate: int | None = None
    infinite: bool = False
    ponder: bool = False
    searchmoves: list[int] = field(default_factory=list)
    info_interval: float = 1.0         #: seconds between progress reports (analysis GUIs ask for less)

    @property
    def timed(self) -> bool:
        """Whether a clock or movetime bounds this search."""
        return self.time_ms is not None or self.movetime_ms is not None or self.byoyomi_ms > 0


@dataclass
class Report:
    """One progress report: statistics plus the best lines."""

    stats: SearchStats
    lines: list[Line]
    hashfull: int
    final: bool = False
    #: mean score of the root for its side to move (nets with a score head), else None
    score: float | None = None
    #: mean ownership over the search's evaluations, +1 = the root's side to move, per move code
    ownership: np.ndarray | None = None
    #: every root move's selection terms (final report, with VerboseMoveStats on), fewest visits first
    move_stats: list[MoveStat] | None = None
    #: a one-off message for the GUI's log (``info string``), e.g. that the tree filled the Hash
    notice: str | None = None


InfoFn = Callable[[Report], None]
DoneFn = Callable[[int | None, int | None], None]  # best move, ponder move


class Engine:
    """Game-agnostic controller. ``game`` is the rules' name the net must match."""

    def __init__(self, game: str, *, default_net: str | None = None,
                 extra_params: Sequence[Param] = ()) -> None:
        self.game = game
        self.default_net = default_net
        self.options = Options((*ENGINE_PARAMS, *SEARCH_PARAMS, *extra_params))
        self.evaluator: Evaluator | None = None
        self._loaded_key: tuple | None = None
        #: the compiled kernels the loaded net's search needs (None: a game the Python search plays)
        self._kernels: NativeKernels | None = None
        self._told_compiling = False
        self.cache = self._new_cache(self.options["NNCacheSize"])
        self.state: GameState | None = None
        self._base: object = None
        self._moves: list[int] = []
        self.tree: NativeTree | Tree | None = None
        self._tree_base: object = None
        self._tree_moves: list[int] = []
        self._thread: threading.Thread | None = None
        self._full_told = False
        self._stop = threading.Event()
        self._ponderhit = threading.Event()
        #: set once the running search has given its answer (its thread then only exits)
        self._answered = threading.Event()
        #: the running search, until its threads have ended
        self._searched: NativeSearch | Search | None = None
        self.last_error: Exception | None = None

    # -- options and network -------------------------------------------------------------
    def set_option(self, name: str, value: str | None) -> None:
        """Validate and store an option (raises :class:`OptionError`). Blocks while searching."""
        self.wait()
        p = self.options.param(name)
        v = self.options.set(name, value)
        norm = p.name
        if norm == "Clear Hash":
            self.clear()
        elif norm == "NNCacheSize":
            self.cache = self._new_cache(int(v))
        elif norm in ("PolicyTemperature",):
            self.cache.clear()
            self.tree = None
        elif norm == "Hash":
            self.tree = None

    def net_path(self) -> str:
        """The network file the options point at."""
        path = self.options["WeightsFile"]
        if path in (DEFAULT_NET, "", "<autodiscover>"):
            if not self.default_net:
                raise NetworkLoadError(f"no network set and no bundled {self.game} net: "
                                       f"set the WeightsFile option to an .onnx file")
            return self.default_net
        return str(Path(path).expanduser())

    def ensure_ready(self) -> str | None:
        """Load (or reload after an option change) the network. Blocks.

        Returns a one-line description when a net was (re)loaded; raises
        :class:`NetworkLoadError` / :class:`NetworkMismatchError` with the reason.
        """
        self.wait()
        key = (self.net_path(), self.options["Backend"], self.options["Threads"],
               self.options["MinibatchSize"], self.options["BackendOptions"], self.options["SearchThreads"])
        if self.evaluator is not None and key == self._loaded_key:
            return None
        old, self.evaluator, self._loaded_key = self.evaluator, None, None
        if old is not None:
            old.close()
        ev = OnnxEvaluator(key[0], backend=key[1], threads=key[2], max_batch=max(1, key[3]),
                           backend_options=key[4], callers=key[5])
        if ev.codec.game != self.game:
            ev.close()
            raise NetworkMismatchError(f"{key[0]} is a {ev.codec.game} network; this engine plays {self.game}")
        if self.game in NATIVE_GAMES:  # load the kernels, or start compiling them apart (first start)
            self._kernels = kernels_for("chess" if compiled_leaves(self.game, ev.codec) else "other")
            self._kernels.prepare()
            if self.game == "go":  # the go gatherer's kernels: loaded, or compiled apart meanwhile
                from .search.go_kernels import colour_planes_of, kata_features_of
                if colour_planes_of(ev.codec):
                    kernels_for("go").prepare()
                elif kata_features_of(ev.codec) is not None:
                    kernels_for("katago").prepare()
        self.evaluator, self._loaded_key = ev, key
        self.cache.clear()
        self.tree = None
        return ev.describe()

    def clear(self) -> None:
        """Forget the tree and the cache (``ucinewgame``, ``Clear Hash``). Blocks while searching."""
        self.wait()
        self.tree = None
        self.cache.clear()

    # -- position ---------------------------------------------------------------------------
    def set_position(self, state: GameState, base: object, moves: Sequence[int]) -> None:
        """Set the position: ``state`` is ``base`` (a hashable start description) plus ``moves``.

        Blocks while a search runs (it is stopped first).
        """
        self.stop()
        self.wait()
        self.state = state
        self._base = base
        self._moves = list(moves)

    @property
    def native(self) -> bool:
        """Whether the next search is the compiled one (its kernels are loaded in this process)."""
        return self._kernels is not None and self._kernels.ready

    def _new_cache(self, size: int, native: bool | None = None) -> NativeEvalCache | EvalCache:
        native = self.native if native is None else native
        return NativeEvalCache(size, cache_moves_hint(self.game)) if native else EvalCache(size)

    def _prepare_tree(self, native: bool) -> NativeTree | Tree:
        budget = int(self.options["Hash"]) << 20
        t = self.tree
        if t is not None and isinstance(t, NativeTree) == native and self._tree_base == self._base and \
                self._moves[: len(self._tree_moves)] == self._tree_moves and t.hashfull() < 500:
            if t.reroot(self._moves[len(self._tree_moves):]):
                self._tree_moves = list(self._moves)
                return t
        assert self.evaluator is not None
        self.tree = None  # let the old arrays go before the new ones are taken
        t = NativeTree.for_game(self.game, self.evaluator.codec, budget) if native else Tree(budget)
        self.tree, self._tree_base, self._tree_moves = t, self._base, list(self._moves)
        return t

    # -- searching ----------------------------------------------------------------------------
    def go(self, limits: Limits, on_info: InfoFn, on_done: DoneFn) -> None:
        """Start searching the current position. Must not block."""
        if self.state is None:
            raise EngineError("no position set")
        if self.evaluator is None:
            self.ensure_ready()
        self.wait()
        self._stop.clear()
        self._ponderhit.clear()
        self._answered.clear()
        state = self.state.copy()
        self._thread = threading.Thread(target=self._run, args=(state, limits, on_info, on_done),
                                        name="tabula-search", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the search to end now; ``on_done`` follows shortly. Must not block."""
        self._stop.set()

    def ponderhit(self) -> None:
        """The expected move was played: switch the ponder search to the clock. Must not block."""
        self._ponderhit.set()

    def searching(self) -> bool:
        """Whether a search is running and has not answered yet (a GUI may set options the
        moment ``bestmove`` arrives, while the thread is still exiting)."""
        return self._thread is not None and self._thread.is_alive() and not self._answered.is_set()

    def wait(self) -> None:
        """Block until the running search (if any) has ended."""
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join()

    def _budget(self, limits: Limits, state: GameState) -> Budget | None:
        overhead = float(self.options["Move Overhead"])
        if limits.movetime_ms is not None:
            return movetime_budget(limits.movetime_ms, overhead)
        if limits.time_ms is not None or limits.byoyomi_ms > 0:
            clock = Clock(limits.time_ms or 0.0, limits.inc_ms, limits.moves_to_go, limits.byoyomi_ms)
            mid = MOVES_LEFT_MIDPOINT.get(self.game)
            return allocate(clock, overhead_ms=overhead,
                            moves_left=estimated_moves_left(state.ply, mid) if mid else None)
        return None

    def _time_chain(self, limits: Limits, state: GameState, offset: float) -> tuple[list[Stopper], float]:
        """Stoppers for the clock part of the limits, counted from ``offset`` seconds."""
        budget = self._budget(limits, state)
        if budget is None:
            return [], float("inf")
        return [TimeStopper(offset + budget.soft_ms / 1000.0)], offset + budget.hard_ms / 1000.0

    def _run(self, state: GameState, limits: Limits, on_info: InfoFn, on_done: DoneFn) -> None:
        best: int | None = None
        ponder: int | None = None
        try:
            best, ponder = self._search(state, limits, on_info)
        except Exception as exc:  # keep the engine up: report, then still answer with a legal move
            self.last_error = exc
            log.exception("search failed")
            moves = state.legal_moves()
            best = moves[0] if moves else None
        finally:
            self._answered.set()
            on_done(best, ponder)
            searched, self._searched = self._searched, None
            if isinstance(searched, NativeSearch):  # its threads end within their network call
                searched.join()

    def _search(self, state: GameState, limits: Limits, on_info: InfoFn) -> tuple[int | None, int | None]:
        moves = state.legal_moves()
        waiting = limits.infinite or limits.ponder
        if not moves:
            self._idle_until_released(limits)
            return None, None
        if self.evaluator is None:
            raise EngineError("no network loaded")
        params = SearchParams.from_options(self.options)
        native = self.native  # the kernels may come ready during this search: it keeps its kind
        if native != isinstance(self.cache, NativeEvalCache):
            self.cache = self._new_cache(self.options["NNCacheSize"], native)
        tree = self._prepare_tree(native)
        kind = NativeSearch if native else Search
        search = kind(state, tree, self.evaluator, self.cache, params,  # type: ignore[arg-type]
                      root_moves=limits.searchmoves or None, abort=self._stop)
        self._searched = search
        self._full_told = False
        multipv = int(self.options["MultiPV"])
        stoppers: list[Stopper] = []
        if limits.nodes is not None:
            stoppers.append(NodesStopper(limits.nodes))
        if limits.playouts is not None:
            stoppers.append(PlayoutsStopper(limits.playouts))
        if limits.depth is not None:
            stoppers.append(DepthStopper(limits.depth))
        if limits.mate is not None:
            stoppers.append(MateStopper(limits.mate, lambda: search.lines(1)[0].mate))
        deadline = float("inf")
        if not limits.ponder:
            timed, deadline = self._time_chain(limits, state, 0.0)
            stoppers += timed
        chain = self._chain(stoppers, params, native)
        single = len(moves) == 1 and limits.timed and not waiting
        threaded = native and int(self.options["SearchThreads"]) > 1 and not single
        if threaded:  # the closure reads chain and deadline when called: a ponderhit rebinds both
            search.start_threads(int(self.options["SearchThreads"]),  # type: ignore[union-attr]
                                 lambda st, in_flight: self._room(chain, deadline, st, in_flight),
                                 lambda st: chain.prune_room(st))
        last_info = time.monotonic()
        stop_by_limit = False
        idle_steps = 0
        try:
            while not self._stop.is_set():
                if limits.ponder and self._ponderhit.is_set():
                    limits.ponder = False
                    waiting = limits.infinite
                    timed, deadline = self._time_chain(limits, state, search.stats().elapsed)
                    chain = self._chain(stoppers + timed, params, native)
                s = search.stats()
                if single:
                    break
                if not waiting and chain.should_stop(s):
                    stop_by_limit = True
                    break
                if s.root_proven or (s.tree_full and not native):
                    if not waiting:
                        break
                    # nothing left to search: wait for stop/ponderhit without burning a core,
                    # still reporting (a proven mate shows during `go infinite` analysis)
                    self._stop.wait(0.05)
                    now = time.monotonic()
                    if now - last_info >= limits.info_interval:
                        last_info = now
                        on_info(self._report(search, multipv))
                    continue
                if threaded:
                    search.wait(THREADS_POLL_S, every_batch=False)  # type: ignore[union-attr]
                    idle = search.stalled  # type: ignore[union-attr]
                else:
                    search.root_prune = chain.prune_room(s)
                    idle_steps = self._step(search, params, self._room(chain, deadline, s, search.pending), idle_steps)
                    idle = idle_steps >= 3
                if idle:  # nothing left to expand (e.g. every line ends in a draw)
                    if not waiting:
                        break
                    self._stop.wait(0.05)
                now = time.monotonic()
                if now - last_info >= limits.info_interval:
                    last_info = now
                    on_info(self._report(search, multipv))
        except BaseException:
            search.finish(wait=False)
            raise
        # a nodes limit wants every playout; any other reason ends at once
        search.finish(wait=stop_by_limit and chain.reason == "nodes")
        if waiting and not self._stop.is_set():
            self._idle_until_released(limits)
        on_info(self._report(search, multipv, final=True))
        best = search.best_move()
        ponder = None
        lines = search.lines(1)
        if lines and len(lines[0].pv) > 1:
            ponder = lines[0].pv[1]
        return best, ponder

    @staticmethod
    def _room(chain: Chain, deadline: float, s: SearchStats, in_flight: int) -> float:
        """Playouts the next batch may make: what the limits allow less the leaves in flight,
        and near a hard ``deadline`` a third of what the remaining time is expected to hold."""
        room = chain.remaining_playouts(s) - in_flight
        if deadline != float("inf"):
            per_leaf = s.elapsed / max(s.playouts, 1)
            room = min(room, (deadline - s.elapsed) / max(per_leaf, 1e-5) / 3.0)
        return room

    @staticmethod
    def _step(search: NativeSearch | Search, params: SearchParams, room: float, idle_steps: int) -> int:
        """One batch cycle of the one-thread search, sized by ``room``; the empty cycles in a row."""
        search.batch_limit = int(max(0 if room <= 0 else 1, min(params.minibatch, room)))
        search.remaining_playouts = max(room, 0)
        before = search.stats().playouts
        search.step()
        if search.stats().playouts == before and search.pending == 0:
            return idle_steps + 1
        return 0

    def _chain(self, stoppers: list[Stopper], params: SearchParams, native: bool) -> Chain:
        # a full tree is no reason for NativeSearch to stop: it goes on inside it
        base: list[Stopper] = [*stoppers, ProvenStopper()]
        if not native:  # the reference search stops adding nodes when its tree is full
            base.append(TreeFullStopper())
        if params.smart_pruning > 0:
            base.append(SmartPruningStopper(params.smart_pruning, tuple(stoppers)))
        return Chain(base)

    def _idle_until_released(self, limits: Limits) -> None:
        """In ``infinite``/``ponder`` mode the answer waits for ``stop`` (or ``ponderhit``)."""
        if not (limits.infinite or limits.ponder):
            return
        while not self._stop.is_set():
            if limits.ponder and not limits.infinite and self._ponderhit.is_set():
                return
            self._stop.wait(0.02)

    def _report(self, search: NativeSearch | Search, multipv: int, final: bool = False) -> Report:
        verbose = final and bool(self.options["VerboseMoveStats"])
        stats = search.stats()
        notice = None
        native = isinstance(search, NativeSearch)
        if not native and self._kernels is not None and not self._told_compiling:
            self._told_compiling = True
            notice = ("compiling the search kernels (first start after an install or update); "
                      "searching with the reference search, same results, slower, until they are ready")
        elif stats.tree_full and not self._full_told:
            self._full_told = True
            tree = search.tree
            notice = (f"search tree full ({tree.num_nodes} nodes, Hash {int(self.options['Hash'])} MB): "
                      + ("searching on inside it" if native else "search stopped")
                      + "; a larger Hash lets it grow")
        return Report(stats, search.lines(multipv), search.tree.hashfull(), final,
                      search.root_score(), search.ownership(), search.move_stats() if verbose else None, notice)

    # -- helpers for front ends ------------------------------------------------------------------
    def describe_error(self, exc: Exception) -> str:
        """One line for an error the front end reports (net problems, bad options)."""
        if isinstance(exc, (NetworkLoadError, NetworkMismatchError, OptionError, EngineError)):
            return str(exc)
        return f"{type(exc).__name__}: {exc}"
