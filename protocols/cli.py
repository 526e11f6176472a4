"""The ``tabula`` command line (click): protocol loops, benchmark, match runner, net tools.

``tabula uci`` / ``tabula-uci`` and ``tabula usi`` / ``tabula-usi`` (no arguments, for GUIs
that register one executable) start the chess / shogi engine on the bundled net unless
``--net`` is given (or the GUI sets the ``WeightsFile`` option).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from tabula.engine import __version__
from tabula.engine.controller import Engine
from tabula.engine.evaluator import BACKENDS
from tabula.engine.options import OptionError


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


def _set_options(engine: Engine, options: tuple[str, ...]) -> None:
    """Apply ``-o NAME=VALUE`` settings; an unknown name or a bad value is a usage error."""
    for text in options:
        name, sep, value = text.partition("=")
        try:
            if not sep:
                raise OptionError(f"expected NAME=VALUE, got {text!r}")
            engine.set_option(name.strip(), value.strip())
        except OptionError as exc:
            raise click.BadParameter(str(exc), param_hint="-o/--option") from None


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
option_option = click.option("-o", "--option", "options", multiple=True, metavar="NAME=VALUE",
                             help="Set any engine option, as setoption would (a UCI/USI GUI may still change it); "
                                  "repeatable, e.g. -o CPuct=1.2 -o PolicyTemperature=1.0.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tabula")
def main() -> None:
    """Tabula: an AlphaZero-style MCTS engine for ONNX networks."""


@main.command()
@net_option
@backend_option
@threads_option
@option_option
@verbose_option
def uci(net: str | None, backend: str | None, threads: int | None, options: tuple[str, ...],
        verbose: bool) -> None:
    """Play chess over UCI on stdin/stdout."""
    from tabula.nets import default_net

    from .uci import UCI_PARAMS, UciProtocol

    _logging(verbose)
    engine = Engine("chess", default_net=default_net("chess"), extra_params=UCI_PARAMS)
    _configure(engine, net, backend, threads)
    _set_options(engine, options)
    UciProtocol(engine).run(_stdin_lines())


@main.command()
@net_option
@backend_option
@threads_option
@option_option
@verbose_option
def usi(net: str | None, backend: str | None, threads: int | None, options: tuple[str, ...],
        verbose: bool) -> None:
    """Play shogi over USI on stdin/stdout."""
    from tabula.nets import default_net

    from .usi import USI_PARAMS, UsiProtocol

    _logging(verbose)
    engine = Engine("shogi", default_net=default_net("shogi"), extra_params=USI_PARAMS)
    _configure(engine, net, backend, threads)
    _set_options(engine, options)
    UsiProtocol(engine).run(_stdin_lines())


@main.command()
@net_option
@backend_option
@threads_option
@click.option("--size", type=click.IntRange(2, 25), default=None,
              help="Board size before the GUI sends boardsize (default: the --net's size, else 19).")
@click.option("--komi", type=float, default=7.5, show_default=True, help="Komi before the GUI sends komi.")
@click.option("--visits", type=click.IntRange(0), default=None,
              help="Root visits per move without a clock, those kept from the last move's tree included "
                   "(default 800; 0: no cap).")
@click.option("--playouts", type=click.IntRange(0), default=None,
              help="New playouts per move, kept visits not counted (alone: instead of --visits).")
@click.option("--movetime", type=click.FloatRange(0), default=None,
              help="Seconds per move without a clock (instead of --visits).")
@click.option("--resign-threshold", type=click.FloatRange(0, 0.5), default=None,
              help="Resign below this winrate, a fraction (sets ResignThreshold in per mille: "
                   "0.05, the default, is 50; 0: never).")
@click.option("--net-scores-passes/--tromp-taylor-passes", default=None,
              help="Inside the search, score a double pass the net disputes with the net's value "
                   "(dead stones still on the board; the default), or always by Tromp-Taylor.")
@option_option
@verbose_option
def gtp(net: str | None, backend: str | None, threads: int | None, size: int | None, komi: float,
        visits: int | None, playouts: int | None, movetime: float | None, resign_threshold: float | None,
        net_scores_passes: bool | None, options: tuple[str, ...], verbose: bool) -> None:
    """Play go over GTP on stdin/stdout (Sabaki, GoGui, Lizzie, KGS clients)."""
    from tabula.nets import default_net

    from .gtp import GTP_PARAMS, GtpProtocol

    _logging(verbose)
    engine = Engine("go", extra_params=GTP_PARAMS)
    _configure(engine, None, backend, threads)
    if (movetime is not None or playouts is not None) and visits is None:
        visits = 0  # --movetime or --playouts alone: no visit cap
    permille = None if resign_threshold is None else round(1000 * resign_threshold)
    for name, value in (("Visits", visits), ("Playouts", playouts), ("MoveTime", movetime),
                        ("ResignThreshold", permille)):
        if value is not None:
            engine.set_option(name, str(value))
    if net_scores_passes is not None:
        engine.set_option("NetScoresPasses", str(net_scores_passes))
    _set_options(engine, options)
    GtpProtocol(engine, size=size, komi=komi, net=net,
                net_for_size=lambda n: default_net(f"go{n}")).run(_stdin_lines())


@main.group()
def nets() -> None:
    """Network tools: describe, quantise and tag ONNX nets, import KataGo models."""


@nets.command("info")
@click.argument("net", type=click.Path(exists=True, dir_okay=False))
def nets_info(net: str) -> None:
    """Game, codec, signature, parameter count, precision and metadata of NET."""
    from tabula.nets.tools import net_info

    try:
        info = net_info(net)
    except Exception as exc:  # load/mismatch errors carry their own message
        raise click.ClickException(str(exc)) from None
    click.echo("\n".join(info.lines()))


@nets.command("quantize")
@click.argument("net", type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "to", type=click.Choice(["fp16", "int8"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Output file (default: NET with .fp16/.int8 before .onnx).")
@click.option("--positions", type=int, default=200, show_default=True,
              help="Positions for the top-move agreement check.")
def nets_quantize(net: str, to: str, output: str | None, positions: int) -> None:
    """Write an fp16/int8 copy of NET (metadata kept) and report size, speed and agreement."""
    from pathlib import Path

    from tabula.nets.tools import compare, quantize

    out = output or str(Path(net).with_suffix(f".{to}.onnx"))
    try:
        quantize(net, out, to)
        report = compare(net, out, positions=positions)
    except Exception as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {out}")
    click.echo("\n".join(report.lines()))


@nets.command("tag")
@click.argument("net", type=click.Path(exists=True, dir_okay=False))
@click.option("--lc0-format", "lc0_format", default=None, metavar="N|NAME",
              help="lc0 input format: 1-5, 132, 133, lc0's name (INPUT_112_WITH_CANONICALIZATION_HECTOPLIES) "
                   "or Tabula's (classical, castling-plane, canonical, hectoplies, hectoplies-armageddon, "
                   "canonical-v2, canonical-v2-armageddon).")
@click.option("--from", "weights", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Read the format from the lc0 weights file (.pb.gz) the ONNX was made from.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write a tagged copy here (default: tag NET in place).")
def nets_tag(net: str, lc0_format: str | None, weights: str | None, output: str | None) -> None:
    """Record in an lc0 ONNX (from 'lc0 leela2onnx') which lc0 input format it has."""
    from tabula.nets.tools import tag_lc0_format

    try:
        path, name = tag_lc0_format(net, lc0_format, weights=weights, output=output)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    except ModuleNotFoundError as exc:
        raise click.ClickException(f"{exc}: tagging needs the onnx package (pip install onnx)") from None
    click.echo(f"tagged {path}: tabula.lc0_format = {name}")


@nets.command("import-katago")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="ONNX file to write (default: MODEL's name with .onnx instead of .bin.gz).")
def nets_import_katago(model: str, output: str | None) -> None:
    """Convert a KataGo model (.bin.gz, .bin, .txt.gz, .txt) to an ONNX go net."""
    from tabula.nets.katago_import import import_katago

    try:
        summary = import_katago(model, output)
    except (ValueError, OSError, RuntimeError) as exc:  # format errors, I/O, the missing-onnx hint
        raise click.ClickException(str(exc)) from None
    click.echo("\n".join(summary.lines()))


# -- bench and match (bench/nps.py, bench/match/) -----------------------------------------------
def _progress_bar(done: int, total: int, label: str) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<32.32}{end}")
    sys.stderr.flush()


def _default_bench_net(game: str) -> str | None:
    from tabula.nets import default_net

    if game == "go":
        return default_net("go9") or default_net("go19")
    return default_net(game)


@main.command()
@click.option("--game", type=click.Choice(["chess", "shogi", "go"]), default="chess", show_default=True)
@net_option
@click.option("--backend", type=click.Choice((*BACKENDS, "trivial")), default="auto", show_default=True,
              help="onnxruntime execution provider; trivial: no network (uniform priors, a fixed value "
                   "answered at once), to measure the search alone.")
@click.option("--search", "search", type=click.Choice(["native", "python"]), default=None,
              help="The compiled search or the Python reference [default: the one the engine runs for the game].")
@click.option("--backend-options", default="", metavar="K=V,…",
              help="cuda/tensorrt provider options, e.g. trt_fp16_enable=True.")
@click.option("--batch", "batches", default="16,32,64,128,256", show_default=True,
              help="Minibatch sizes to measure, comma-separated.")
@threads_option
@click.option("--search-threads", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Search threads of the compiled search on one tree, each with its own batch in the network.")
@click.option("--seconds", type=click.FloatRange(0.01), default=None,
              help="Search time per position [default: 1, or none when --nodes is given].")
@click.option("--nodes", type=click.IntRange(1), default=None, help="Playouts per position.")
@click.option("--ceiling-seconds", type=click.FloatRange(0.01), default=None,
              help="Time of the network-alone run per batch [default: 2 × --seconds].")
@click.option("--positions", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Position file instead of the shipped set (bench/data/GAME.txt).")
@click.option("--max-positions", type=click.IntRange(1), default=None, help="Use only the first N positions.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per configuration, as a list, on stdout.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write nps and ceiling against batch size to this PNG (needs matplotlib).")
@click.option("--profile", is_flag=True, help="Also run each batch's searches under cProfile; print the top functions.")
@click.option("--profile-top", type=click.IntRange(1), default=25, show_default=True)
@click.option("--switch-interval", type=click.FloatRange(1e-6), default=None,
              help="Python's GIL switch interval in seconds during the run (default: Python's 0.005).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr [default: if a terminal].")
def bench(game: str, net: str | None, backend: str, search: str | None, backend_options: str, batches: str,
          threads: int | None, search_threads: int,
          seconds: float | None, nodes: int | None, ceiling_seconds: float | None, positions: str | None, max_positions: int | None,
          as_json: bool, plot: str | None, profile: bool, profile_top: int, switch_interval: float | None,
          progress: bool | None) -> None:
    """Search nodes/s against the network alone (the ceiling), per batch size.

    Each position is searched on a fresh tree with the eval cache off; see bench/nps.py for
    the definition of every column.
    """
    import json

    from tabula.bench.nps import format_table, run_bench
    from tabula.bench.nps import plot as plot_results

    try:
        sizes = [int(x) for x in batches.replace(" ", "").split(",") if x]
    except ValueError:
        raise click.BadParameter(f"{batches!r}: give batch sizes as numbers, e.g. 16,64,256",
                                 param_hint="--batch") from None
    if not sizes or min(sizes) < 1:
        raise click.BadParameter("batch sizes must be positive", param_hint="--batch")
    path = net or _default_bench_net(game)
    if not path:
        raise click.ClickException(f"no bundled {game} net: give --net PATH")
    if seconds is None and nodes is None:
        seconds = 1.0
    if plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise click.ClickException("--plot needs matplotlib, which is not installed: "
                                       "pip install matplotlib") from None
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    show = sys.stderr.isatty() if progress is None else progress
    try:
        results = run_bench(path, game=game, backend=backend, batches=sizes, threads=threads, seconds=seconds,
                            nodes=nodes, ceiling_seconds=ceiling_seconds, positions=positions,
                            max_positions=max_positions, profile=profile, profile_top=profile_top,
                            progress=_progress_bar if show else None, backend_options=backend_options,
                            search=search, search_threads=search_threads)
    except (OSError, ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], indent=1))
    else:
        click.echo(format_table(results))
    if profile:
        for r in results:
            click.echo(f"\n== cProfile of the search thread, batch {r.batch} ==\n{r.profile}", err=as_json)
    if plot:
        click.echo(f"plot written to {plot_results(results, plot)}", err=True)


@main.command()
@click.option("--game", type=click.Choice(["chess", "shogi", "go"]), default="chess", show_default=True)
@click.option("--engine", "engines", multiple=True, required=True, metavar="SPEC",
              help="\"cmd='COMMAND LINE' name=NAME option.X=Y [tc=…] [nodes=N] [st=S] [depth=D]\"; twice.")
@click.option("--games", type=click.IntRange(1), default=2, show_default=True,
              help="Games in all; consecutive games form a pair (one opening, colours swapped).")
@click.option("--openings", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Chess: EPD / FEN lines / PGN. Shogi: 'startpos|sfen S [moves …]' lines. "
                   "Go: lines of vertices played from Black, e.g. 'E5 C3 G7'.")
@click.option("--opening-plies", type=click.IntRange(0), default=None, help="Cut openings to N plies.")
@click.option("--opening-order", type=click.Choice(["sequential", "random"]), default="sequential",
              show_default=True)
@click.option("--seed", type=int, default=None, help="Seed for --opening-order random.")
@click.option("--tc", default=None, help="Clock BASE+INC in seconds, e.g. 10+0.1.")
@click.option("--byoyomi", type=click.FloatRange(0), default=0.0, help="Byoyomi in seconds per move (shogi, go).")
@click.option("--nodes", type=click.IntRange(1), default=None, help="Nodes per move.")
@click.option("--st", "movetime", type=click.FloatRange(0.001), default=None, help="Seconds per move.")
@click.option("--depth", type=click.IntRange(1), default=None, help="Depth per move.")
@click.option("--concurrency", type=click.IntRange(1), default=1, show_default=True,
              help="Games played at the same time (with --ray and no address: the local Ray's CPUs).")
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None, metavar="[ADDRESS]",
              help="Play every game as a Ray task: on the cluster at ADDRESS (auto, HOST:PORT, ray://HOST:PORT), "
                   "or without one on a local Ray started for the run. Needs pip install -e '.[ray]'.")
@click.option("--resign-moves", type=click.IntRange(0), default=0, show_default=True,
              help="Adjudicate a loss after this many own moves at or below -resign-score (0: off).")
@click.option("--resign-score", type=click.IntRange(1), default=1000, show_default=True, help="Centipawns.")
@click.option("--draw-moves", type=click.IntRange(0), default=0, show_default=True,
              help="Adjudicate a draw after this many moves each within ±draw-score (0: off).")
@click.option("--draw-score", type=click.IntRange(0), default=10, show_default=True, help="Centipawns.")
@click.option("--draw-movenumber", type=click.IntRange(0), default=40, show_default=True,
              help="Earliest move number for draw adjudication.")
@click.option("--max-moves", type=click.IntRange(0), default=None,
              help="Draw after N moves (chess: full moves; shogi: plies, default 512; go: score after N).")
@click.option("--sprt", default=None, metavar="elo0=0,elo1=5,alpha=0.05,beta=0.05",
              help="Stop early once the SPRT decides.")
@click.option("--out", "--pgn", "out", type=click.Path(dir_okay=False), default=None,
              help="Write games: chess PGN; shogi CSA (.csa) or SFEN-move lines; go SGF.")
@click.option("--size", type=click.IntRange(2, 25), default=9, show_default=True, help="Go board size.")
@click.option("--komi", type=float, default=7.0, show_default=True, help="Go komi.")
@click.option("--scorer", default=None, help="Go: GTP scorer command ('' for Tromp-Taylor) [default: GNU Go].")
@click.option("--margin", type=click.FloatRange(0), default=0.1, show_default=True,
              help="Seconds over the clock tolerated before a loss on time.")
@click.option("--move-timeout", type=click.FloatRange(0.1), default=60.0, show_default=True,
              help="Seconds an engine may think when no clock bounds it.")
@click.option("--start-timeout", type=click.FloatRange(0.1), default=30.0, show_default=True,
              help="Seconds for an engine to start and answer readyok.")
@click.option("--event", default="Tabula match", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The summary and every result as JSON on stdout.")
@click.option("--engine-stderr", is_flag=True, help="Let the engines write to stderr (default: discarded).")
@click.option("-q", "--quiet", is_flag=True, help="No per-game lines on stderr.")
@verbose_option
def match(as_json: bool, quiet: bool, verbose: bool, ray_address: str | None, **options: Any) -> None:
    """Play two engines against each other; report Elo, LOS and (with --sprt) the SPRT.

    Every opening is played twice, once with each colour. A crash, a move over the clock or
    an illegal move loses that game (the engine is restarted and the match goes on). With
    --ray each game is a Ray task on a cluster node; the engines must be on every node.
    """
    import json

    from tabula.bench.cluster import ClusterError, require_ray
    from tabula.bench.match import MatchError, match_config, run_match
    from tabula.bench.match.ray_runner import run_match_ray

    _logging(verbose)
    if not verbose:
        logging.getLogger("chess.engine").setLevel(logging.ERROR)  # engines' stray "info string" lines
    try:
        cfg = match_config(**options)
        if ray_address is not None:
            require_ray()
    except (MatchError, ValueError, ClusterError) as exc:
        raise click.ClickException(str(exc)) from None

    def on_game(rec, res) -> None:  # noqa: ANN001
        if quiet:
            return
        t = res.tally
        click.echo(f"Finished game {rec.number} ({rec.players[0]} vs {rec.players[1]}): {rec.result} "
                   f"{{{rec.reason}}}  [{t.wins}-{t.losses}-{t.draws}]", err=True)

    try:
        if ray_address is None:
            result = run_match(cfg, on_game=on_game)
        else:
            result = run_match_ray(cfg, ray_address, on_game=on_game)
    except (MatchError, ClusterError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=1))
    else:
        click.echo(result.summary())


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
