"""Nodes-per-second benchmark: the full search against the network alone, per batch size.

For every minibatch size the benchmark measures, in the same run and process:

* **nps** — playouts per second of the real search — the engine's own: the compiled
  :class:`engine.search.native.NativeSearch` for the games the controller runs it on, else the
  Python reference :class:`engine.search.mcts.Search` (``search=`` / ``--search`` picks) —
  over a fixed position set (``bench/data/<game>.txt``), a fresh tree per position and
  the eval cache disabled, so every non-terminal leaf is a real network evaluation;
* **ceiling** — evaluations per second of the network alone, ``OnnxEvaluator.run`` on a
  full batch of encoded positions, repeated (half measured before the searches, half
  after, so slow drift of a shared machine cancels), by as many concurrent callers as
  the search has threads;
* **fraction** = nps / ceiling — how much of the network's throughput the search keeps;
* **ceiling_at_mean_batch**, **fraction_at_mean_batch** — the same against the network
  alone at the batch size the search really sent (``mean_batch``; collisions keep it below
  the limit at large sizes, and a net can be faster per position at the smaller size);
  measured only when the two sizes differ by over 10 %, else equal to the above;
* **overhead_us_per_node** = ``(1/nps − 1/ceiling) · 1e6`` — wall time per node that the
  search adds on top of the network's own cost per evaluation (0 when the search work is
  fully hidden behind the network; it can come out slightly negative in noise);
* **search_cpu_us_per_node** — CPU time of the search thread per playout
  (``time.thread_time``; the network runs on the evaluator's worker thread and is not in
  it). While this stays below the network's time per evaluation the two overlap fully;
* **net_wait_fraction** — the share of the search thread's wall time spent waiting for
  the network (high: network-bound, as it should be; low: the search is the bottleneck);
* **net_busy_fraction** — the share of the search's wall time the network was running a
  batch (1 − this is the network left idle, waiting for the search to hand it work);
  **net_us_per_eval_in_search** — the network's time per evaluation inside the search, to
  set against ``1e6 / ceiling``; **net_cpu_fraction** — the network thread's CPU time over
  its wall time (with ``threads=1`` well under 1 means the OS gave the net less than a core:
  a shared machine); **mean_batch** — positions per network call the search really sent;
  **tree_bytes_per_node** — the compiled tree's bytes (node records and edges) per expanded
  node at the end of the searches (None for the Python reference).

With ``search_threads`` above 1 (``--search-threads N``) the compiled search runs on N search
threads (engine/search/workers.py), each calling the network itself, several batches at once;
then ``search_cpu_us_per_node`` is the CPU time of those threads (and the driving one) less their
time inside the network, and ``net_busy_fraction`` sums the threads' network time (it may pass 1).

``backend="trivial"`` (``--backend trivial``) puts :class:`engine.evaluator.TrivialEvaluator`
in the network's place: uniform priors and a fixed value, answered at once, so ``nps`` and
``search_cpu_us_per_node`` measure the search alone.

The search's batches run on a worker thread of the benchmark's own that does what
``OnnxEvaluator.submit`` does (one thread, the same ``run`` call) and also times each call.
Python ≥ 3.12 note: cProfile (``--profile``) then sees every thread, not only the search.

>>> results = run_bench("net.onnx", game="chess", batches=[16, 64], seconds=1.0)  # doctest: +SKIP
>>> print(format_table(results))                                                   # doctest: +SKIP
"""

from __future__ import annotations

import cProfile
import io
import math
import os
import platform
import pstats
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from tabula.engine.codecs.base import Codec
from tabula.engine.controller import NATIVE_GAMES
from tabula.engine.evaluator import Batch, EvalCache, OnnxEvaluator, TrivialEvaluator, default_threads
from tabula.engine.games.base import GameState
from tabula.engine.search.mcts import Search, SearchStats
from tabula.engine.search.native import NativeSearch, NativeTree, compiled_leaves, warm_up
from tabula.engine.search.nncache import NativeEvalCache
from tabula.engine.search.params import SearchParams
from tabula.engine.search.tree import Tree

