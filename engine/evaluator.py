"""Network evaluation: one onnxruntime session, preallocated batch buffers, a result cache.

The flow is lc0's backend flow: a search fills rows of a :class:`Batch`'s input
buffers through the codec, then :meth:`OnnxEvaluator.submit` runs it on the
evaluator's own worker thread (onnxruntime releases the GIL), so the search can
gather the next batch while the network runs. Two batches alternate. With several search
threads (the ``SearchThreads`` option) each thread calls :meth:`OnnxEvaluator.run` itself:
one session runs their batches at the same time (``session.run`` is thread-safe).

>>> ev = OnnxEvaluator("net.onnx", backend="cpu")      # doctest: +SKIP
>>> b = ev.new_batch(); ev.codec.encode(state, b.inputs, 0)
>>> outputs = ev.submit(b, 1).result()
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .codecs import codec_for
from .codecs.base import Codec, NetSignature
from .evaluator_api import Batch, Evaluator, zero_batch  # noqa: F401 - Evaluator: re-exported

BACKENDS = ("auto", "cpu", "cuda", "tensorrt")
_PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}


class NetworkLoadError(RuntimeError):
    """The network file is missing, unreadable, not ONNX, or the backend is unavailable."""


def default_threads() -> int:
    """CPU threads for the net (the ``Threads`` option): every core. The compiled search needs
    a sliver of one (about 6 % of a core per 2,000 nodes/s in chess), so leaving it a whole core,
    as this default did before the search was compiled, left that core mostly idle; the README's
    "Search threads" section has the figures."""
    return max(1, os.cpu_count() or 2)


def default_search_threads() -> int:
    """Search threads on one tree (the ``SearchThreads`` option): two where there are two cores,
    so two batches are in the network at once: on the 2-core dev machine +30 % network throughput
    alone and +12–50 % search nps over one thread; against lc0, 0.74× became 0.97× (README,
    "Search threads")."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def intra_op_threads(threads: int, callers: int) -> int:
    """onnxruntime's intra-op pool size for ``threads`` network threads in all when ``callers``
    search threads call the session at once: each caller works in its own ``run`` and the pool
    adds ``threads − callers`` helpers, so one caller gets all ``threads`` and e.g. two callers on
    two threads run one-threaded each, side by side.

    >>> intra_op_threads(2, 1), intra_op_threads(2, 2), intra_op_threads(8, 2)
    (2, 1, 7)
    """
    return max(1, int(threads) - max(1, int(callers)) + 1)


