"""Train the bundled shogi net (dlshogi format) from :mod:`nets.distill_shogi` shards.

Two steps, so the heavy one can run on a machine without cshogi:

1. ``encode`` (here, needs cshogi): replay every game with ``cshogi.Board``, write the
   dlshogi features of each recorded position as packed bits (input1: 62×81 bits;
   input2: 57 bits, its planes being all-ones or all-zeros), the teacher's MultiPV moves
   as dlshogi policy labels and the raw scores/results, into compressed ``part_*.npz``
   files of at most ``--part-size`` positions (≈ 25 MB per 50k positions).
2. ``train`` (numpy + torch only): targets, a :class:`~nets.model.PolicyValueNet`
   (``codec="dlshogi"``), AdamW with warm-up + cosine decay, validation split by game,
   resumable checkpoints (``OUT/last.pt``), then ONNX export with metadata (needs ``onnx``;
   without it the checkpoint and ``OUT/provenance.txt`` are left for ``nets.export``).

Targets (constants are command-line options; defaults documented here):

* policy: softmax over the MultiPV scores / ``--policy-temp`` (40 cp, Fairy-Stockfish units,
  rook ≈ 700 cp); scores clipped to ±3000 cp, mate in n plies → ±(4000 − 10·min(n, 100)).
* value (win probability of the side to move, BCE on the logit):
  ``--score-weight`` (0.5) × sigmoid(score / ``--value-scale``) + the rest × the game result
  (win 1, draw 0.5, loss 0). ``encode`` fits the scale to the games' results (BCE, grid search;
  ≈ 950 cp on the first 10k positions; dlshogi's own 756 is for another engine's units) and
  stores it; ``--value-scale 0`` (the default) uses that fit.

The training step (:func:`train_packed` and its helpers) is shared with :mod:`nets.train_go`::

    python -m tabula.nets.train_shogi encode --shards data/distill/shogi --out data/encoded/shogi
    python -m tabula.nets.train_shogi train --data data/encoded/shogi --out data/train/shogi
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .train import add_common_train_args, log, progress
from .trainloop import fit, start_run

MATE_CP = 30000  # as nets.distill_shogi
SCORE_CLIP = 3000


# -- 1. encoding (needs cshogi) ---------------------------------------------------------------

def iter_shards(shard_dir: Path, limit: int = 0) -> list[Path]:
    """Finished shards in ``shard_dir`` (sorted)."""
    shards = sorted(shard_dir.glob("shard_*[0-9].npz"))
    if limit:
        shards = shards[:limit]
    if not shards:
        raise SystemExit(f"no shards in {shard_dir}")
    return shards


def encode_shogi_shard(path: Path) -> dict[str, np.ndarray]:
    """One shard's positions as packed features, policy labels and raw targets."""
    import cshogi

    from tabula.engine.codecs.dlshogi import FEATURES1, FEATURES2, label_table

    labels = label_table()
    z = np.load(path)
    n, k = len(z["pos_key"]), z["pv_moves"].shape[1]
    shard_no = int(path.stem.split("_")[-1])
    feat1 = np.zeros((n, FEATURES1 * 81), np.uint8)
    feat2 = np.zeros((n, FEATURES2), np.uint8)
    pidx = np.full((n, k), -1, np.int16)
    f1 = np.zeros((FEATURES1, 9, 9), np.float32)
    f2 = np.zeros((FEATURES2, 9, 9), np.float32)
    moves, offsets = z["game_moves"], z["game_offsets"]
    board = cshogi.Board()
    game, ply = -1, 0
    for i in np.lexsort((z["pos_ply"], z["pos_game"])):
        g, want = int(z["pos_game"][i]), int(z["pos_ply"][i])
        if g != game:
            board.reset()
            game, ply = g, 0
        while ply < want:
            board.push(board.move_from_move16(int(moves[offsets[g] + ply])))
            ply += 1
        if board.zobrist_hash() != int(z["pos_key"][i]):
            raise ValueError(f"{path}: game {g} ply {want} does not replay to the recorded position")
        board._dlshogi_make_input_features(f1, f2)
        feat1[i] = f1.reshape(-1)
        feat2[i] = f2[:, 0, 0]
        c = int(z["pv_count"][i])
        pidx[i, :c] = labels[board.turn, z["pv_moves"][i, :c].astype(np.int64) & 0x7FFF]
    if (pidx[:, 0] < 0).any():
        raise ValueError(f"{path}: a teacher move has no dlshogi label")
    return dict(spatial_bits=np.packbits(feat1, axis=1, bitorder="little"),
                const_bits=np.packbits(feat2, axis=1, bitorder="little"), pidx=pidx,
                pscore=np.clip(z["pv_scores"], -32767, 32767).astype(np.int16),
                result=z["result_stm"].astype(np.int8),
                game_uid=(shard_no * 100_000 + z["pos_game"]).astype(np.int64))


