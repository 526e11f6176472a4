"""The ``tabula`` command line (click): protocol loops, benchmark, match runner, net tools.

``tabula uci`` / ``tabula-uci`` (no arguments, for GUIs that register one
executable) start the chess engine on the bundled net unless ``--net`` is given.
"""

from __future__ import annotations

import logging
import sys

import click

from engine import __version__
from engine.controller import Engine
from engine.evaluator import BACKENDS


def _stdin_lines():
    """Lines of standard input, read as they arrive (no read-ahead buffering)."""
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        yield line


def _configure(engine: Engine, net: str | None, backend: str | None, threads: int | None) -> None:
    if net:
        engine.set_option("WeightsFile", net)
    if backend:
        engine.set_option("Backend", backend)
    if threads:
        engine.set_option("Threads", str(threads))


def _logging(verbose: bool) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")


net_option = click.option("--net", "net", type=click.Path(dir_okay=False), default=None,
                          help="ONNX network (default: the bundled net for the game).")
backend_option = click.option("--backend", type=click.Choice(BACKENDS), default=None,
                              help="onnxruntime execution provider.")
threads_option = click.option("--threads", type=click.IntRange(1, 256), default=None,
                              help="CPU threads for the network.")
verbose_option = click.option("-v", "--verbose", is_flag=True, help="Debug log on stderr.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tabula")
def main() -> None:
    """Tabula: an AlphaZero-style MCTS engine for ONNX networks."""


@main.command()
@net_option
@backend_option
@threads_option
@verbose_option
def uci(net: str | None, backend: str | None, threads: int | None, verbose: bool) -> None:
    """Play chess over UCI on stdin/stdout."""
    from nets import default_net

    from .uci import UCI_PARAMS, UciProtocol

    _logging(verbose)
    engine = Engine("chess", default_net=default_net("chess"), extra_params=UCI_PARAMS)
    _configure(engine, net, backend, threads)
    UciProtocol(engine).run(_stdin_lines())


def uci_main() -> None:
    """Entry point ``tabula-uci`` (no arguments needed)."""
    main(["uci", *sys.argv[1:]])


def usi_main() -> None:
    """Entry point ``tabula-usi`` (no arguments needed)."""
    main(["usi", *sys.argv[1:]])


def gtp_main() -> None:
    """Entry point ``tabula-gtp`` (no arguments needed)."""
    main(["gtp", *sys.argv[1:]])


if __name__ == "__main__":  # pragma: no cover
    main()
