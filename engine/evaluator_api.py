"""What a search asks of the network: the :class:`Evaluator` protocol and its :class:`Batch`.

Both searches (:class:`engine.search.mcts.Search`, :class:`engine.search.native.NativeSearch`)
call only what :class:`Evaluator` states, so anything that has these members can stand in for
the net: :class:`engine.evaluator.OnnxEvaluator` (onnxruntime), :class:`~engine.evaluator.
TrivialEvaluator` (no net: uniform priors, a fixed value), the bench's timing wrapper, or a
test's fake that answers from a table. Nothing here imports onnxruntime.

>>> ev: Evaluator = TrivialEvaluator("net.onnx")          # doctest: +SKIP
>>> b = ev.new_batch(8); ev.codec.encode(state, b.inputs, 0)
>>> outputs = ev.submit(b, 1).result()                    # or ev.run(b, 1), blocking
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .codecs.base import Codec


@dataclass
class Batch:
    """Preallocated input buffers for up to ``capacity`` positions."""

    inputs: dict[str, np.ndarray]
    capacity: int


def zero_batch(codec: Codec, capacity: int) -> Batch:
    """Zeroed input buffers for ``capacity`` positions, shaped as ``codec`` asks."""
    return Batch({name: np.zeros((capacity, *shape), np.float32)
                  for name, shape in codec.input_shapes.items()}, capacity)


@runtime_checkable
class Evaluator(Protocol):
    """A network as the search sees it.

    The search fills rows of a :meth:`new_batch` through :attr:`codec`, then either
    :meth:`run` s it (blocking; the root's evaluation) or :meth:`submit` s it (returns at once;
    the search gathers the next batch while this one runs). The outputs are the codec's
    :attr:`~engine.codecs.base.Codec.output_names`, ``n`` rows each.
    """

    #: turns positions into this net's inputs and its outputs into priors and values
    codec: Codec
    #: the most rows one batch holds (the default capacity of :meth:`new_batch`)
    max_batch: int

    def new_batch(self, capacity: int | None = None) -> Batch:
        """Zeroed input buffers for ``capacity`` (default :attr:`max_batch`) positions."""
        ...

    def run(self, batch: Batch, n: int) -> dict[str, np.ndarray]:
        """The outputs for the first ``n`` rows, now (blocks the caller)."""
        ...

    def submit(self, batch: Batch, n: int) -> "Future[dict[str, np.ndarray]]":
        """Queue the first ``n`` rows; must not block. ``result()`` on the future blocks."""
        ...

    def warmup(self) -> None:
        """Do the first-call work (kernel tuning, allocations) now, where batches will run."""
        ...

    def close(self) -> None:
        """Release the worker thread and the net (waits for a batch in flight)."""
        ...

    def describe(self) -> str:
        """One line for ``info string``: file, codec, where it runs."""
        ...
