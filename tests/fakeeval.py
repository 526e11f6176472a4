"""A network for search tests without onnxruntime: a real codec on a made-up signature, and
outputs computed in numpy from the encoded inputs.

:class:`FakeEvaluator` is an :class:`tabula.engine.evaluator_api.Evaluator`. By default every
position gets uniform priors (all policy logits 0) and the value ``q`` with draw probability
``d``; ``answer`` can compute the outputs from the batch instead (the rows the codec wrote).

>>> ev = FakeEvaluator(chess_codec(), q=0.1)
>>> ev.run(ev.new_batch(2), 2)["/output/wdl"].tolist()
[[0.5, 0.1, 0.4], [0.5, 0.1, 0.4]]
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Callable

import numpy as np

from tabula.engine.codecs.base import Codec, NetSignature
from tabula.engine.codecs.lc0 import Lc0Codec
from tabula.engine.evaluator_api import Batch, zero_batch

Answer = Callable[[Batch, int], dict[str, np.ndarray]]


def chess_codec() -> Lc0Codec:
    """lc0's classical codec for a WDL net (no file behind it)."""
    return Lc0Codec(NetSignature("fake.onnx", {"/input/planes": ("batch", 112, 8, 8)},
                                 {"/output/policy": ("batch", 1858), "/output/wdl": ("batch", 3)}))


class FakeEvaluator:
    """Answers every batch at once on the calling thread; counts what it was asked."""

    def __init__(self, codec: Codec, *, q: float = 0.0, d: float = 0.0, answer: Answer | None = None,
                 max_batch: int = 64) -> None:
        self.codec = codec
        self.max_batch = max_batch
        self.q, self.d = q, d
        self.answer = answer
        self.batches = 0       #: batches submitted
        self.positions = 0     #: rows run or submitted
        self.closed = False

    def new_batch(self, capacity: int | None = None) -> Batch:
        return zero_batch(self.codec, capacity or self.max_batch)

    def run(self, batch: Batch, n: int) -> dict[str, np.ndarray]:
        self.positions += n
        if self.answer is not None:
            return self.answer(batch, n)
        policy = np.zeros((n, 1858), np.float32)
        win, loss = (1.0 - self.d + self.q) / 2, (1.0 - self.d - self.q) / 2
        wdl = np.tile(np.array([win, self.d, loss], np.float32), (n, 1))
        return {"/output/policy": policy, "/output/wdl": wdl}

    def submit(self, batch: Batch, n: int) -> "Future[dict[str, np.ndarray]]":
        self.batches += 1
        fut: Future = Future()
        fut.set_result(self.run(batch, n))
        return fut

    def warmup(self) -> None:
        """Nothing to warm."""

    def close(self) -> None:
        self.closed = True

    def describe(self) -> str:
        return f"fake evaluator: codec {self.codec.name}, q {self.q}, d {self.d}"