DATA = Path(__file__).resolve().parent / "data"
GAMES = ("chess", "shogi", "go")
DEFAULT_BATCHES = (16, 32, 64, 128, 256)
#: the searches ``search=`` names: the compiled one and the Python reference
SEARCHES = ("native", "python")
#: bytes of tree a bench search may take (the engine's default Hash)
TREE_BYTES = 256 << 20

#: progress callback: (steps done, steps in all, what is running now)
ProgressFn = Callable[[int, int, str], None]

_BACKEND_OF_PROVIDER = {
    "CPUExecutionProvider": "cpu",
    "CUDAExecutionProvider": "cuda",
    "TensorrtExecutionProvider": "tensorrt",
    "trivial": "trivial",
}


# -- position sets ---------------------------------------------------------------------------
def data_file(game: str, board_size: int | None = None) -> Path:
    """The shipped position file for a game (go: one file per board size)."""
    if game == "go":
        return DATA / f"go{board_size or 19}.txt"
    return DATA / f"{game}.txt"


def parse_position(game: str, spec: str) -> GameState:
    """One position line: ``startpos|fen F|sfen S [moves …]`` (chess, shogi) or
    ``size N komi K [moves …]`` (go, GTP vertices alternating from Black).

    >>> parse_position("chess", "startpos moves e2e4").ply
    1
    """
    spec = spec.split("#", 1)[0].strip()
    tokens = spec.split()
    if not tokens:
        raise ValueError("empty position line")
    moves: list[str] = []
    if "moves" in tokens:
        i = tokens.index("moves")
        tokens, moves = tokens[:i], tokens[i + 1:]
    if game == "go":
        from tabula.engine.games.go import GoState

        kv = dict(zip(tokens[::2], tokens[1::2]))
        return GoState.from_moves(int(kv.get("size", 19)), float(kv.get("komi", 7.5)), moves)
    if game == "chess":
        from tabula.engine.games.chess_game import ChessState as cls
        head = "fen"
    elif game == "shogi":
        from tabula.engine.games.shogi_game import ShogiState as cls  # type: ignore[assignment]
        head = "sfen"
    else:
        raise ValueError(f"unknown game {game!r}; choose one of {', '.join(GAMES)}")
    if tokens[0] == "startpos":
        state = cls()
    elif tokens[0] == head:
        state = cls(" ".join(tokens[1:]))
    else:
        raise ValueError(f"{game} position must start with 'startpos' or '{head}': {spec!r}")
    for m in moves:
        state.push(state.parse_move(m))
    return state


def load_positions(game: str, path: str | Path | None = None, board_size: int | None = None) -> list[str]:
    """Position lines of a set (comments and blank lines dropped), each checked by parsing it."""
    p = Path(path) if path else data_file(game, board_size)
    if not p.is_file():
        raise FileNotFoundError(f"no position set for {game}: {p}")
    lines = [ln.strip() for ln in p.read_text().splitlines()]
    specs = [ln for ln in lines if ln and not ln.startswith("#")]
    for s in specs:
        parse_position(game, s)
    if not specs:
        raise ValueError(f"{p} holds no positions")
    return specs


# -- results ---------------------------------------------------------------------------------
@dataclass
class BenchResult:
    """One configuration (game, net, backend, batch); the fields ``--json`` writes."""

    game: str
    backend: str
    net: str
    batch: int
    threads: int
    provider: str
    device: str
    positions: int
    seconds_per_position: float | None
    nodes_per_position: int | None
    playouts: int
    net_positions: int
    search_seconds: float
    nps: float
    net_evals_per_s: float
    mean_batch: float
    ceiling_evals_per_s: float
    fraction: float
    ceiling_at_mean_batch: float
    fraction_at_mean_batch: float
    overhead_us_per_node: float
    search_cpu_us_per_node: float
    net_wait_fraction: float
    net_busy_fraction: float
    net_cpu_fraction: float
    net_us_per_eval_in_search: float
    search: str = "native"
    tree_bytes_per_node: float | None = None
    search_threads: int = 1
    profile: str | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        """A plain dict (``profile`` left out unless one was taken)."""
        d = asdict(self)
        if d["profile"] is None:
            d.pop("profile")
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def describe_device(provider: str) -> str:
    """The machine the net runs on, in words: CPU model (and cores) or GPU name."""
    if provider in ("CUDAExecutionProvider", "TensorrtExecutionProvider"):
        try:
            import subprocess

            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10)
            name = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else ""
            if name:
                return name
        except Exception:  # noqa: BLE001 - purely informational
            pass
        return "GPU"
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} cores)"


