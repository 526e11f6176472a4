"""The shard loop every distiller shares, here or on a Ray cluster.

A distiller supplies ``open_source``: a picklable function (its teacher class with its settings)
that starts a teacher in the calling process. The teacher (:class:`ShardSource`) names itself,
carries the metadata for every shard and gives, per shard, a fresh writer and a function that
plays game ``g`` with the shard's random generator and the set of position keys the shard has
recorded (so a shard keeps each position once), returning (positions recorded, plies played).

Shard ``k``'s games depend only on ``seed`` and ``k`` (:func:`play_shard`), so a stopped run
resumes where it stopped, skipping finished shards, and a shard made on any node of a cluster is
the shard made here. Positions met in several shards are dropped when shards are merged into the
folder (:class:`~nets.shard_store.ShardMerger`), keeping the first shard's: the folder is the
same set of positions locally and on Ray for the same seed and shard count.

Locally one teacher plays every shard in order. With ``ray_address`` (``""`` for a local Ray,
``auto`` or an address for a cluster) each missing shard is a Ray task that starts its own
teacher on its node; Ray replays a shard whose worker is lost (``max_retries``), and the driver
writes each shard once, as it arrives.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import random
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, TypeVar

import numpy as np

from .progress import Throttle, log, progress
from .shard_store import ShardMerger, part_path, shard_done, shard_path, write_shard

__all__ = ["EngineTeacher", "OpenSource", "PlayGame", "ShardSink", "ShardSource", "distill", "play_shard",
           "ray_option", "run_shards", "settings_from", "shard_parser", "shard_path"]

#: How often Ray starts a shard whose worker was lost before the run fails.
SHARD_RETRIES = 3


class ShardSink(Protocol):
    """What a distiller's shard writer offers the loop."""

    def arrays(self, meta: dict) -> Mapping[str, np.ndarray]: ...


PlayGame = Callable[[random.Random, set[int], int], tuple[int, int]]


class ShardSource(Protocol):
    """A running teacher: ``name``, ``meta`` for every shard, a writer and game player per shard."""

    name: str
    meta: dict

    def new_shard(self) -> tuple[ShardSink, PlayGame]: ...

    def close(self) -> None: ...


OpenSource = Callable[[], ShardSource]
GameTick = Callable[[int, int, int, int], None]


class EngineTeacher:
    """A teacher engine as the shard loop's source (:class:`ShardSource`), one per process.

    A distiller's subclass says how to start its engine (:meth:`open_engine`), what a shard's
    writer is (:meth:`new_writer`) and how one game is played (:meth:`play`); ``settings`` is
    its settings dataclass, recorded in every shard's metadata with :meth:`extra_meta`."""

    def __init__(self, settings: Any) -> None:
        self.s = settings
        self.eng = self.open_engine(settings)
        self.name: str = self.eng.name
        self.meta = {"teacher": self.name, "settings": dataclasses.asdict(settings), **self.extra_meta(settings),
                     "created": time.strftime("%Y-%m-%d")}

    def open_engine(self, settings: Any) -> Any:
        """The running teacher engine (it has ``name`` and ``quit()``)."""
        raise NotImplementedError

    def extra_meta(self, settings: Any) -> dict:
        """Metadata beyond the teacher's name and settings (none unless a distiller adds some)."""
        return {}

    def new_writer(self) -> ShardSink:
        """A fresh writer for one shard."""
        raise NotImplementedError

    def play(self, rng: random.Random, seen: set[int], g: int, writer: ShardSink, shard: dict) -> tuple[int, int]:
        """Play game ``g`` of a shard into ``writer``; ``shard`` is that shard's own scratch dict."""
        raise NotImplementedError

    def new_shard(self) -> tuple[ShardSink, PlayGame]:
        writer, shard = self.new_writer(), {}
        return writer, lambda rng, seen, g: self.play(rng, seen, g, writer, shard)

    def close(self) -> None:
        self.eng.quit()


def distill(teacher: type[EngineTeacher], out: Path, n_shards: int, settings: Any,
            ray_address: str | None = None) -> None:
    """Make shards ``0 .. n_shards-1`` of ``teacher`` (with ``settings``: its ``seed`` and
    ``games_per_shard``) into ``out``, skipping the ones that exist (``ray_address``: as Ray
    tasks, see :func:`run_shards`)."""
    run_shards(out, n_shards, seed=settings.seed, games_per_shard=settings.games_per_shard,
               open_source=functools.partial(teacher, settings), ray_address=ray_address)


def play_shard(source: ShardSource, k: int, *, seed: int, games_per_shard: int,
               on_game: GameTick | None = None) -> Mapping[str, np.ndarray]:
    """Shard ``k``'s arrays, a function of ``seed`` and ``k`` alone. Blocks while the games run;
    ``on_game(k, g, positions, plies)`` after each game."""
    rng = random.Random(seed * 1_000_003 + k)
    writer, play = source.new_shard()
    seen: set[int] = set()
    for g in range(games_per_shard):
        rec, plies = play(rng, seen, g)
        if on_game is not None:
            on_game(k, g, rec, plies)
    return writer.arrays({**source.meta, "shard": k})


