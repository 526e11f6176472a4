"""Golden transcripts: whole UCI / USI / GTP sessions, replayed in-process and compared line by line.

Each file in ``tests/transcripts/`` is a session as a GUI would see it. The format:

* ``#! tabula uci|usi|gtp [--net NET] [--backend B] [--size N] [--komi K] [-o NAME=VALUE]…``
  (the first line) is the command line the session was "started" with, as ``tabula``'s CLI
  takes it: ``--net`` sets ``WeightsFile`` (UCI/USI) or is GTP's fixed net, ``-o`` sets any
  engine option before the first input.
* ``> LINE`` is a line the GUI sends (``>`` alone: an empty line).
* ``# …`` is a comment (so is a lone ``#``, handy to space sections: a blank line would be output).
* every other line, blank ones included (GTP ends each reply with one), is a line the engine
  must write, in this order, after the input above it and before the next input.
* ``...`` alone stands for any number (zero included) of *progress reports*: in UCI/USI lines that
  start with ``info `` and are not ``info string`` (``info depth …`` of a search still running,
  whose count depends on how long the search ran), in GTP ``info move …`` analysis lines
  (``lz-analyze``/``kata-analyze`` print one per interval until the next input). Nothing else
  may stand in their place.

Compared as written, except that in UCI/USI ``info`` lines (not ``info string``) the numbers after
``time`` and ``nps`` are masked: write them as ``time *`` and ``nps *``. ``$VERSION`` in an
expected line is the engine's version.

How it runs: the nets of :func:`build_nets` are built in a temporary folder, which is the working
directory during the session (so ``setoption name WeightsFile value random.onnx`` reads as it
would in a real session; GTP's default net for an n×n board is ``go<n>.onnx`` there, standing in
for the bundled nets). ``Threads`` and ``SearchThreads`` default to 1 instead of the machine's
figures, so the option list reads alike everywhere (and fixed-node searches stay deterministic); the transcripts start with ``--backend cpu`` so that a
machine with a GPU reads them alike too (``auto`` would pick it, and ``loaded …`` names it).

Before it sends the next input the runner waits until what the engine wrote since the last input
matches the expected lines (as a GUI waits for ``bestmove`` or ``readyok``), at most :data:`WAIT_S`
seconds; ``...`` is matched lazily, so a block that ends with it (``go infinite``, ``kata-analyze``)
hands over at once after its explicit lines.
Searches use fixed node or visit counts, or positions the search proves at once (a mate in one,
a won pass), so every number shown is deterministic; ``TABULA_TRANSCRIPT_RUNS=N`` replays each
transcript N times (default 1), and ``test_transcripts_are_stable`` replays one in a warm process.

On a mismatch the failure shows the session as it went, in this format, ready to paste after review.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tabula.engine import __version__
from tabula.engine.controller import ENGINE_PARAMS, Engine
from tabula.engine.options import find_param
from tabula.engine.search import stoppers
from netfactory import make_lc0_net, make_net
from tabula.protocols.common import Writer

pytest.importorskip("onnx")

HERE = Path(__file__).resolve().parent / "transcripts"
FILES = sorted(HERE.glob("*.txt"))
WAIT_S = 15.0
MARKER = "..."

#: Threads' default is the machine's core count, SearchThreads' 2 on two cores or more: pinned so the
#: option list reads the same everywhere, and one search thread keeps fixed-node searches deterministic
PINNED_THREADS = (find_param(ENGINE_PARAMS, "Threads").with_default(1, "Transcripts: 1 on every machine."),
             find_param(ENGINE_PARAMS, "SearchThreads").with_default(1, "Transcripts: 1 on every machine."))

_MASK = re.compile(r"\b(time|nps) -?\d+")


# -- the nets the transcripts name ------------------------------------------------------------------

def _go_net(path: Path, n: int, *, scale: float, pass_bias: float = 0.0, value_bias: float = 0.0) -> Path:
    bias = np.zeros(n * n + 1, np.float32)
    bias[-1] = pass_bias
    return make_net(path, {"input_planes": (17, n, n)},
                    {"output_policy": (n * n + 1, "none"), "output_value": (1, "tanh")},
                    scale={"output_policy": scale, "output_value": scale}, seed=0,
                    bias={"output_policy": bias, "output_value": np.array([value_bias])},
                    metadata={"tabula.game": "go", "tabula.codec": "go", "tabula.board_size": str(n),
                              "tabula.value": "tanh"})


def build_nets(d: Path) -> Path:
    """Small deterministic nets in ``d``, named as the transcripts use them."""
    make_lc0_net(d / "uniform.onnx", scale=0.0)
    make_lc0_net(d / "random.onnx", scale=0.02, seed=1,
                 metadata={"tabula.game": "chess", "tabula.codec": "lc0-112", "tabula.value": "wdl"})
    make_net(d / "shogi.onnx", {"input1": (62, 9, 9), "input2": (57, 9, 9)},
             {"output_policy": (2187, "none"), "output_value": (1, "sigmoid")}, scale=0.0,
             metadata={"tabula.game": "shogi", "tabula.codec": "dlshogi"})
    _go_net(d / "go9.onnx", 9, scale=0.05)
    # wants to pass (prior 0.9995), rates every position even
    _go_net(d / "passer9.onnx", 9, scale=0.0, pass_bias=12.0)
    return d


@pytest.fixture(scope="module")
def nets(tmp_path_factory) -> Path:
    return build_nets(tmp_path_factory.mktemp("transcript-nets"))


# -- the format ---------------------------------------------------------------------------------------

@dataclass
class Block:
    """One input line (None: before the first) and the lines expected after it."""

    line: str | None
    lineno: int
    expected: list[str] = field(default_factory=list)


@dataclass
class Transcript:
    argv: list[str]
    blocks: list[Block]

    @property
    def protocol(self) -> str:
        return self.argv[1]


def parse(path: Path) -> Transcript:
    text = path.read_text(encoding="utf-8").split("\n")
    if text and text[-1] == "":
        text.pop()  # the file's final newline ends the last line, it is no empty output line
    if not text or not text[0].startswith("#! "):
        raise ValueError(f"{path.name}: the first line must be '#! tabula uci|usi|gtp …'")
    argv = shlex.split(text[0][3:])
    if argv[:1] != ["tabula"] or len(argv) < 2 or argv[1] not in ("uci", "usi", "gtp"):
        raise ValueError(f"{path.name}:1: expected '#! tabula uci|usi|gtp …', got {text[0]!r}")
    blocks = [Block(None, 1)]
    for no, raw in enumerate(text[1:], 2):
        if raw.startswith("#"):
            continue
        if raw == ">" or raw.startswith("> "):
            blocks.append(Block(raw[2:], no))
        else:
            blocks[-1].expected.append(raw.replace("$VERSION", __version__))
    return Transcript(argv, blocks)


def mask(line: str, protocol: str) -> str:
    """Time and nps of UCI/USI ``info`` lines (not ``info string``) as ``*``."""
    if protocol != "gtp" and line.startswith("info ") and not line.startswith("info string"):
        return _MASK.sub(lambda m: f"{m.group(1)} *", line)
    return line


def is_progress(line: str, protocol: str) -> bool:
    """What ``...`` may stand for."""
    if protocol == "gtp":
        return line.startswith("info move ")
    return line.startswith("info ") and not line.startswith("info string")


def matches(expected: list[str], actual: list[str], protocol: str, *, so_far: bool = False) -> bool:
    """Whether ``actual`` (masked) is ``expected``, each ``...`` taking any run of progress lines;
    with ``so_far``, whether more lines could still make it so (``actual`` has not gone astray)."""

    def go(i: int, j: int) -> bool:
        while i < len(expected):
            if so_far and j == len(actual):
                return True
            if expected[i] == MARKER:
                k = j
                while True:  # lazily: as few progress lines as the rest allows
                    if go(i + 1, k):
                        return True
                    if k < len(actual) and is_progress(actual[k], protocol):
                        k += 1
                    else:
                        return False
            if j >= len(actual) or expected[i] != actual[j]:
                return False
            i, j = i + 1, j + 1
        return j == len(actual)

    return go(0, 0)


# -- running one ----------------------------------------------------------------------------------------

class Collector:
    """The engine's stdout: lines, masked, filed under the input they followed."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.blocks: list[list[str]] = [[]]
        self.cond = threading.Condition()
        self._partial = ""

    def write(self, text: str) -> None:
        with self.cond:
            text = self._partial + text
            *done, self._partial = text.split("\n")
            self.blocks[-1].extend(mask(ln, self.protocol) for ln in done)
            self.cond.notify_all()

    def flush(self) -> None:
        pass

    def next_input(self) -> None:
        with self.cond:
            self.blocks.append([])

    def wait_for(self, expected: list[str], timeout: float) -> bool:
        """Until the current block matches ``expected``; False at the timeout or as soon as the block
        has gone astray (the comparison afterwards tells how)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not matches(expected, self.blocks[-1], self.protocol):
                left = deadline - time.monotonic()
                if left <= 0 or not matches(expected, self.blocks[-1], self.protocol, so_far=True):
                    return False
                self.cond.wait(left)
            return True


def _start(t: Transcript, out: Collector):
    """The protocol object as ``tabula <protocol> ARGS`` would build it."""
    args = t.argv[2:]
    net = backend = None
    size: int | None = None
    komi = 7.5
    options: list[tuple[str, str]] = []
    i = 0
    while i < len(args):
        key = args[i]
        if i + 1 >= len(args):
            raise ValueError(f"{key} needs a value")
        value = args[i + 1]
        if key == "--net":
            net = value
        elif key == "--backend":
            backend = value
        elif key == "--size":
            size = int(value)
        elif key == "--komi":
            komi = float(value)
        elif key in ("-o", "--option"):
            name, _, v = value.partition("=")
            options.append((name, v))
        else:
            raise ValueError(f"unknown argument {key!r}")
        i += 2
    write = Writer(out)
    if t.protocol == "gtp":
        from tabula.protocols.gtp import GTP_PARAMS, GtpProtocol

        engine = Engine("go", extra_params=(*GTP_PARAMS, *PINNED_THREADS))
    elif t.protocol == "uci":
        from tabula.protocols.uci import UCI_PARAMS, UciProtocol

        engine = Engine("chess", extra_params=(*UCI_PARAMS, *PINNED_THREADS))
    else:
        from tabula.protocols.usi import USI_PARAMS, UsiProtocol

        engine = Engine("shogi", extra_params=(*USI_PARAMS, *PINNED_THREADS))
    if backend:
        engine.set_option("Backend", backend)
    if net and t.protocol != "gtp":
        engine.set_option("WeightsFile", net)
    for name, value in options:
        engine.set_option(name, value)
    if t.protocol == "gtp":
        return GtpProtocol(engine, write, size=size, komi=komi, net=net,
                           net_for_size=lambda n: f"go{n}.onnx" if Path(f"go{n}.onnx").exists() else None)
    return (UciProtocol if t.protocol == "uci" else UsiProtocol)(engine, write)


def run(t: Transcript, timeout: float = WAIT_S) -> list[list[str]]:
    """Replay the inputs; the engine's lines per block (block 0: before the first input)."""
    out = Collector(t.protocol)
    proto = _start(t, out)
    live = True
    try:
        out.wait_for(t.blocks[0].expected, timeout)
        for block in t.blocks[1:]:
            out.next_input()
            if live:  # after quit the loop reads no more (as run() would)
                live = proto.handle(block.line or "")
                if not out.wait_for(block.expected, timeout):
                    timeout = min(timeout, 2.0)  # failing already: don't wait long for the rest
    finally:
        proto.shutdown()
    return out.blocks