# -- measurements ----------------------------------------------------------------------------
def measure_ceiling(ev: OnnxEvaluator, states: Sequence[GameState], batch: int, seconds: float,
                    min_runs: int = 3, callers: int = 1) -> tuple[int, float]:
    """Run the network alone on a full batch until ``seconds`` pass (and ``min_runs`` runs).

    ``callers`` threads run it at once, each on its own batch, as that many search threads
    do (onnxruntime runs concurrent calls of one session side by side). Returns
    (evaluations, seconds). Each batch holds the positions repeated cyclically.
    """
    def new_buf():
        # on a GPU the evaluator runs its full batch anyway: fill a full-size one (no staging copy)
        buf = ev.new_batch(max(batch, ev.max_batch) if getattr(ev, "padded", False) else batch)
        for row in range(batch):
            ev.codec.encode(states[row % len(states)], buf.inputs, row)
        ev.run(buf, batch)  # warm-up: first run of a shape allocates
        return buf

    bufs = [new_buf() for _ in range(max(1, callers))]
    runs = [0] * len(bufs)
    t0 = time.perf_counter()

    def loop(i: int) -> None:
        while True:
            ev.run(bufs[i], batch)
            runs[i] += 1
            if runs[i] >= min_runs and time.perf_counter() - t0 >= seconds:
                return

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(1, len(bufs))]
    for t in threads:
        t.start()
    loop(0)
    for t in threads:
        t.join()
    return sum(runs) * batch, time.perf_counter() - t0


@dataclass
class SearchRun:
    """What one search on one position did."""

    playouts: int
    net_positions: int
    net_batches: int
    wall: float
    cpu: float
    net_wait: float
    net_busy: float = 0.0
    net_cpu: float = 0.0
    tree_bytes: int = 0        #: compiled tree only: bytes in use at the end
    expanded: int = 0          #: compiled tree only: expanded nodes at the end


class _TimedEvaluator:
    """An :class:`~tabula.engine.evaluator_api.Evaluator` around another for one bench run: the
    same net and codec, but the batches a search submits run on this object's own worker
    thread, which counts them and times each network call (wall and thread CPU), so the report
    can tell idle network gaps from a slow network. ``run`` (the search threads' calls, and the
    root's evaluation, which :func:`search_position` leaves out) is counted and timed the same way."""

    def __init__(self, ev: OnnxEvaluator | TrivialEvaluator) -> None:
        self._ev = ev
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tabula-bench-net")
        self._lock = threading.Lock()
        self.batches = 0
        self.net_wall = 0.0
        self.net_cpu = 0.0

    @property
    def codec(self) -> Codec:
        """The wrapped evaluator's codec."""
        return self._ev.codec

    @property
    def max_batch(self) -> int:
        """The wrapped evaluator's largest batch."""
        return self._ev.max_batch

    def new_batch(self, capacity: int | None = None) -> Batch:
        """The wrapped evaluator's input buffers."""
        return self._ev.new_batch(capacity)

    def run(self, batch: Batch, n: int) -> dict[str, np.ndarray]:
        """The wrapped evaluator's answer, on the calling thread (counted and timed)."""
        with self._lock:
            self.batches += 1
        return self._timed_run(batch, n)

    def _timed_run(self, batch: Batch, n: int) -> dict[str, np.ndarray]:
        t0, c0 = time.perf_counter(), time.thread_time()
        out = self._ev.run(batch, n)
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        with self._lock:
            self.net_wall += wall
            self.net_cpu += cpu
        return out

    def warmup(self) -> None:
        """On a GPU, run the fixed batch shape once on this object's worker thread."""
        if self._ev.padded:
            self._pool.submit(self._ev.warm_up_here).result()

    def counters(self) -> tuple[int, float, float]:
        """(batches, network wall seconds, network CPU seconds) so far."""
        return self.batches, self.net_wall, self.net_cpu

    def submit(self, batch: Batch, n: int) -> "Future[dict[str, np.ndarray]]":
        """Queue the first ``n`` rows on the worker thread (as :meth:`OnnxEvaluator.submit`), timed."""
        with self._lock:
            self.batches += 1
        return self._pool.submit(self._timed_run, batch, n)

    def close(self) -> None:
        """Stop this object's worker thread (the wrapped evaluator stays open)."""
        self._pool.shutdown(wait=True)

    def describe(self) -> str:
        """The wrapped evaluator's line."""
        return self._ev.describe()


