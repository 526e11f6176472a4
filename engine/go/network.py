"""Which net plays an n×n board, and the net run by itself (a value, ownership) outside the search.

Without a fixed net the front end hands over ``net_for_size(n)`` (the CLI asks
``nets.default_net("go<n>")``; the engine never imports ``nets``), and
:class:`GoNetwork` points ``Engine.default_net`` at the net for the board in play.
With a fixed net that one net plays: it must be of the board's size, or a size-free
codec (KataGo) is resized to the board.

>>> from tabula.engine.controller import Engine
>>> nets = GoNetwork(Engine("go"), net_for_size=lambda n: {9: "go9.onnx"}.get(n))
>>> nets.check_size(9)
'go9.onnx'
>>> nets.check_size(13)
Traceback (most recent call last):
...
tabula.engine.go.network.NoNetwork: unacceptable size: no network for board size 13 (no bundled go13 net; start with --net PATH)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from tabula.engine.controller import Engine
from tabula.engine.games.go import BLACK, MAX_SIZE, MIN_SIZE, GoState

from .playouts import PLAYOUT_SECONDS, estimate_ownership


class NoNetwork(Exception):
    """No net can play this board (none for its size, or it does not load); the message says why."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class GoNetwork:
    """The net of a go :class:`Engine`: ``net`` (fixed, ``--net``) or ``net_for_size(n)`` per board size."""

    def __init__(self, engine: Engine, net: str | None = None,
                 net_for_size: Callable[[int], str | None] | None = None) -> None:
        self.engine = engine
        self.net = net
        self.net_for_size = net_for_size or (lambda n: None)
        if net:
            engine.set_option("WeightsFile", net)

    def board_size(self) -> int | None:
        """Board size of the configured net (loads it); None if it cannot be loaded."""
        try:
            self.engine.ensure_ready()
        except Exception:
            return None
        ev = self.engine.evaluator
        return ev.codec.board_size if ev is not None else None

    def check_size(self, n: int) -> str | None:
        """Whether a net can play an n×n board: the net to make the default (None with a fixed net).

        Raises :class:`NoNetwork` ``unacceptable size: …`` when there is none.
        """
        if not MIN_SIZE <= n <= MAX_SIZE:
            raise NoNetwork(f"unacceptable size: board sizes {MIN_SIZE}..{MAX_SIZE}")
        if self.net:
            have = self.board_size()
            codec = self.engine.evaluator.codec if self.engine.evaluator is not None else None
            if codec is not None and codec.max_board_size is not None:  # one net for every size (KataGo)
                if not codec.supports_size(n):
                    raise NoNetwork(f"unacceptable size: {Path(self.net).name} plays boards up to "
                                    f"{codec.max_board_size}x{codec.max_board_size}")
                return None
            if have is not None and have != n:
                raise NoNetwork(f"unacceptable size: no network for board size {n} "
                                f"({Path(self.net).name} is a {have}x{have} net)")
            return None
        path = self.net_for_size(n)
        if path is None:
            raise NoNetwork(f"unacceptable size: no network for board size {n} "
                            f"(no bundled go{n} net; start with --net PATH)")
        return path

    def use(self, path: str | None) -> None:
        """Make ``path`` (from :meth:`check_size`) the engine's default net, unless the net is fixed."""
        if not self.net:
            self.engine.default_net = path

    def prepare(self, size: int) -> None:
        """Load the net for a size×size board (resizing a size-free codec); :class:`NoNetwork` with
        the reason if there is none or it is of another size."""
        if not self.net:
            path = self.net_for_size(size)
            self.engine.default_net = path
            if path is None:
                raise NoNetwork(f"no network for board size {size} (no bundled go{size} net; "
                                f"start with --net PATH)")
        try:
            self.engine.ensure_ready()
        except Exception as exc:
            raise NoNetwork(f"network not loaded: {_first_line(exc)}") from None
        ev = self.engine.evaluator
        if ev is not None and ev.codec.max_board_size is not None:  # one net for every size (KataGo)
            try:
                ev.codec.set_board_size(size)
            except ValueError as exc:
                raise NoNetwork(str(exc)) from None
        have = ev.codec.board_size if ev is not None else None
        if have != size:
            raise NoNetwork(f"no network for board size {size} "
                            f"({Path(self.engine.net_path()).name} is a {have}x{have} net)")

    def value(self, state: GoState) -> float | None:
        """The loaded net's own value of ``state`` for its side to move, in [−1, 1] (None without a net)."""
        ev = self.engine.evaluator
        if ev is None:
            return None
        batch = ev.new_batch(1)
        ev.codec.encode(state, batch.inputs, 0)
        v, _ = ev.codec.decode_value(ev.run(batch, 1), 1)
        return float(v[0])

    def ownership(self, state: GoState, seconds: float = PLAYOUT_SECONDS) -> np.ndarray:
        """Ownership of ``state``, +1 Black … −1 White per point: the net's ownership head when it
        has one (KataGo), else random playouts (:func:`~engine.go.playouts.estimate_ownership`,
        for at most ``seconds``)."""
        try:
            self.prepare(state.size)  # also puts a KataGo net on this board size
        except NoNetwork:
            return estimate_ownership(state, seconds=seconds)
        ev = self.engine.evaluator
        if ev is None or not ev.codec.has_ownership:
            return estimate_ownership(state, seconds=seconds)
        batch = ev.new_batch(1)
        ev.codec.encode(state, batch.inputs, 0)
        own = ev.codec.decode_ownership(ev.run(batch, 1), 1)[0]
        return own if state.turn == BLACK else -own


__all__ = ["GoNetwork", "NoNetwork"]