def render(t: Transcript, actual: list[list[str]]) -> str:
    """The session as it went, in the transcript format."""
    lines = [f"#! {shlex.join(t.argv)}", *actual[0]]
    for block, got in zip(t.blocks[1:], actual[1:]):
        lines.append(f"> {block.line}" if block.line else ">")
        lines += got
    return "\n".join(lines).replace(__version__, "$VERSION") + "\n"


def check(path: Path) -> None:
    t = parse(path)
    actual = run(t)
    bad = [k for k, (b, got) in enumerate(zip(t.blocks, actual)) if not matches(b.expected, got, t.protocol)]
    if bad:
        first, got = t.blocks[bad[0]], actual[bad[0]]
        where = f"after line {first.lineno} ({first.line!r})" if first.line is not None else "at start"
        diff = "\n".join(difflib.unified_diff(first.expected, got, "expected", "got", lineterm=""))
        pytest.fail(f"{path.name}: output differs {where} (and in {len(bad) - 1} more blocks):\n{diff}\n\n"
                    f"The session went:\n{render(t, actual)}", pytrace=False)


# -- the tests ------------------------------------------------------------------------------------------

@pytest.fixture()
def in_nets(nets, monkeypatch) -> Path:
    monkeypatch.chdir(nets)
    # smart pruning acts from 200 ms into a search, as lc0's does; hold every search in its first
    # 200 ms so the fixed-node numbers do not depend on the machine's speed
    monkeypatch.setattr(stoppers, "SMART_PRUNING_TOLERANCE_S", float("inf"))
    return nets


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(path: Path, in_nets) -> None:
    for _ in range(int(os.environ.get("TABULA_TRANSCRIPT_RUNS", "1"))):
        check(path)