def default_search(game: str) -> str:
    """The search the engine runs for ``game``: ``native`` (compiled) or ``python`` (reference)."""
    return "native" if game in NATIVE_GAMES else "python"


def search_position(ev: OnnxEvaluator | TrivialEvaluator, state: GameState, batch: int, *,
                    seconds: float | None = None, nodes: int | None = None, profiler: cProfile.Profile | None = None,
                    timed: _TimedEvaluator | None = None, search: str | None = None,
                    search_threads: int = 1) -> SearchRun:
    """Search ``state`` on a fresh tree with the eval cache off until the time or node limit.

    The root's own evaluation (batch of one, in the constructor) is outside the timing.
    ``timed`` lets successive positions share one network thread, as a game does; ``search``
    picks the compiled search or the Python reference (default: the engine's for the game);
    ``search_threads`` above 1 runs the compiled search on that many threads.
    """
    if seconds is None and nodes is None:
        raise ValueError("give seconds or nodes")
    own = timed is None
    if timed is None:
        timed = _TimedEvaluator(ev)
    kind = search or default_search(state.game)
    if kind not in SEARCHES:
        raise ValueError(f"unknown search {kind!r}; choose one of {', '.join(SEARCHES)}")
    if search_threads > 1 and kind != "native":
        raise ValueError("several search threads need the compiled search (--search native)")
    params = SearchParams(minibatch=batch)
    tree: NativeTree | Tree
    run: NativeSearch | Search
    if kind == "native":
        tree = NativeTree.for_game(state.game, ev.codec, TREE_BYTES)
        run = NativeSearch(state, tree, timed, NativeEvalCache(0), params)
    else:
        tree = Tree(TREE_BYTES)
        run = Search(state, tree, timed, EvalCache(0), params)
    b0, w0, c0_net = timed.counters()
    if profiler is not None:
        profiler.enable()
    c0 = time.thread_time()
    t0 = time.perf_counter()
    try:
        if search_threads > 1:
            _drive_threads(run, search_threads, t0, seconds, nodes)  # type: ignore[arg-type]
        else:
            _drive(run, t0, seconds, nodes)
        run.finish(wait=True)
    finally:
        wall = time.perf_counter() - t0
        cpu = time.thread_time() - c0
        if profiler is not None:
            profiler.disable()
        if own:
            timed.close()
    s = run.stats()
    b1, w1, c1_net = timed.counters()
    if search_threads > 1:  # the search threads' CPU, less their time in the network
        cpu += run.thread_cpu_seconds - (c1_net - c0_net)  # type: ignore[union-attr]
    native = isinstance(tree, NativeTree)
    return SearchRun(s.playouts, s.net_positions, b1 - b0, wall, cpu, run.eval_seconds,
                     w1 - w0, c1_net - c0_net, tree.bytes_used() if native else 0,
                     tree.expanded_nodes() if native else 0)


