"""The compiled search's kernels, compiled apart so a fresh install answers at once.

numba compiles a kernel the first time it runs and keeps the machine code in its on-disk
cache. On the 2-core dev machine compiling all of chess's kernels takes about 20 s (longer
on a loaded machine); loading them from the cache takes about a second. A GUI that waits
that long for ``readyok`` on first start may give up on the engine.

So :meth:`NativeKernels.prepare` loads the kernels at once when the cache is known to hold
them (:func:`~engine.native.cachestamp.is_warm`), and otherwise starts a child process that
compiles them into the cache and returns. Until the child is done the controller searches
with the Python reference search (same numbers: the golden tests hold the two together, only
slower); then a background thread loads the kernels from the cache and the next search is the
compiled one. Where numba's cache cannot be written, the kernels compile here, in the
foreground, as before.

There are four sets (:data:`KINDS`): the compiled chess gatherer and rules ("chess"), the
kernels of the Python leaf path that shogi uses (and KataGo nets under simple or situational
ko, whose features stay in Python) ("other"), the compiled go gatherer on the go planes
("go"), and on KataGo's features ("katago"). Run as
``python -m tabula.engine.search.compile_ahead KIND`` it is the child.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from typing import Callable

from ..native import cachestamp
from .native import warm_up

__all__ = ["KINDS", "NativeKernels", "kernels_for"]


def _warm_go() -> None:
    from .go_kernels import warm
    warm()


def _warm_katago() -> None:
    from .go_kernels import warm_katago
    warm_katago()


#: each set's name and what compiles (or loads) it in this process
KINDS: dict[str, Callable[[], None]] = {
    "chess": lambda: warm_up(True),
    "other": lambda: warm_up(False),
    "go": _warm_go,
    "katago": _warm_katago,
}

#: ``TABULA_COMPILE_APART=0`` compiles in the foreground instead (the tests set it, so that
#: every search they run is the compiled one from the start)
_APART_ENV = "TABULA_COMPILE_APART"
_registry: dict[str, "NativeKernels"] = {}
_registry_lock = threading.Lock()


class NativeKernels:
    """Whether this process may run one set of compiled kernels (:data:`KINDS`) yet, and the
    work to get there."""

    def __init__(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kernel set {kind!r} (one of {', '.join(KINDS)})")
        self.kind = kind
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: why the child process failed (then the kernels were compiled here), or None
        self.child_error: str | None = None

    @property
    def ready(self) -> bool:
        """True once the kernels are loaded in this process."""
        return self._ready.is_set()

    @property
    def compiling(self) -> bool:
        """True while the kernels are being compiled apart."""
        return self._thread is not None and not self._ready.is_set()

    def prepare(self, *, apart: bool | None = None) -> None:
        """Load the kernels now if the cache holds them; else, with ``apart`` (default: unless
        ``TABULA_COMPILE_APART=0``), start compiling them in a child process and return at
        once; without it, compile them here."""
        if apart is None:
            apart = os.environ.get(_APART_ENV, "1") != "0"
        with self._lock:
            if self._ready.is_set() or self._thread is not None:
                if not apart:
                    self._ready.wait()
                return
            if apart and not cachestamp.is_warm(self.kind) and cachestamp.writable():
                self._thread = threading.Thread(target=self._compile_apart, name="tabula-compile", daemon=True)
                self._thread.start()
                return
            self._load()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the kernels are loaded (or ``timeout`` seconds pass); True if they are."""
        return self._ready.wait(timeout)

    def _load(self) -> None:
        KINDS[self.kind]()  # from the cache when it holds them, else a compile here
        cachestamp.mark_warm(self.kind)
        self._ready.set()

    def _compile_apart(self) -> None:
        try:
            done = subprocess.run([sys.executable, "-m", __name__, self.kind], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
            if done.returncode != 0:
                lines = (done.stderr or "").strip().splitlines()
                self.child_error = lines[-1] if lines else f"exit status {done.returncode}"
        except OSError as exc:
            self.child_error = str(exc)
        self._load()


def kernels_for(kind: str) -> NativeKernels:
    """This process's one :class:`NativeKernels` for the set ``kind``."""
    with _registry_lock:
        if kind not in _registry:
            _registry[kind] = NativeKernels(kind)
        return _registry[kind]


def _main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in KINDS:
        print(f"usage: python -m tabula.engine.search.compile_ahead {'|'.join(KINDS)}", file=sys.stderr)
        return 2
    KINDS[argv[0]]()
    cachestamp.mark_warm(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