def test_transcripts_are_stable(in_nets) -> None:
    """Run the UCI one again in the same process: warm caches and compiled kernels change nothing."""
    check(HERE / "uci_session.txt")


def test_format(tmp_path) -> None:
    """The runner's own rules: comments, empty inputs, blank output lines, ``...`` only for progress."""
    f = tmp_path / "t.txt"
    f.write_text("#! tabula gtp --net go9.onnx\n# a comment\n> 1 name\n=1 Tabula\n\n>\n#\n")
    t = parse(f)
    assert t.protocol == "gtp" and t.argv[2:] == ["--net", "go9.onnx"]
    assert [(b.line, b.expected) for b in t.blocks] == [(None, []), ("1 name", ["=1 Tabula", ""]), ("", [])]
    assert mask("info depth 3 seldepth 5 time 12 nodes 64 score cp 3 hashfull 0 nps 5333 pv e2e4", "uci") == \
        "info depth 3 seldepth 5 time * nodes 64 score cp 3 hashfull 0 nps * pv e2e4"
    assert mask("info string time 12", "uci") == "info string time 12"
    prog = "info depth 1 seldepth 1 time * nodes 2 score mate 1 hashfull 0 nps * pv a1a8"
    assert matches(["...", "bestmove a1a8"], [prog, prog, "bestmove a1a8"], "uci")
    assert matches(["...", "bestmove a1a8"], ["bestmove a1a8"], "uci")
    assert matches([prog, "..."], [prog], "uci")
    assert not matches(["...", "bestmove a1a8"], ["info string hello", "bestmove a1a8"], "uci")
    assert not matches(["...", "readyok"], ["bestmove a1a8", "readyok"], "uci")
    assert matches(["=", "...", ""], ["=", "info move pass visits 1", ""], "gtp")
    assert not matches(["=", "..."], ["=", "play pass"], "gtp")
    assert matches(["readyok", prog, "..."], ["readyok"], "uci", so_far=True)
    assert not matches(["readyok", prog, "..."], ["bestmove a1a8"], "uci", so_far=True)