def _over(s: SearchStats, t0: float, seconds: float | None, nodes: int | None) -> bool:
    """Whether a bench search is done: its limit reached, the root proven or the tree full."""
    timed_out = seconds is not None and time.perf_counter() - t0 >= seconds
    return (nodes is not None and s.playouts >= nodes) or timed_out or s.root_proven or s.tree_full


def _drive(run: NativeSearch | Search, t0: float, seconds: float | None, nodes: int | None) -> None:
    """The one-thread search: batch cycles until the limit (or nothing is left to expand)."""
    idle = 0
    s = run.stats()  # one read a batch: the object is the search's own, rewritten by each stats()
    while not _over(s, t0, seconds, nodes):
        before = s.playouts
        run.step()
        s = run.stats()
        if s.playouts == before and run.pending == 0:
            idle += 1
            if idle >= 3:  # nothing left to expand (every line ends in a proven result)
                return
        else:
            idle = 0


def _drive_threads(run: NativeSearch, threads: int, t0: float, seconds: float | None, nodes: int | None) -> None:
    """``threads`` search threads until the limit (or nothing is left to expand); exact at ``nodes``."""
    limit = float("inf") if nodes is None else float(nodes)
    run.start_threads(threads, lambda s, in_flight: limit - s.playouts - in_flight)
    while not _over(run.stats(), t0, seconds, nodes) and not run.stalled:
        run.wait(0.002)