def write_parts(chunks: list[dict[str, np.ndarray]], out: Path, part_size: int, meta: dict) -> list[Path]:
    """Concatenate encoded chunks and write ``out/part_000.npz``… of ≤ ``part_size`` rows each."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part_*.npz"):
        old.unlink()
    keys = chunks[0].keys()
    allc = {key: np.concatenate([c[key] for c in chunks]) for key in keys}
    n = len(allc["game_uid"])
    paths = []
    for j, start in enumerate(range(0, n, part_size)):
        p = out / f"part_{j:03d}.npz"
        tmp = p.with_name(p.name + ".tmp.npz")
        np.savez_compressed(tmp, **{key: v[start:start + part_size] for key, v in allc.items()},
                            meta=np.asarray(json.dumps(meta)))
        tmp.replace(p)
        paths.append(p)
        log(f"wrote {p}: {min(part_size, n - start)} positions, {p.stat().st_size / 2**20:.1f} MiB")
    return paths


def fit_value_scale(score: np.ndarray, result: np.ndarray) -> float:
    """The ``s`` minimising BCE(sigmoid(score / s), game result) over non-mate scores (grid search)."""
    ok = np.abs(score) < SCORE_CLIP
    x, y = score[ok].astype(np.float64), (result[ok].astype(np.float64) + 1) / 2
    best, best_s = math.inf, 0.0
    for s in np.geomspace(50, 5000, 80):
        p = np.clip(1 / (1 + np.exp(-x / s)), 1e-6, 1 - 1e-6)
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        if loss < best:
            best, best_s = loss, float(s)
    return best_s


def encode(a: argparse.Namespace) -> None:
    """``encode`` subcommand."""
    from tabula.engine.codecs.dlshogi import FEATURES1, FEATURES2

    shards = iter_shards(a.shards, a.max_shards)
    t0 = time.time()
    chunks = []
    for j, s in enumerate(shards, 1):
        chunks.append(encode_shogi_shard(s))
        progress(f"encoded {j}/{len(shards)} shards, {sum(len(c['result']) for c in chunks)} positions, "
                 f"{time.time() - t0:.0f} s")
    log("")
    with np.load(shards[0]) as z:
        src = json.loads(str(z["meta"]))
    score = np.concatenate([c["pscore"][:, 0] for c in chunks])
    res = np.concatenate([c["result"] for c in chunks])
    fit = round(fit_value_scale(score, res))
    meta = {"game": "shogi", "codec": "dlshogi", "board": 9, "spatial_planes": FEATURES1,
            "const_planes": FEATURES2, "source": src, "shards": len(shards), "value_scale_fit": fit}
    write_parts(chunks, a.out, a.part_size, meta)
    log(f"{len(res)} positions; results W/D/L for the side to move "
        f"{(res > 0).mean():.3f}/{(res == 0).mean():.3f}/{(res < 0).mean():.3f}; "
        f"best-fit value scale {fit} cp (what train's --value-scale 0 uses)")


# -- 2. the packed-plane training step (shared with nets.train_go) ------------------------------

@dataclass
class Packed:
    """An encoded data set in memory: packed planes plus training targets (row-aligned)."""

    spatial_bits: np.ndarray
    const_bits: np.ndarray
    pidx: np.ndarray  # int64 [P,K], −1 = none
    pprob: np.ndarray  # float32 [P,K], rows sum to 1
    vtarget: np.ndarray  # float32 [P], P(win) for the side to move (draw counts ½)
    game_uid: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.vtarget)


def load_parts(data: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Concatenate ``data/part_*.npz`` (or one file) into arrays; also return the first meta."""
    files = sorted(data.glob("part_*.npz")) if data.is_dir() else [data]
    if not files:
        raise SystemExit(f"no encoded parts in {data}")
    parts: dict[str, list[np.ndarray]] = {}
    meta: dict = {}
    for f in files:
        with np.load(f) as z:
            for key in z.files:
                if key == "meta":
                    meta = meta or json.loads(str(z["meta"]))
                else:
                    parts.setdefault(key, []).append(z[key])
    return {k: np.concatenate(v) for k, v in parts.items()}, meta


