"""Train the bundled 9×9 go net (Tabula's 17-plane format) from :mod:`nets.distill_go` shards.

Two steps, as :mod:`nets.train_shogi` (whose packed-plane training step this reuses):

1. ``encode`` (here, needs our go rules + codec): replay every game with
   :class:`~engine.games.go.GoState`, write :func:`engine.codecs.go_planes.encode_planes`
   of each recorded position as packed bits (planes 0–15: 16×N² bits; plane 16, the
   all-ones-when-Black-to-move plane, as 1 bit), GNU Go's move and its ``top_moves`` as
   policy indices (the move code itself: ``row*N + col`` from the bottom, pass = N²), the
   move values and the game's result/margin, into compressed ``part_*.npz`` files.
2. ``train`` (numpy + torch only): a :class:`~nets.model.PolicyValueNet` (``codec="go"``),
   each training position under a random one of the 8 board symmetries, ONNX export.

Targets (defaults; all are options):

* policy: ``1 − --soft-weight`` (0.5) on GNU Go's chosen move + ``--soft-weight`` spread
  over its ``top_moves`` by softmax(value / ``--soft-temp`` (1.0 point)).
* value (tanh for the side to move; trained as BCE of sigmoid(2·logit) against
  (1 + z)/2): z = the game result by GNU Go's ``final_score`` under Chinese rules (+1 win,
  0 jigo, −1 loss); with ``--margin-weight`` w > 0, z = (1 − w)·result + w·tanh(margin /
  ``--margin-scale``) (results of resigned games keep the plain result).

::

    python -m tabula.nets.train_go encode --shards data/distill/go9 --out data/encoded/go9
    python -m tabula.nets.train_go train --data data/encoded/go9 --out data/train/go9
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .train import log, progress
from .train_shogi import (Packed, add_encode_args, add_train_args, iter_shards, load_parts, train_packed,
                          write_parts)

HISTORY_PLANES = 16  # go_planes: 8 boards × 2 colours; plane 16 is the colour plane


# -- 1. encoding -------------------------------------------------------------------------------

def encode_go_shard(path: Path, shard_base: int = 0) -> dict[str, np.ndarray]:
    """One shard's positions as packed planes, policy indices and raw targets.

    Game ids are ``(shard_base + shard number) · 100000 + game``: give each generator's folder
    its own ``shard_base`` so that data sets made apart can be merged.
    """
    from tabula.engine.codecs.go_planes import GO_PLANES, encode_planes
    from tabula.engine.games.go import GoState

    z = np.load(path)
    meta = json.loads(str(z["meta"]))
    size, komi = int(meta["board_size"]), float(meta["komi"])
    n, k = len(z["pos_key"]), z["top_moves"].shape[1]
    shard_no = shard_base + int(path.stem.split("_")[-1])
    feat = np.zeros((n, HISTORY_PLANES * size * size), np.uint8)
    colour = np.zeros((n, GO_PLANES - HISTORY_PLANES), np.uint8)
    pidx = np.full((n, k + 1), -1, np.int16)
    pval = np.zeros((n, k + 1), np.float16)
    moves, offsets = z["game_moves"], z["game_offsets"]
    game, st = -1, None
    for i in np.lexsort((z["pos_ply"], z["pos_game"])):
        g, want = int(z["pos_game"][i]), int(z["pos_ply"][i])
        if g != game:
            game, st = g, GoState(size, komi)
        while st.ply < want:  # the recorded moves are the record: ``pos_key`` is an in-process
            st.push(int(moves[offsets[g] + st.ply]))  # hash whose recipe may change between versions
        planes = encode_planes(st)
        feat[i] = planes[:HISTORY_PLANES].reshape(-1)
        colour[i] = planes[HISTORY_PLANES:, 0, 0]
        c = int(z["top_count"][i])
        pidx[i, 0] = z["teacher_move"][i]
        pidx[i, 1:1 + c] = z["top_moves"][i, :c]
        pval[i, 1:1 + c] = z["top_values"][i, :c]
    return dict(spatial_bits=np.packbits(feat, axis=1, bitorder="little"),
                const_bits=np.packbits(colour, axis=1, bitorder="little"), pidx=pidx, pvalue=pval,
                result=z["result_stm"].astype(np.int8), margin=z["margin_stm"].astype(np.float32),
                game_uid=(shard_no * 100_000 + z["pos_game"]).astype(np.int64))


def encode(a: argparse.Namespace) -> None:
    """``encode`` subcommand."""
    from tabula.engine.codecs.go_planes import GO_PLANES

    shards = iter_shards(a.shards, a.max_shards)
    t0 = time.time()
    chunks = []
    for j, s in enumerate(shards, 1):
        chunks.append(encode_go_shard(s, a.shard_base))
        progress(f"encoded {j}/{len(shards)} shards, {sum(len(c['result']) for c in chunks)} positions, "
                 f"{time.time() - t0:.0f} s")
    log("")
    with np.load(shards[0]) as z:
        src = json.loads(str(z["meta"]))
    meta = {"game": "go", "codec": "go", "board": src["board_size"], "komi": src["komi"],
            "spatial_planes": HISTORY_PLANES, "const_planes": GO_PLANES - HISTORY_PLANES,
            "source": src, "shards": len(shards)}
    write_parts(chunks, a.out, a.part_size, meta)
    res = np.concatenate([c["result"] for c in chunks])
    log(f"{len(res)} positions; results W/D/L for the side to move "
        f"{(res > 0).mean():.3f}/{(res == 0).mean():.3f}/{(res < 0).mean():.3f}")


def merge(a: argparse.Namespace) -> None:
    """``merge`` subcommand: several encoded data sets (same board and planes) → one."""
    arrs, metas = [], []
    for d in a.inputs:
        x, m = load_parts(d)
        arrs.append(x)
        metas.append({**m, "positions": len(x["result"])})
    for m in metas[1:]:
        if (m["board"], m["spatial_planes"], m["const_planes"]) != \
                (metas[0]["board"], metas[0]["spatial_planes"], metas[0]["const_planes"]):
            raise SystemExit("merge: the data sets differ in board size or planes")
    uids = np.concatenate([x["game_uid"] for x in arrs])
    if len(np.unique(uids)) != sum(len(np.unique(x["game_uid"])) for x in arrs):
        raise SystemExit("merge: game ids collide (encode each folder with its own --shard-base)")
    flat = [s for m in metas for s in (m.get("sources") or [m])]  # a merged input brings its own sources
    meta = {**metas[0], "shards": sum(m["shards"] for m in metas), "sources": flat}
    write_parts(arrs, a.out, a.part_size, meta)


def describe_sources(meta: dict, positions: int) -> str:
    """Teacher, level and size of each data set behind an encoded (maybe merged) set of ``positions``."""
    srcs = meta.get("sources") or [{**meta, "positions": positions}]
    parts = []
    for m in srcs:
        src = m.get("source", {})
        s = src.get("settings", {})
        parts.append(f"{m.get('positions', '?')} positions from {m.get('shards')} shards of "
                     f"{src.get('teacher', '?')} self-play ({s.get('random_plies')} random opening plies, "
                     f"seed {s.get('seed')})")
    return " + ".join(parts)


# -- 2. targets, symmetries, command line --------------------------------------------------------

def go_targets(arrs: dict[str, np.ndarray], meta: dict, a: argparse.Namespace) -> Packed:
    """Policy/value targets from the raw encoded arrays."""
    pidx = arrs["pidx"].astype(np.int64)
    top = pidx[:, 1:] >= 0
    v = np.where(top, arrs["pvalue"][:, 1:].astype(np.float32) / a.soft_temp, -np.inf)
    has_top = top.any(1)
    v[~has_top, 0] = 0.0  # rows without top moves: all weight goes to the teacher's move
    v -= v.max(1, keepdims=True)
    soft = np.exp(v) * top
    soft /= np.maximum(soft.sum(1, keepdims=True), 1e-12)
    w = np.where(has_top, a.soft_weight, 0.0)[:, None]
    pprob = np.concatenate([1 - w, w * soft], axis=1).astype(np.float32)
    z = arrs["result"].astype(np.float32)
    if a.margin_weight > 0:
        m = arrs["margin"]
        soft_z = np.where(np.isnan(m), z, np.tanh(np.nan_to_num(m) / a.margin_scale))
        z = (1 - a.margin_weight) * z + a.margin_weight * soft_z
    return Packed(arrs["spatial_bits"], arrs["const_bits"], pidx, pprob, ((z + 1) / 2).astype(np.float32),
                  arrs["game_uid"], meta)


def symmetry_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    """For the 8 symmetries of the N×N board: (gather [8,N²], policy map [8,N²+1]).

    Transformed planes are ``planes.flat[gather[s]]``; a move at point ``p`` becomes
    ``policy_map[s, p]`` (pass stays pass).
    """
    idx = np.arange(n * n).reshape(n, n)
    gathers, maps = [], []
    for k in range(4):
        for flip in (False, True):
            g = np.rot90(idx, k)
            g = np.fliplr(g) if flip else g
            src = g.reshape(-1)
            inv = np.empty(n * n + 1, np.int64)
            inv[src] = np.arange(n * n)
            inv[n * n] = n * n
            gathers.append(src)
            maps.append(inv)
    return np.stack(gathers), np.stack(maps)


def make_augment(n: int, device: str):
    """A batch transform: each position under a random board symmetry."""
    import torch

    g, m = (torch.as_tensor(t, device=device) for t in symmetry_tables(n))

    def augment(planes, pidx):
        b, c = planes.shape[:2]
        s = torch.randint(0, 8, (b,), device=planes.device)
        idx = g[s][:, None, :].expand(b, c, n * n)
        planes = planes.reshape(b, c, n * n).gather(2, idx).reshape(b, c, n, n)
        return planes, m[s].gather(1, pidx)

    return augment


def train(a: argparse.Namespace) -> Path | None:
    """``train`` subcommand."""
    import torch

    from .model import NetConfig

    arrs, meta = load_parts(a.data)
    d = go_targets(arrs, meta, a)
    n = int(meta["board"])
    cfg = NetConfig(codec="go", blocks=a.blocks, filters=a.filters, se=not a.no_se,
                    in_channels=meta["spatial_planes"] + meta["const_planes"], board_size=n)
    prov = (f"distilled via GTP ({n}x{n}, komi {meta.get('komi')}) from {describe_sources(meta, len(d))}: "
            f"{len(d)} positions by nets/distill_go.py; policy target {1 - a.soft_weight:g}*GNU Go move + "
            f"{a.soft_weight:g}*softmax(top_moves value / {a.soft_temp:g}), value target final_score result"
            + (f" blended {a.margin_weight:g} with tanh(margin/{a.margin_scale:g})" if a.margin_weight > 0 else "")
            + "; 8-fold symmetry augmentation; nets/train_go.py")
    device = a.device if a.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    aug = None if a.no_augment else make_augment(n, device)
    return train_packed(a, d, cfg, value_logit_scale=2.0, provenance=prov, onnx_name=f"go{n}.onnx",
                        augment=aug)


def main(argv: list[str] | None = None) -> None:
    """``python -m tabula.nets.train_go encode|train …``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = add_encode_args(sub, "shards → packed planes (needs engine.games.go)", "go9", 200_000)
    e.add_argument("--shard-base", type=int, default=0,
                   help="added to the shard numbers in game ids (distinct per folder, so sets can be merged)")
    m = sub.add_parser("merge", help="several encoded data sets → one")
    m.add_argument("inputs", type=Path, nargs="+")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--part-size", type=int, default=200_000)
    t = sub.add_parser("train", help="packed planes → net (numpy + torch only)")
    add_train_args(t, "data/encoded/go9", "data/train/go9")
    t.add_argument("--soft-weight", type=float, default=0.5, help="policy weight spread over GNU Go's top_moves")
    t.add_argument("--soft-temp", type=float, default=1.0, help="softmax temperature over top_moves values (points)")
    t.add_argument("--margin-weight", type=float, default=0.0, help="value: weight of tanh(margin/scale)")
    t.add_argument("--margin-scale", type=float, default=10.0, help="points")
    t.add_argument("--no-augment", action="store_true", help="no random board symmetries")
    a = ap.parse_args(argv)
    if a.cmd == "encode":
        encode(a)
    elif a.cmd == "merge":
        merge(a)
    else:
        a.steps = int(a.steps)
        train(a)


if __name__ == "__main__":
    main()