def profile_text(profiler: cProfile.Profile, top: int = 25) -> str:
    """The ``top`` functions by own time, then by cumulative time, as pstats prints them.

    Up to Python 3.11 cProfile sees the search thread alone (waiting for the network shows
    as ``acquire``/``result``); from 3.12 on it sees every thread, so the network worker's
    ``run`` appears too.
    """
    out = io.StringIO()
    st = pstats.Stats(profiler, stream=out)
    st.strip_dirs().sort_stats("tottime").print_stats(top)
    st.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def run_bench(net: str | Path, *, game: str = "chess", backend: str = "auto",
              batches: Sequence[int] = DEFAULT_BATCHES, threads: int | None = None,
              seconds: float | None = 1.0, nodes: int | None = None,
              ceiling_seconds: float | None = None, positions: str | Path | None = None,
              max_positions: int | None = None, profile: bool = False, profile_top: int = 25,
              progress: ProgressFn | None = None, backend_options: str = "",
              search: str | None = None, search_threads: int = 1) -> list[BenchResult]:
    """Measure every batch size; see the module docstring for what each number means.

    ``search``: ``native`` or ``python`` (default: the one the engine runs for ``game``);
    ``search_threads``: search threads of the compiled search (each calls the network itself);
    ``backend="trivial"``: no network (TrivialEvaluator), the search alone.
    ``seconds`` / ``nodes`` bound each position's search (whichever comes first);
    ``ceiling_seconds`` is the time of the network-alone run (default: twice ``seconds``,
    at least 0.2 s). With ``profile`` an extra search pass per batch runs under cProfile
    (outside the timed pass) and its top functions land in ``BenchResult.profile``.
    """
    if game not in GAMES:
        raise ValueError(f"unknown game {game!r}; choose one of {', '.join(GAMES)}")
    batches = [int(b) for b in batches]
    if not batches or min(batches) < 1:
        raise ValueError("batch sizes must be positive integers")
    threads = threads or default_threads()
    search = search or default_search(game)
    if search not in SEARCHES:
        raise ValueError(f"unknown search {search!r}; choose one of {', '.join(SEARCHES)}")
    ev: OnnxEvaluator | TrivialEvaluator
    if backend == "trivial":
        ev = TrivialEvaluator(net, max_batch=max(batches))
    else:
        ev = OnnxEvaluator(net, backend=backend, threads=threads, max_batch=max(batches),
                           backend_options=backend_options, callers=search_threads)
    try:
        if ev.codec.game != game:
            raise ValueError(f"{net} is a {ev.codec.game} network, not a {game} one")
        board = None
        if game == "go":
            board = int(next(iter(ev.codec.input_shapes.values()))[-1])
        specs = load_positions(game, positions, board)
        if max_positions:
            specs = specs[:max_positions]
        if ceiling_seconds is None:
            ceiling_seconds = max(0.2, 2.0 * (seconds if seconds is not None else 0.5))
        if search == "native":  # compile (or load) the kernels before anything is timed
            warm_up(compiled_leaves(game, ev.codec))
        provider = ev.providers[0]
        device = describe_device(provider)
        states = [parse_position(game, s) for s in specs]
        per_batch = len(specs) * (2 if profile else 1) + 2
        total, done = per_batch * len(batches), 0
        results = []
        for b in batches:
            def tick(label: str) -> None:
                nonlocal done
                done += 1
                if progress:
                    progress(done, total, label)

            # on a GPU every call runs at the evaluator's full batch: one evaluator per size, as in a game
            bev = ev if not ev.padded or b == ev.max_batch else OnnxEvaluator(  # type: ignore[union-attr]
                net, backend=backend, threads=threads, max_batch=b, backend_options=backend_options,
                callers=search_threads)
            def ceiling(batch: int) -> tuple[int, float]:
                """The network-alone rate at ``batch``, with one caller per search thread."""
                return measure_ceiling(bev, states, batch, ceiling_seconds / 2, callers=search_threads)

            try:
                n1, t1 = ceiling(b)
                tick(f"batch {b}: network alone")
                runs = []
                timed = _TimedEvaluator(bev)  # one network thread for all positions, as in a game
                try:
                    timed.warmup()
                    for i, spec in enumerate(specs):
                        runs.append(search_position(bev, parse_position(game, spec), b, seconds=seconds, nodes=nodes,
                                                    timed=timed, search=search, search_threads=search_threads))
                        tick(f"batch {b}: search {i + 1}/{len(specs)}")
                finally:
                    timed.close()
                n2, t2 = ceiling(b)
                tick(f"batch {b}: network alone")
                sent = sum(r.net_positions for r in runs) / max(1, sum(r.net_batches for r in runs))
                at_mean = None
                if sent > 0 and abs(sent - b) > 0.1 * b:  # collisions kept the batches smaller: compare like with like
                    nm, tm = ceiling(max(1, round(sent)))
                    at_mean = nm / tm
                prof_text = None
                if profile:
                    prof = cProfile.Profile()
                    for i, spec in enumerate(specs):
                        search_position(bev, parse_position(game, spec), b, seconds=seconds, nodes=nodes,
                                        profiler=prof, search=search, search_threads=search_threads)
                        tick(f"batch {b}: profiled search {i + 1}/{len(specs)}")
                    prof_text = profile_text(prof, profile_top)
                results.append(_summarise(
                    runs, (n1 + n2) / (t1 + t2), at_mean, game=game,
                    backend=_BACKEND_OF_PROVIDER.get(provider, backend), net=str(net), batch=b, threads=threads,
                    provider=provider, device=device, positions=len(specs), seconds_per_position=seconds,
                    nodes_per_position=nodes, search=search, profile=prof_text, search_threads=search_threads))
            finally:
                if bev is not ev:
                    bev.close()
        return results
    finally:
        ev.close()