class _RayAction(argparse.Action):
    """``--ray [ADDRESS]``: the address, ``""`` without one; a usage error when Ray is missing."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from ..bench.cluster import ClusterError, require_ray

        try:
            require_ray()
        except ClusterError as exc:
            parser.error(str(exc))
        setattr(namespace, self.dest, values or "")


def ray_option(ap: argparse.ArgumentParser) -> None:
    """Add the distillers' ``--ray [ADDRESS]`` option (``a.ray``: None without it)."""
    ap.add_argument("--ray", nargs="?", action=_RayAction, default=None, metavar="ADDRESS",
                    help="make the shards as Ray tasks: on the cluster at ADDRESS (auto, HOST:PORT, "
                         "ray://HOST:PORT), or without one on a local Ray started for the run "
                         "(pip install -e '.[ray]')")


def shard_parser(doc: str, defaults: Any, *, out: str, shards: int) -> argparse.ArgumentParser:
    """The options every distiller has (``--out --shards --games-per-shard --engine --seed --ray``);
    ``defaults`` is the distiller's default settings. The caller adds its own and parses."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(out))
    ap.add_argument("--shards", type=int, default=shards)
    ap.add_argument("--games-per-shard", type=int, default=defaults.games_per_shard)
    ap.add_argument("--engine", default=defaults.engine)
    ap.add_argument("--seed", type=int, default=defaults.seed)
    ray_option(ap)
    return ap


S = TypeVar("S")


def settings_from(a: argparse.Namespace, cls: type[S]) -> S:
    """The settings dataclass ``cls`` from the parsed options of the same names (lists as tuples)."""
    kw = {f.name: getattr(a, f.name) for f in dataclasses.fields(cls) if hasattr(a, f.name)}  # type: ignore[arg-type]
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()})


def _shard_task(open_source: OpenSource, k: int, seed: int, games_per_shard: int) -> Mapping[str, np.ndarray]:
    """One shard on a Ray worker, with a teacher of its own."""
    source = open_source()
    try:
        return play_shard(source, k, seed=seed, games_per_shard=games_per_shard)
    finally:
        source.close()


def run_shards(out: Path, n_shards: int, *, seed: int, games_per_shard: int, open_source: OpenSource,
               ray_address: str | None = None) -> None:
    """Make shards ``0 .. n_shards-1`` in ``out``, skipping the ones that exist; blocks until done.
    ``ray_address`` None: here, one teacher; otherwise as Ray tasks (``""``: a local Ray)."""
    out.mkdir(parents=True, exist_ok=True)
    merger = ShardMerger(out, n_shards)
    merger.advance()  # parts a stopped run left behind
    todo = [k for k in range(n_shards) if not shard_done(out, k)]
    log(f"{n_shards - len(todo)} of {n_shards} shards done, {merger.positions} positions merged"
        + (f"; {len(todo)} to make on Ray" if ray_address is not None and todo else ""))
    if todo:
        if ray_address is None:
            _run_here(out, todo, n_shards, seed, games_per_shard, open_source, merger)
        else:
            _run_on_ray(out, todo, n_shards, seed, games_per_shard, open_source, merger, ray_address)
    merger.advance()
    log(f"\nfinished: {merger.positions} positions in {merger.next} merged shards")


def _run_here(out: Path, todo: list[int], n_shards: int, seed: int, games_per_shard: int,
              open_source: OpenSource, merger: ShardMerger) -> None:
    source = open_source()
    log(f"teacher {source.name}")
    t0, tick = time.time(), Throttle()
    totals = [0, 0, 0]  # positions, plies, games

    def on_game(k: int, g: int, rec: int, plies: int) -> None:
        totals[0] += rec
        totals[1] += plies
        totals[2] += 1
        if tick.due():
            el = max(1e-9, time.time() - t0)
            progress(f"shard {k + 1}/{n_shards} game {g + 1}/{games_per_shard} | positions "
                     f"{merger.positions} merged (+{totals[0]} new before the merge) | {totals[0] / el:.1f} pos/s, "
                     f"{totals[2] / el:.2f} games/s, {totals[1] / totals[2]:.0f} plies/game | {el / 60:.1f} min")

    try:
        for k in todo:
            write_shard(part_path(out, k), play_shard(source, k, seed=seed, games_per_shard=games_per_shard,
                                                      on_game=on_game))
            merger.advance()
    finally:
        source.close()


def _run_on_ray(out: Path, todo: list[int], n_shards: int, seed: int, games_per_shard: int,
                open_source: OpenSource, merger: ShardMerger, address: str) -> None:
    from ..bench.cluster import connected, cpu_slots

    with connected(address) as ray:
        task = ray.remote(num_cpus=1, max_retries=SHARD_RETRIES)(_shard_task)
        window = 2 * cpu_slots(ray)  # one queued behind each running shard; results stay few
        source_ref = ray.put(open_source)
        pending = list(todo)
        in_flight: dict = {}
        t0, made = time.time(), 0
        try:
            while pending or in_flight:
                while pending and len(in_flight) < window:
                    k = pending.pop(0)
                    in_flight[task.remote(source_ref, k, seed, games_per_shard)] = k
                (ref,), _ = ray.wait(list(in_flight), num_returns=1)
                k = in_flight.pop(ref)
                write_shard(part_path(out, k), ray.get(ref))
                merger.advance()
                made += 1
                el = max(1e-9, time.time() - t0)
                progress(f"shard {k} made ({made}/{len(todo)}), {merger.next}/{n_shards} merged, "
                         f"{merger.positions} positions | {made * games_per_shard / el:.2f} games/s | "
                         f"{el / 60:.1f} min")
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)
