"""The codec contract: positions → input tensors, network outputs → priors and values.

A codec is chosen for a network by its ONNX metadata (``tabula.codec``) or, for
third-party nets that carry none (lc0, dlshogi, …), by its input/output signature.
Encoding writes into preallocated batch buffers owned by the evaluator, one row
per position, so the hot path allocates nothing.

The flow for one leaf::

    codec.encode(state, buffers, row)            # fill row `row` of every input
    idx = codec.policy_indices(state, moves)     # where each legal move's logit sits
    ... evaluator runs the batch ...
    logits = outputs[codec.policy_output][row, idx]
    q, d = codec.decode_value(outputs, n)        # Q in [-1, 1] for the side to move, draw prob
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Mapping, Sequence

import numpy as np

from ..games.base import GameState

#: A tensor shape as the model declares it: ints, or None/str for dynamic axes.
Shape = tuple[int | str | None, ...]


class NetworkMismatchError(ValueError):
    """The network's inputs/outputs match no codec, or not the one its metadata names."""


@dataclass(frozen=True)
class NetSignature:
    """What a network file declares: tensor names/shapes, metadata, where it came from."""

    path: str
    inputs: Mapping[str, Shape]
    outputs: Mapping[str, Shape]
    metadata: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line listing inputs → outputs, for error messages and `nets info`."""
        fmt = lambda d: ", ".join(f"{k}{list(v)}" for k, v in d.items())  # noqa: E731
        return f"inputs {fmt(self.inputs)} → outputs {fmt(self.outputs)}"


class Codec(ABC):
    """Turns positions of one game into one network format's tensors and back."""

    #: Name written in ``tabula.codec`` metadata, e.g. ``"lc0-112"``.
    name: ClassVar[str]
    #: Game the codec encodes (matches :attr:`GameState.game`).
    game: ClassVar[str]
    #: Human description of the signature, used in mismatch messages.
    expects: ClassVar[str]

    # What the net can do beyond policy and value; callers read these instead of probing.
    #: whether :meth:`decode_score` gives a score lead (KataGo), which the search then averages
    has_score: ClassVar[bool] = False
    #: whether :meth:`decode_ownership` gives per-point ownership (KataGo)
    has_ownership: ClassVar[bool] = False
    #: whether the net has a moves-left head (lc0's ``/output/mlh``; ``decode_moves_left``)
    has_moves_left: bool = False
    #: go: the board size encoded now; None for games without one
    board_size: int | None = None
    #: go: every size from 2 to this one can be encoded (:meth:`set_board_size`, KataGo);
    #: None: only :attr:`board_size`
    max_board_size: ClassVar[int | None] = None

    def __init__(self, sig: NetSignature) -> None:
        self.sig = sig

    @classmethod
    @abstractmethod
    def accepts(cls, sig: NetSignature) -> bool:
        """Whether this codec can drive a net with this signature."""

    @classmethod
    def create(cls, sig: NetSignature, **hints: object) -> "Codec":
        """The codec instance for ``sig``; :func:`engine.codecs.codec_for` calls this.

        ``hints`` are detection settings a front end passes along (e.g. ``lc0_format``);
        a codec ignores those it has no use for. A codec family whose nets look alike
        (lc0's input formats) returns the member the net needs.
        """
        return cls(sig)

    @classmethod
    def metadata_allows(cls, sig: NetSignature) -> bool:
        """False when the net's ``tabula.codec``/``tabula.game`` metadata names another codec or game."""
        meta = sig.metadata
        return meta.get("tabula.codec", cls.name) == cls.name and meta.get("tabula.game", cls.game) == cls.game

    @property
    @abstractmethod
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-position shape of every network input (without the batch axis)."""

    @property
    @abstractmethod
    def policy_output(self) -> str:
        """Name of the output holding policy logits, shape [B, policy_size]."""

    @abstractmethod
    def encode(self, state: GameState, buffers: Mapping[str, np.ndarray], row: int) -> None:
        """Write ``state``'s input planes into row ``row`` of every buffer (fully overwrite it)."""

    def row_writer(self, buffers: Mapping[str, np.ndarray]) -> Callable[[GameState, int], None]:
        """:meth:`encode` into these ``buffers``, as a function of (state, row), for a search
        that fills the same buffers leaf after leaf; a codec may check and slice them once here
        rather than at every row."""
        encode = self.encode
        return lambda state, row: encode(state, buffers, row)

    @abstractmethod
    def policy_indices(self, state: GameState, moves: Sequence[int]) -> np.ndarray:
        """Index into the policy vector of each move in ``moves`` (int64 array, same order)."""

    @abstractmethod
    def decode_value(self, outputs: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        """(Q, D) for the first ``n`` rows: Q in [-1, 1] from the side to move's view, D = draw prob."""

    @property
    def output_names(self) -> list[str]:
        """Outputs the engine needs to fetch (default: all the net declares)."""
        return list(self.sig.outputs)

    def supports_size(self, n: int) -> bool:
        """Whether this net can play an n×n board: 2 … :attr:`max_board_size`, else only :attr:`board_size`."""
        return n == self.board_size if self.max_board_size is None else 2 <= n <= self.max_board_size

    def set_board_size(self, n: int) -> None:
        """Encode n×n boards from now on; :class:`NetworkMismatchError` unless :meth:`supports_size`.

        A fixed-size codec has nothing to change.
        """
        if not self.supports_size(n):
            raise NetworkMismatchError(f"{self.sig.path} plays {self.board_size}x{self.board_size} boards, "
                                       f"not {n}x{n}")

    def decode_score(self, outputs: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Score lead in points for the side to move, first ``n`` rows (only where :attr:`has_score`)."""
        raise NotImplementedError(f"codec {self.name} has no score head")

    def decode_ownership(self, outputs: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Ownership in [−1, 1] (+1: the side to move's), [n, N²] in move-code order (only where
        :attr:`has_ownership`)."""
        raise NotImplementedError(f"codec {self.name} has no ownership head")


def softmax_priors(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax over legal-move logits with a temperature (lc0's PolicyTemperature).

    >>> softmax_priors(np.array([0.0, 0.0], dtype=np.float32), 1.0).tolist()
    [0.5, 0.5]
    """
    if logits.size == 0:
        return logits.astype(np.float32)
    z = (logits - logits.max()) * (1.0 / temperature)
    e = np.exp(z)
    return (e / e.sum()).astype(np.float32)