def _summarise(runs: Sequence[SearchRun], ceiling: float, ceiling_at_mean: float | None,
               **fields) -> BenchResult:  # noqa: ANN003
    """One :class:`BenchResult` from the per-position runs of a batch size and its ceilings."""
    playouts = sum(r.playouts for r in runs)
    evals = sum(r.net_positions for r in runs)
    wall = sum(r.wall for r in runs)
    busy = sum(r.net_busy for r in runs)
    nps = playouts / wall if wall > 0 else 0.0
    return BenchResult(
        **fields, playouts=playouts, net_positions=evals, search_seconds=round(wall, 4), nps=round(nps, 1),
        net_evals_per_s=round(evals / wall, 1) if wall > 0 else 0.0,
        mean_batch=round(evals / max(1, sum(r.net_batches for r in runs)), 1),
        ceiling_evals_per_s=round(ceiling, 1),
        fraction=round(nps / ceiling, 4) if ceiling > 0 else 0.0,
        ceiling_at_mean_batch=round(ceiling_at_mean if ceiling_at_mean else ceiling, 1),
        fraction_at_mean_batch=round(nps / (ceiling_at_mean or ceiling), 4) if (ceiling_at_mean or ceiling) > 0
        else 0.0,
        overhead_us_per_node=round((1.0 / nps - 1.0 / ceiling) * 1e6, 2) if nps > 0 and ceiling > 0 else math.inf,
        search_cpu_us_per_node=round(sum(r.cpu for r in runs) / max(playouts, 1) * 1e6, 2),
        net_wait_fraction=round(sum(r.net_wait for r in runs) / wall, 4) if wall > 0 else 0.0,
        net_busy_fraction=round(busy / wall, 4) if wall > 0 else 0.0,
        net_cpu_fraction=round(sum(r.net_cpu for r in runs) / busy, 4) if busy > 0 else 0.0,
        net_us_per_eval_in_search=round(busy / max(1, evals) * 1e6, 1),
        tree_bytes_per_node=round(sum(r.tree_bytes for r in runs) / max(1, sum(r.expanded for r in runs)), 1)
        if any(r.expanded for r in runs) else None)


# -- output ----------------------------------------------------------------------------------
def format_table(results: Sequence[BenchResult]) -> str:
    """A table for people: one row per batch size, plus a header naming net and device."""
    if not results:
        return "(no results)"
    r0 = results[0]
    limit = (f"{r0.seconds_per_position:g} s" if r0.seconds_per_position is not None else "") + \
        (f"{' / ' if r0.seconds_per_position is not None else ''}{r0.nodes_per_position} nodes"
         if r0.nodes_per_position else "")
    tree = f", {r0.tree_bytes_per_node:g} tree bytes per expanded node" if r0.tree_bytes_per_node else ""
    head = (f"{r0.game} · {Path(r0.net).name} · {r0.provider} · {r0.threads} net thread(s) · {r0.device}\n"
            f"{r0.positions} positions, {limit} each, fresh tree, eval cache off, {r0.search} search"
            f" on {r0.search_threads} thread(s){tree}\n")
    cols = ("batch", "mean batch", "nps", "ceiling/s", "fraction", "@mean batch", "overhead µs/node",
            "search CPU µs/node", "net busy", "net wait")
    rows = [cols]
    for r in results:
        rows.append((str(r.batch), f"{r.mean_batch:.1f}", f"{r.nps:,.0f}", f"{r.ceiling_evals_per_s:,.0f}",
                     f"{100 * r.fraction:.1f}%", f"{100 * r.fraction_at_mean_batch:.1f}%",
                     f"{r.overhead_us_per_node:,.1f}", f"{r.search_cpu_us_per_node:,.1f}",
                     f"{100 * r.net_busy_fraction:.0f}%", f"{100 * r.net_wait_fraction:.0f}%"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    best = max(results, key=lambda r: r.fraction)
    return head + "\n".join(lines) + f"\nbest fraction {100 * best.fraction:.1f}% at batch {best.batch}"


def plot(results: Sequence[BenchResult], path: str | Path) -> Path:
    """nps and ceiling against batch size (log-2 axis), written as an image.

    Needs matplotlib, which Tabula does not depend on: ``pip install matplotlib``.
    """
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("--plot needs matplotlib, which is not installed: "
                           "pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r.batch for r in results]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.plot(xs, [r.ceiling_evals_per_s for r in results], "s--", label="network alone (ceiling)")
    ax.plot(xs, [r.nps for r in results], "o-", label="search nps")
    for r in results:
        ax.annotate(f"{100 * r.fraction:.0f}%", (r.batch, r.nps), textcoords="offset points", xytext=(0, -14),
                    ha="center", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("minibatch size")
    ax.set_ylabel("positions per second")
    r0 = results[0]
    ax.set_title(f"{r0.game} · {Path(r0.net).name} · {r0.provider.replace('ExecutionProvider', '')}"
                 f" · {r0.threads} thread(s)", fontsize=10)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