def split_by_game(game_uid: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the train and validation sets; whole games go to one side."""
    games = np.unique(game_uid)
    n_val = max(1, int(round(len(games) * val_fraction))) if val_fraction > 0 else 0
    val = np.random.default_rng(seed).choice(games, size=n_val, replace=False) if n_val else games[:0]
    is_val = np.isin(game_uid, val)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


class DevicePacked:
    """The data set as tensors on one device; batches unpack their planes there."""

    def __init__(self, d: Packed, device: str, spatial: int, const: int, board: int) -> None:
        import torch

        t = lambda a, dt=None: torch.as_tensor(np.ascontiguousarray(a), device=device, dtype=dt)  # noqa: E731
        self.device, self.spatial, self.const, self.n = device, spatial, const, board
        self.sbits, self.cbits = t(d.spatial_bits), t(d.const_bits)
        self.pidx = t(d.pidx.astype(np.int64)).clamp(min=0)
        self.pprob = t(d.pprob, torch.float32) * t(d.pidx >= 0, torch.float32)
        self.vtarget = t(d.vtarget, torch.float32)
        self.shifts = torch.arange(8, device=device, dtype=torch.uint8)

    def _unpack(self, b, count: int):
        bits = (b[:, :, None] >> self.shifts) & 1
        return bits.reshape(len(b), -1)[:, :count].float()

    def batch(self, rows) -> tuple:
        """(planes [B,C,N,N], policy idx [B,K], policy prob [B,K], value target [B])."""
        import torch

        rows = torch.as_tensor(rows, device=self.device)
        n, b = self.n, len(rows)
        x = self._unpack(self.sbits[rows], self.spatial * n * n).reshape(b, self.spatial, n, n)
        if self.const:
            c = self._unpack(self.cbits[rows], self.const)[:, :, None, None].expand(b, self.const, n, n)
            x = torch.cat([x, c], dim=1)
        return x, self.pidx[rows], self.pprob[rows], self.vtarget[rows]


def packed_losses(model, planes, pidx, pprob, vtarget, value_logit_scale: float):
    """(policy CE, value BCE, top-1 accuracy vs column 0 of ``pidx``)."""
    import torch
    import torch.nn.functional as F

    p, v = model(planes)
    logp = torch.log_softmax(p.float(), dim=1)
    pol = -(logp.gather(1, pidx) * pprob).sum(1).mean()
    val = F.binary_cross_entropy_with_logits(v.float().reshape(-1) * value_logit_scale, vtarget)
    acc = (p.argmax(1) == pidx[:, 0]).float().mean()
    return pol, val, acc


def train_packed(a: argparse.Namespace, d: Packed, cfg, *, value_logit_scale: float, provenance: str,
                 onnx_name: str, augment: Callable | None = None) -> Path | None:
    """Train ``cfg`` on ``d`` as the command line ``a`` says; export ONNX; returns its path (or None).

    ``value_logit_scale``: 1 when the exported value is sigmoid(logit) (dlshogi), 2 when it
    is tanh(logit) (go: tanh x = 2·sigmoid(2x) − 1). ``augment(planes, pidx)`` may
    transform training batches (board symmetries).
    """
    import torch

    from .model import PolicyValueNet, count_params

    torch.manual_seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    device = a.device if a.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    tr, va = split_by_game(d.game_uid, a.val_fraction, a.seed)
    if a.max_val:
        va = va[:a.max_val]
    m = d.meta
    dd = DevicePacked(d, device, m["spatial_planes"], m["const_planes"], m["board"])
    log(f"{len(d)} positions ({len(tr)} train, {len(va)} val) on {device}")
    model = PolicyValueNet(cfg).to(device)
    run = start_run(a, cfg, model, len(tr), device, lambda: (dd.batch(tr[:1024])[0],))
    ck_path = run.checkpoint
    log(f"model {cfg.arch}: {count_params(model):,} parameters; {run.total} steps of {a.batch} "
        f"({run.total / run.steps_per_epoch:.2f} epochs)")
    loss_fn = lambda *b: packed_losses(model, *b, value_logit_scale)  # noqa: E731

    def losses(rows: np.ndarray):
        planes, pidx, pprob, vt = dd.batch(rows)
        if augment is not None:
            planes, pidx = augment(planes, pidx)
        return loss_fn(planes, pidx, pprob, vt)

    def evaluate(rows: np.ndarray) -> dict[str, float]:
        model.eval()
        tot = np.zeros(3)
        with torch.no_grad():
            for i in range(0, len(rows), a.batch * 4):
                r = rows[i:i + a.batch * 4]
                tot += np.array([x.item() for x in loss_fn(*dd.batch(r))]) * len(r)
        model.train()
        tot /= max(1, len(rows))
        return {"policy_loss": tot[0], "value_loss": tot[1], "policy_acc": tot[2]}

    final = fit(run, tr, device, losses, lambda: evaluate(va))
    step = run.step
    (a.out / "final_metrics.json").write_text(json.dumps({"step": step, **final}, indent=1))
    if a.init is not None:
        from .warmstart import started_from

        provenance += f"; {started_from(a.init)}"
    prov = (f"{provenance}; {step} steps x {a.batch} AdamW lr {a.lr} cosine, seed {a.seed}; "
            f"val policy acc {final['policy_acc']:.3f}, value BCE {final['value_loss']:.3f}; "
            f"trained {time.strftime('%Y-%m-%d')}")
    (a.out / "provenance.txt").write_text(prov + "\n")
    onnx_path = a.onnx or a.out / onnx_name
    try:
        import onnx  # noqa: F401
    except ImportError:
        log(f"\nno onnx module here: export later with\n  python -m tabula.nets.export {ck_path} {onnx_path} "
            f"--provenance \"$(cat {a.out / 'provenance.txt'})\"")
        return None
    from .export import export_onnx

    model.to("cpu")
    export_onnx(model, onnx_path, provenance=prov, extra={"tabula.train_steps": str(step)})
    log(f"wrote {onnx_path}: {prov}")
    return onnx_path


def add_encode_args(sub, help: str, name: str, part_size: int) -> argparse.ArgumentParser:  # noqa: A002
    """The ``encode`` subcommand's options: ``data/distill/NAME`` shards → ``data/encoded/NAME`` parts."""
    e = sub.add_parser("encode", help=help)
    e.add_argument("--shards", type=Path, default=Path("data/distill") / name)
    e.add_argument("--out", type=Path, default=Path("data/encoded") / name)
    e.add_argument("--part-size", type=int, default=part_size)
    e.add_argument("--max-shards", type=int, default=0)
    return e


def add_train_args(ap: argparse.ArgumentParser, data: str, out: str) -> None:
    """Options of the shared ``train`` step."""
    ap.add_argument("--data", type=Path, default=Path(data), help="folder of encoded part_*.npz")
    add_common_train_args(ap, out, epochs=10, val_fraction=0.03)


# -- 3. shogi targets and the command line --------------------------------------------------------

def score_to_cp(score: np.ndarray) -> np.ndarray:
    """Clip scores to ±SCORE_CLIP; mate in n plies → ±(4000 − 10·min(n, 100))."""
    s = score.astype(np.float32)
    mate = np.abs(s) > MATE_CP - 1000
    n = np.minimum(MATE_CP - np.abs(s), 100)
    return np.where(mate, np.sign(s) * (4000 - 10 * n), np.clip(s, -SCORE_CLIP, SCORE_CLIP))


def shogi_targets(arrs: dict[str, np.ndarray], meta: dict, a: argparse.Namespace) -> Packed:
    """Policy/value targets from the raw encoded arrays."""
    pidx = arrs["pidx"].astype(np.int64)
    valid = pidx >= 0
    logits = np.where(valid, score_to_cp(arrs["pscore"]) / a.policy_temp, -np.inf)
    logits -= logits.max(1, keepdims=True)
    pprob = np.exp(logits) * valid
    pprob /= pprob.sum(1, keepdims=True)
    best = score_to_cp(arrs["pscore"][:, 0])
    if a.value_scale <= 0:
        a.value_scale = float(meta.get("value_scale_fit") or 600.0)
    v_score = 1 / (1 + np.exp(-np.clip(best, -SCORE_CLIP, SCORE_CLIP) / a.value_scale))
    v_result = (arrs["result"].astype(np.float32) + 1) / 2
    vt = a.score_weight * v_score + (1 - a.score_weight) * v_result
    return Packed(arrs["spatial_bits"], arrs["const_bits"], pidx, pprob.astype(np.float32),
                  vt.astype(np.float32), arrs["game_uid"], meta)


def train(a: argparse.Namespace) -> Path | None:
    """``train`` subcommand."""
    from .model import NetConfig

    arrs, meta = load_parts(a.data)
    d = shogi_targets(arrs, meta, a)
    cfg = NetConfig(codec="dlshogi", blocks=a.blocks, filters=a.filters, se=not a.no_se,
                    input1_channels=meta["spatial_planes"], input2_channels=meta["const_planes"])
    src = meta.get("source", {})
    s = src.get("settings", {})
    prov = (f"distilled from {src.get('teacher', '?')} self-play via USI (nodes {s.get('nodes')}, multipv "
            f"{s.get('multipv')}, seed {s.get('seed')}): {len(d)} positions from {meta.get('shards')} shards "
            f"by nets/distill_shogi.py; policy target softmax(score / {a.policy_temp:g} cp), value target "
            f"{a.score_weight:g}*sigmoid(score/{a.value_scale:g}) + {1 - a.score_weight:g}*game result; "
            f"nets/train_shogi.py")
    return train_packed(a, d, cfg, value_logit_scale=1.0, provenance=prov, onnx_name="shogi.onnx")


def main(argv: list[str] | None = None) -> None:
    """``python -m tabula.nets.train_shogi encode|train …``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    add_encode_args(sub, "shards → packed features (needs cshogi)", "shogi", 50_000)
    t = sub.add_parser("train", help="packed features → net (numpy + torch only)")
    add_train_args(t, "data/encoded/shogi", "data/train/shogi")
    t.add_argument("--policy-temp", type=float, default=40.0, help="policy target temperature (cp)")
    t.add_argument("--value-scale", type=float, default=0.0,
                   help="cp per logit unit of the score's win prob (0: the fit encode stored)")
    t.add_argument("--score-weight", type=float, default=0.5, help="weight of the score in the value target")
    a = ap.parse_args(argv)
    if a.cmd == "encode":
        encode(a)
    else:
        a.steps = int(a.steps)
        train(a)


if __name__ == "__main__":
    main()
