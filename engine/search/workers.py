"""Several search threads on one tree (the ``SearchThreads`` option), as lc0's search threads.

Each thread of :class:`SearchWorkers` loops: gather a batch into its own
:class:`~engine.search.native.Lane` (tree kernels, under the search's lock), evaluate it
(``Evaluator.run`` on the calling thread: onnxruntime releases the GIL, and one session runs
several batches at once), complete it (the softmax outside the lock, expansion and backups
under it). The visits in flight of every thread's leaves live in the tree's arrays, so each
gather steers around the others' leaves as around its own batch's. The lock is never held while
the network runs.

Playouts are reserved under the lock: a gather may make at most ``room(stats, in_flight)``
playouts, the limits' remaining playouts less the leaves already in flight on any thread, so
``go nodes N`` ends with exactly N root visits. :meth:`SearchWorkers.close` ends the search:
with ``wait`` every thread completes its batch and ends; without, the leaves in flight are
dropped (their visits undone) at once, and each thread ends when its network call returns,
touching the tree no more — after either, no visit in flight is left in the tree.

>>> search.start_threads(2, lambda stats, in_flight: 800 - stats.nodes - in_flight)  # doctest: +SKIP
>>> while search.stats().nodes < 800: search.wait(0.1)
>>> search.finish(wait=True)
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable

from .mcts import SearchStats

if TYPE_CHECKING:
    from .native import Lane, NativeSearch

#: ``room(stats, in_flight)``: playouts the limits still allow, given the leaves in flight
RoomFn = Callable[[SearchStats, int], float]
#: the playouts lc0's root rule allows for, given the search's stats (NativeSearch.root_prune)
PruneFn = Callable[[SearchStats], float]
#: seconds a thread with nothing to do waits before it looks again (a completion wakes it sooner)
IDLE_WAIT_S = 0.005
#: empty gathers in a row, with nothing in flight, that make the search :attr:`~SearchWorkers.stalled`
STALL_GATHERS = 3


class SearchWorkers:
    """``count`` threads searching ``search``'s tree until :meth:`close`; see the module doc."""

    def __init__(self, search: "NativeSearch", count: int, room: RoomFn, prune: PruneFn | None = None) -> None:
        self.search = search
        self.room = room
        self.prune = prune
        #: the threads wait on ``_cv`` for each other's completions; the controller on ``_ctl``
        #: (the same lock), which is told of each batch only while it asks to be (``_every_batch``)
        self._cv = threading.Condition(search.lock)
        self._ctl = threading.Condition(search.lock)
        self._every_batch = True
        self._closing = False
        self._completions = 0
        self._empty = 0
        #: the limits allow no playout (or the root is proven) and nothing is in flight
        self._held = False
        #: times the threads came to that state, and how many of them a wait has returned for
        #: (each wakes the controller once, also one that came between its waits)
        self._holds = 0
        self._holds_seen = 0
        #: leaves in flight, all threads together
        self.pending = 0
        self.error: BaseException | None = None
        self._lanes = [search.new_lane() for _ in range(max(1, int(count)))]
        # not daemons: at exit the interpreter waits for a thread still inside its network call
        # instead of tearing it down mid-call
        self._threads = [threading.Thread(target=self._work, args=(lane,), name=f"tabula-search-{i}")
                         for i, lane in enumerate(self._lanes)]
        for t in self._threads:
            t.start()

    @property
    def stalled(self) -> bool:
        """The threads found nothing to gather, several times, with nothing in flight."""
        return self._empty >= STALL_GATHERS

    # -- one thread ------------------------------------------------------------------------------
    def _work(self, lane: "Lane") -> None:
        cpu = time.thread_time()
        try:
            while True:
                rows = self._gather(lane)
                if rows < 0:
                    return
                self._evaluate(lane, rows)
        except BaseException as exc:  # noqa: BLE001 - handed to the controller's thread by wait()
            with self._cv:
                self.error = self.error or exc
                self._closing = True
                self._drop(lane)
                self._wake(end=True)
        finally:
            with self._cv:
                self.search.thread_cpu_seconds += time.thread_time() - cpu

    def _gather(self, lane: "Lane") -> int:
        """Gather one batch into ``lane`` under the lock (waiting while nothing can be
        gathered); its rows, or −1 when the search ends."""
        s = self.search
        stats = SearchStats()
        with self._cv:
            while True:
                if self._closing or s.abort.is_set():
                    return -1
                s.stats_into(stats)
                room = self.room(stats, self.pending)
                if room <= 0 or stats.root_proven:
                    if self.pending == 0 and not self._held:
                        self._held = True  # the limits are reached: wake the controller now
                        self._holds += 1
                        self._wake(end=True)
                    self._cv.wait(IDLE_WAIT_S)
                    continue
                self._held = False
                s.batch_limit = int(max(1, min(s.params.minibatch, room)))
                s.remaining_playouts = room
                if self.prune is not None:
                    s.root_prune = self.prune(stats)
                before = stats.playouts
                rows = s.gather(lane)
                if s.abort.is_set():
                    s.drop(lane, rows)
                    return -1
                if rows:
                    lane.rows = rows
                    self.pending += rows
                    s.count_sent(rows)
                    self._empty = 0
                    return rows
                if s.stats_into(stats).playouts != before:  # terminal and cached leaves only
                    self._empty = 0
                    self._completions += 1
                    self._wake()
                    continue
                if self.pending == 0:
                    self._empty += 1
                    self._wake(end=self.stalled)
                self._cv.wait(IDLE_WAIT_S)  # the others' leaves block the way: wait for a completion

    def _evaluate(self, lane: "Lane", rows: int) -> None:
        """Run ``lane``'s batch on the network (no lock held), then complete it under the lock
        unless :meth:`close` dropped it meanwhile."""
        s = self.search
        t0 = time.monotonic()
        out = s.ev.run(lane.slot, rows)
        seconds = time.monotonic() - t0
        prepared = s.prepare(out, lane, rows)
        with self._cv:
            s.eval_seconds += seconds
            if lane.rows:
                s.finish_lane(prepared)
                self.pending -= rows
                lane.rows = 0
            self._completions += 1
            self._wake()

    def _wake(self, end: bool = False) -> None:
        """Wake the threads waiting for a completion, and the controller if it waits for every
        batch or ``end`` (the search may be over). Hold the lock."""
        self._cv.notify_all()
        if end or self._every_batch:
            self._ctl.notify_all()

    def _drop(self, lane: "Lane") -> None:
        """Undo ``lane``'s leaves in flight (hold the lock)."""
        if lane.rows:
            self.search.drop(lane, lane.rows)
            self.pending -= lane.rows
            lane.rows = 0

    # -- the controller's side ---------------------------------------------------------------
    def wait(self, timeout: float, every_batch: bool = True) -> bool:
        """Block until playouts were made (a batch completed, or terminal and cached leaves
        were backed up: True) or ``timeout`` seconds pass; raises what a thread raised.

        With ``every_batch`` False only the end of the search cuts the wait short: the limits
        reached with nothing in flight, the root proven, a stall or an error. The controller
        waits so, as it need not look at every batch: waking it hundreds of times a second
        takes CPU from the threads feeding the network."""
        with self._cv:
            seen = self._completions
            self._every_batch = every_batch
            if self.error is None and not self.stalled:
                self._ctl.wait_for(lambda: ((every_batch and self._completions != seen) or self._holds != self._holds_seen
                                           or self.error is not None or self.stalled), timeout)
            self._holds_seen = self._holds
            if self.error is not None:
                raise self.error
            return self._completions != seen

    def close(self, wait: bool) -> None:
        """End the threads: with ``wait`` each completes its batch in flight first and this
        blocks until they have ended; without, their leaves in flight are dropped now and this
        returns at once."""
        with self._cv:
            self._closing = True
            if not wait:
                for lane in self._lanes:
                    self._drop(lane)
            self._wake(end=True)
        if wait:
            self.join()

    def join(self) -> None:
        """Block until every thread has ended (after :meth:`close`)."""
        for t in self._threads:
            t.join()