def available_providers() -> list[str]:
    """Execution providers this onnxruntime build offers."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


def parse_backend_options(text: str) -> dict[str, str]:
    """``key=value,key=value`` → dict, for a GPU provider's options (as lc0's ``--backend-opts``).

    >>> parse_backend_options("trt_fp16_enable=True, cudnn_conv_algo_search=HEURISTIC")
    {'trt_fp16_enable': 'True', 'cudnn_conv_algo_search': 'HEURISTIC'}
    """
    out: dict[str, str] = {}
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise NetworkLoadError(f"backend option {item!r} is not key=value "
                                   f"(e.g. cudnn_conv_algo_search=HEURISTIC,trt_fp16_enable=True)")
        out[key.strip()] = value.strip()
    return out


def with_options(providers: list[str], options: dict[str, str]) -> list:
    """``providers`` with ``options`` given to the first one when it is a GPU provider.

    The CPU provider takes none (its threads are the Threads option), so there they are ignored.
    """
    if not options or providers[0] == "CPUExecutionProvider":
        return list(providers)
    return [(providers[0], dict(options)), *providers[1:]]


def pick_providers(backend: str) -> list[str]:
    """Provider list for a backend name; ``auto`` takes the best available."""
    have = available_providers()
    if backend == "auto":
        order = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
        # TensorRT builds engines for minutes on first use: auto prefers CUDA when both exist
        if "CUDAExecutionProvider" in have:
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        return [p for p in order if p in have][:1] or ["CPUExecutionProvider"]
    if backend not in _PROVIDERS:
        raise NetworkLoadError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    want = _PROVIDERS[backend]
    if want not in have:
        raise NetworkLoadError(
            f"backend {backend!r} needs {want}, which this onnxruntime does not have "
            f"(available: {', '.join(have)}); install onnxruntime-gpu for cuda/tensorrt")
    return [want] if want == "CPUExecutionProvider" else [want, "CPUExecutionProvider"]


def read_signature(path: str | Path) -> NetSignature:
    """Read names, shapes and metadata of an ONNX file without building a session for it."""
    session = _open_session(path, ["CPUExecutionProvider"], threads=1)
    return _signature(path, session)


def _open_session(path: str | Path, providers: list, threads: int, spin: bool = False):
    import onnxruntime as ort

    p = Path(path)
    if not p.is_file():
        raise NetworkLoadError(f"network file not found: {p}")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # a spinning pool steals the core the search thread needs between calls
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    so.log_severity_level = 3
    try:
        return ort.InferenceSession(str(p), sess_options=so, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception classes
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NetworkLoadError(f"cannot load {p} as an ONNX network: {first}") from None


def _signature(path: str | Path, session) -> NetSignature:
    meta = session.get_modelmeta().custom_metadata_map or {}
    return NetSignature(
        path=str(path),
        inputs={i.name: tuple(i.shape) for i in session.get_inputs()},
        outputs={o.name: tuple(o.shape) for o in session.get_outputs()},
        metadata=dict(meta),
    )


class OnnxEvaluator:
    """An onnxruntime session for one net, with its codec and a worker thread (an :class:`Evaluator`).

    ``submit`` must not block the caller; ``result()`` on the returned future blocks.
    """

    def __init__(self, path: str | Path, *, backend: str = "auto", threads: int | None = None,
                 max_batch: int = 256, spin: bool = False, backend_options: str = "", callers: int = 1) -> None:
        self.path = str(path)
        self.backend = backend
        self.threads = threads or default_threads()
        #: search threads that call :meth:`run` at the same time (the pool is sized for them)
        self.callers = max(1, int(callers))
        providers = with_options(pick_providers(backend), parse_backend_options(backend_options))
        self.session = _open_session(path, providers, intra_op_threads(self.threads, self.callers), spin)
        self.signature = _signature(path, self.session)
        self.codec: Codec = codec_for(self.signature)
        self.max_batch = max_batch
        self.providers = self.session.get_providers()
        self._outputs = self.codec.output_names
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tabula-net")
        #: On a GPU every batch runs at one fixed size, ``max_batch`` rows. The CUDA provider
        #: stalls for 0.5–1.5 s whenever the input shape differs from the previous run's — even a
        #: shape it has seen before (measured on an H100, onnxruntime-gpu 1.31) — which is far
        #: more than the padding rows cost. The shape is run once now, at load time.
        self.padded = self.providers[0] != "CPUExecutionProvider"
        #: per calling thread: the full-size batch a smaller one is copied into on a GPU
        self._local = threading.local()
        if self.padded:
            self.warmup()

    def new_batch(self, capacity: int | None = None) -> Batch:
        """Zeroed input buffers shaped as the codec asks."""
        return zero_batch(self.codec, capacity or self.max_batch)

    def run(self, batch: Batch, n: int) -> dict[str, np.ndarray]:
        """Evaluate the first ``n`` rows now (blocks; releases the GIL while the net runs).

        On a GPU the net sees ``max_batch`` rows: the rows past ``n`` hold stale inputs and
        their outputs are dropped; a smaller batch is first copied into a full-size one (one
        per calling thread, so several search threads may call this at once).
        """
        if self.padded and n <= self.max_batch:
            if batch.capacity != self.max_batch:
                stage = getattr(self._local, "stage", None)
                if stage is None:
                    stage = self._local.stage = self.new_batch(self.max_batch)
                for name, buf in batch.inputs.items():
                    stage.inputs[name][:n] = buf[:n]
                batch = stage
            m = self.max_batch
        else:
            m = n
        feeds = {name: buf[:m] for name, buf in batch.inputs.items()}
        values = self.session.run(self._outputs, feeds)
        return {k: v[:n] for k, v in zip(self._outputs, values)}

    def warm_up_here(self) -> None:
        """Run the fixed GPU batch shape once on the calling thread (kernel tuning, allocations)."""
        self.run(self.new_batch(self.max_batch), self.max_batch)

    def warmup(self) -> None:
        """Tune the fixed batch shape now, on the worker thread that will run the batches."""
        self._pool.submit(self.warm_up_here).result()

    def submit(self, batch: Batch, n: int) -> "Future[dict[str, np.ndarray]]":
        """Queue the first ``n`` rows on the worker thread. Must not block."""
        return self._pool.submit(self.run, batch, n)

    def close(self) -> None:
        """Stop the worker thread (waits for a batch in flight)."""
        self._pool.shutdown(wait=True)

    def describe(self) -> str:
        """One line for ``info string``: file, codec, provider."""
        callers = f", {self.callers} search threads calling it" if self.callers > 1 else ""
        return (f"{Path(self.path).name}: codec {self.codec.name}, {self.providers[0]}, "
                f"{self.threads} thread(s){callers}")


class TrivialEvaluator:
    """Stands in for the network: answers every batch at once with uniform priors (policy
    logits all 0) and a fixed value — the net's own outputs on an all-zero input, computed once
    here — so a search measured with it measures the search alone (``tabula bench --backend
    trivial``). An :class:`Evaluator`, as :class:`OnnxEvaluator`; ``submit`` returns a finished future.

    >>> ev = TrivialEvaluator("net.onnx")                    # doctest: +SKIP
    """

    backend = "trivial"
    padded = False

    def __init__(self, net: "str | Path | OnnxEvaluator", *, max_batch: int = 256) -> None:
        own = not isinstance(net, OnnxEvaluator)
        ev = OnnxEvaluator(net, backend="cpu", threads=1, max_batch=1) if own else net
        try:
            self.path = ev.path
            self.signature = ev.signature
            self.codec = ev.codec
            out = ev.run(ev.new_batch(1), 1)
        finally:
            if own:
                ev.close()
        self.threads = 0
        self.providers = ["trivial"]
        self._rows = {name: np.asarray(v[0]).copy() for name, v in out.items()}
        self._rows[self.codec.policy_output][...] = 0
        self.max_batch = max_batch
        self._out: dict[str, np.ndarray] = {}
        self._fill(max_batch)

    def _fill(self, n: int) -> None:
        self._out = {name: np.ascontiguousarray(np.broadcast_to(row, (n, *row.shape)))
                     for name, row in self._rows.items()}

    def new_batch(self, capacity: int | None = None) -> Batch:
        """Zeroed input buffers shaped as the codec asks (the search writes them; nobody reads)."""
        return zero_batch(self.codec, capacity or self.max_batch)

    def run(self, batch: Batch, n: int) -> dict[str, np.ndarray]:
        """The fixed answer for ``n`` rows (at once)."""
        if n > len(next(iter(self._out.values()))):
            self._fill(n)
        return {name: v[:n] for name, v in self._out.items()}

    def submit(self, batch: Batch, n: int) -> "Future[dict[str, np.ndarray]]":
        """A future already holding :meth:`run`'s answer."""
        fut: Future = Future()
        fut.set_result(self.run(batch, n))
        return fut

    def warm_up_here(self) -> None:
        """Nothing to warm up."""

    def warmup(self) -> None:
        """Nothing to warm up."""

    def close(self) -> None:
        """Nothing to stop."""

    def describe(self) -> str:
        """One line: file, codec, and that no network runs."""
        return f"{Path(self.path).name}: codec {self.codec.name}, trivial evaluator (uniform priors, fixed value)"


#: A cached evaluation: priors over the legal moves, Q, D, the score (None without a score head) and the
#: moves left in plies (None without a moves-left head).
CacheEntry = tuple[np.ndarray, float, float, "float | None", "float | None"]


class EvalCache:
    """Bounded map from position key to a :data:`CacheEntry`; oldest entries go first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(0, capacity)
        self._d: OrderedDict[int, CacheEntry] = OrderedDict()
        self.hits = 0
        self.lookups = 0

    def get(self, key: int) -> CacheEntry | None:
        """Cached entry or None."""
        self.lookups += 1
        entry = self._d.get(key)
        if entry is not None:
            self.hits += 1
        return entry

    def put(self, key: int, priors: np.ndarray, q: float, d: float, score: float | None = None,
            m: float | None = None) -> None:
        """Store (``m``: moves left, nets with that head), evicting the oldest entry when full."""
        if self.capacity == 0:
            return
        d_ = self._d
        d_[key] = (priors, q, d, score, m)
        if len(d_) > self.capacity:
            d_.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (after a net or temperature change)."""
        self._d.clear()
        self.hits = self.lookups = 0

    def __len__(self) -> int:
        return len(self._d)

