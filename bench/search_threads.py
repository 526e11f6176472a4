"""The ``Threads`` × ``SearchThreads`` (× onnxruntime spinning) table of the README's "Search
threads" section: the compiled search's nps for each setting, measured in one run, rounds
interleaved (reversed every other round) so a shared machine's drift falls on every setting alike;
middlegames of ``bench/data/chess.txt``, a fresh tree per position, the eval cache off
(:func:`tabula.bench.nps.search_position`).

    python -m tabula.bench.search_threads NET [--seconds 1.5] [--rounds 2] [--batch 16]
"""

from __future__ import annotations

import argparse
from typing import Sequence

from tabula.bench.nps import _TimedEvaluator, load_positions, parse_position, search_position
from tabula.engine.evaluator import OnnxEvaluator
from tabula.engine.search.native import warm_up

#: (Threads, SearchThreads, spinning) measured
SETTINGS: tuple[tuple[int, int, bool], ...] = ((1, 1, False), (2, 1, False), (2, 1, True), (2, 2, False),
                                               (2, 3, False), (3, 2, False), (2, 2, True))


def measure(net: str, seconds: float, rounds: int, batch: int,
            settings: Sequence[tuple[int, int, bool]] = SETTINGS) -> dict[tuple[int, int, bool], tuple[float, float]]:
    """(nps, search CPU µs per node) of each setting, over positions 2–5 of the chess set."""
    specs = load_positions("chess")[1:5]
    warm_up(True)
    evs = {c: OnnxEvaluator(net, backend="cpu", threads=c[0], callers=c[1], spin=c[2], max_batch=batch)
           for c in settings}
    total = {c: [0, 0.0, 0.0] for c in settings}
    try:
        for rnd in range(rounds):
            for c in (settings if rnd % 2 == 0 else settings[::-1]):
                timed = _TimedEvaluator(evs[c])
                try:
                    for spec in specs:
                        r = search_position(evs[c], parse_position("chess", spec), batch, seconds=seconds,
                                            timed=timed, search_threads=c[1])
                        total[c][0] += r.playouts
                        total[c][1] += r.wall
                        total[c][2] += r.cpu
                finally:
                    timed.close()
    finally:
        for ev in evs.values():
            ev.close()
    return {c: (n / w, cpu / max(n, 1) * 1e6) for c, (n, w, cpu) in total.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("net")
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    a = ap.parse_args()
    print("| Threads | SearchThreads | spinning | nps | search CPU µs/node |\n|---|---|---|---|---|")
    for (threads, search, spin), (nps, cpu) in measure(a.net, a.seconds, a.rounds, a.batch).items():
        print(f"| {threads} | {search} | {'on' if spin else 'off'} | {nps:,.0f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
