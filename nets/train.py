"""Train the bundled chess net from :mod:`nets.distill_chess` shards, then export it to ONNX.

Needs the ``train`` extra (torch, onnx). Steps:

1. **Encode** each shard once (cached beside it in ``encoded/``): replay every game with
   :class:`~engine.games.chess_game.ChessState`, encode the recorded positions with the lc0
   codec (``encode_planes``) into packed bits (896 bytes + the rule-50 count per position),
   and map the teacher's moves to 1858-indices with ``Lc0Codec.policy_indices``.
2. **Train** a :class:`~nets.model.PolicyValueNet` (default 6 blocks × 64 filters with SE):
   AdamW, linear warm-up then cosine decay, a held-out validation split by game,
   checkpoints every ``--ckpt-every`` steps; re-running the same command resumes from
   ``OUT/last.pt``. The whole data set lives in one tensor on the device (CPU or CUDA).
3. **Export** ``OUT/chess.onnx`` (or ``--onnx``) with metadata and provenance.

Targets:

* policy: softmax over the teacher's MultiPV scores / ``--policy-temp`` pawns (mate in n
  counts as 20 + (100 − n)/10 pawns, other scores are clipped to ±20 pawns); moves outside
  the MultiPV get probability 0.
* value (W/D/L for the side to move): ``--sf-wdl-weight`` × Stockfish's own W/D/L
  (``UCI_ShowWDL``) + the rest × the game's final result (one-hot).

>>> python -m tabula.nets.train --shards data/distill/chess --out data/train/chess --epochs 8
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .progress import log, progress
from .trainloop import BUDGET_CHECKS, fit, fit_to_budget, log_validation, lr_at, start_run  # noqa: F401 - re-exported

MATE_CP = 30000  # as nets.distill_chess
BITS_PER_POS = 112 * 64 // 8
RULE50_PLANE = 109


# -- 1. encoding ---------------------------------------------------------------------------

def _lc0_codec():
    """An :class:`Lc0Codec` for index lookups (its signature is that of our export)."""
    from tabula.engine.codecs.base import NetSignature
    from tabula.engine.codecs.lc0 import Lc0Codec

    sig = NetSignature("train", {"/input/planes": ("batch", 112, 8, 8)},
                       {"/output/policy": ("batch", 1858), "/output/wdl": ("batch", 3)})
    return Lc0Codec(sig)


def encode_shard(shard: Path, out: Path) -> Path:
    """Encode one shard's positions (packed planes, policy indices, targets) into ``out``."""
    from tabula.engine.codecs.lc0 import encode_planes
    from tabula.engine.games.chess_game import ChessState

    codec = _lc0_codec()
    z = np.load(shard)
    n = len(z["pos_key"])
    k = z["pv_moves"].shape[1]
    bits = np.zeros((n, BITS_PER_POS), np.uint8)
    rule50 = np.zeros(n, np.uint8)
    pidx = np.full((n, k), -1, np.int16)
    order = np.lexsort((z["pos_ply"], z["pos_game"]))
    moves, offsets = z["game_moves"], z["game_offsets"]
    game, state = -1, None
    for i in order:
        g, ply = int(z["pos_game"][i]), int(z["pos_ply"][i])
        if g != game:
            game, state = g, ChessState()
        while state.ply < ply:
            state.push(int(moves[offsets[g] + state.ply]))
        planes = encode_planes(state)
        rule50[i] = min(255, int(planes[RULE50_PLANE, 0, 0]))
        planes[RULE50_PLANE] = 0
        bits[i] = np.packbits(planes.reshape(-1) > 0, bitorder="little")
        c = int(z["pv_count"][i])
        pidx[i, :c] = codec.policy_indices(state, [int(m) for m in z["pv_moves"][i, :c]])
    if (pidx[:, 0] < 0).any():
        raise ValueError(f"{shard}: a teacher move has no lc0 policy index")
    shard_no = int(shard.stem.split("_")[-1])
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez(tmp, bits=bits, rule50=rule50, pidx=pidx, pscore=z["pv_scores"].astype(np.int32),
             wdl=z["wdl"].astype(np.uint16), result=z["result_stm"].astype(np.int8),
             game_uid=(shard_no * 100_000 + z["pos_game"]).astype(np.int64), meta=z["meta"])
    tmp.replace(out)
    return out


def _encode_one(args: tuple[Path, Path]) -> Path:
    shard, out = args
    return out if out.exists() else encode_shard(shard, out)


def encode_all(shard_dir: Path, workers: int = 1, limit: int = 0) -> list[Path]:
    """Encode every finished shard in ``shard_dir`` (cached in ``shard_dir/encoded``)."""
    shards = sorted(shard_dir.glob("shard_*[0-9].npz"))
    if limit:
        shards = shards[:limit]
    if not shards:
        raise SystemExit(f"no shards in {shard_dir}")
    enc = shard_dir / "encoded"
    enc.mkdir(exist_ok=True)
    jobs = [(s, enc / s.name) for s in shards]
    todo = sum(not o.exists() for _, o in jobs)
    log(f"{len(shards)} shards, {todo} to encode with {workers} worker(s)")
    t0 = time.time()
    if workers > 1 and todo > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            for i, _ in enumerate(pool.imap_unordered(_encode_one, jobs), 1):
                progress(f"encoded {i}/{len(jobs)} shards, {time.time() - t0:.0f} s")
    else:
        for i, job in enumerate(jobs, 1):
            _encode_one(job)
            progress(f"encoded {i}/{len(jobs)} shards, {time.time() - t0:.0f} s")
    log("")
    return [o for _, o in jobs]


# -- 2. data set and targets ----------------------------------------------------------------

@dataclass
class Data:
    """All positions as numpy arrays (row-aligned)."""

    bits: np.ndarray
    rule50: np.ndarray
    pidx: np.ndarray
    pscore: np.ndarray
    wdl: np.ndarray
    result: np.ndarray
    game_uid: np.ndarray
    meta: list[dict]

    def __len__(self) -> int:
        return len(self.rule50)


#: game ids of the i-th ``--shards`` folder are offset by i times this (shard numbers restart per folder)
FOLDER_UID_STRIDE = 10 ** 10


def load_data(files: list[Path], folders: list[int] | None = None) -> Data:
    """Concatenate encoded shards; ``folders[i]`` (default 0) is the source folder of ``files[i]``."""
    parts: dict[str, list[np.ndarray]] = {}
    metas = []
    for i, f in enumerate(files):
        with np.load(f) as z:
            for key in ("bits", "rule50", "pidx", "pscore", "wdl", "result", "game_uid"):
                parts.setdefault(key, []).append(z[key])
            parts["game_uid"][-1] = parts["game_uid"][-1] + (folders[i] if folders else 0) * FOLDER_UID_STRIDE
            metas.append(json.loads(str(z["meta"])))
    k = max(p.shape[1] for p in parts["pidx"])
    for key, fill in (("pidx", -1), ("pscore", 0)):
        parts[key] = [np.pad(p, ((0, 0), (0, k - p.shape[1])), constant_values=fill) for p in parts[key]]
    return Data(**{key: np.concatenate(v) for key, v in parts.items()}, meta=metas)


def split_by_game(data: Data, val_fraction: float, seed: int,
                  val_folder: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the train and validation sets; whole games go to one side.

    ``val_folder``: draw the validation games only from that ``--shards`` folder (e.g. a new
    generator's, so that a net trained before on the other folders has not seen them either).
    """
    games = np.unique(data.game_uid)
    rng = np.random.default_rng(seed)
    n_val = max(1, int(round(len(games) * val_fraction))) if val_fraction > 0 else 0
    if val_folder is not None:
        games = games[games // FOLDER_UID_STRIDE == val_folder]
        n_val = min(n_val, len(games))
    val_games = rng.choice(games, size=n_val, replace=False) if n_val else np.zeros(0, np.int64)
    is_val = np.isin(data.game_uid, val_games)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def policy_pawns(score_cp: "np.ndarray | object"):
    """Scores in pawns for the policy target: mates 20 + (100 − n)/10, others clipped to ±20."""
    import torch

    s = score_cp.float()
    mate = s.abs() > (MATE_CP - 1000)
    n = (MATE_CP - s.abs()).clamp(max=100)
    mate_val = torch.sign(s) * (20 + (100 - n) / 10)
    return torch.where(mate, mate_val, (s / 100).clamp(-20, 20))


class DeviceData:
    """The data set as tensors on one device, with batch assembly (planes unpacked there)."""

    def __init__(self, data: Data, device: str, policy_temp: float, sf_wdl_weight: float) -> None:
        import torch

        t = lambda a, dt=None: torch.as_tensor(a, device=device, dtype=dt)  # noqa: E731
        self.device = device
        self.bits = t(data.bits)
        self.rule50 = t(data.rule50, torch.float32)
        self.pidx = t(data.pidx.astype(np.int64))
        valid = self.pidx >= 0
        logits = policy_pawns(t(data.pscore)) / policy_temp
        logits = torch.where(valid, logits, torch.full_like(logits, -1e9))
        self.pprob = torch.softmax(logits, dim=1) * valid
        self.pidx = self.pidx.clamp(min=0)
        res = t(data.result.astype(np.int64))
        onehot = torch.nn.functional.one_hot(1 - res, 3).float()  # +1 → W (0), 0 → D (1), −1 → L (2)
        sf = t(data.wdl, torch.float32) / 1000.0
        sf = sf / sf.sum(1, keepdim=True).clamp(min=1e-6)
        self.vtarget = sf_wdl_weight * sf + (1 - sf_wdl_weight) * onehot
        self.shifts = torch.arange(8, device=device, dtype=torch.uint8)

    def batch(self, rows):
        """(planes [B,112,8,8], policy idx [B,K], policy prob [B,K], wdl target [B,3])."""
        import torch

        rows = torch.as_tensor(rows, device=self.device)
        b = self.bits[rows]
        planes = ((b[:, :, None] >> self.shifts) & 1).reshape(len(rows), 112, 8, 8).float()
        planes[:, RULE50_PLANE] = self.rule50[rows][:, None, None]
        return planes, self.pidx[rows], self.pprob[rows], self.vtarget[rows]


# -- 3. training ----------------------------------------------------------------------------

def losses(model, planes, pidx, pprob, vtarget):
    """(policy CE, value CE, policy top-1 accuracy vs the teacher's best move)."""
    import torch

    p, v = model(planes)
    logp = torch.log_softmax(p.float(), dim=1)
    pol = -(logp.gather(1, pidx) * pprob).sum(1).mean()
    val = -(torch.log_softmax(v.float(), dim=1) * vtarget).sum(1).mean()
    acc = (p.argmax(1) == pidx[:, 0]).float().mean()
    return pol, val, acc


def evaluate(model, dd: DeviceData, rows: np.ndarray, batch: int) -> dict[str, float]:
    """Mean losses and accuracy over ``rows``."""
    import torch

    model.eval()
    tot = np.zeros(3)
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            r = rows[i:i + batch]
            pol, val, acc = losses(model, *dd.batch(r))
            tot += np.array([pol.item(), val.item(), acc.item()]) * len(r)
    model.train()
    tot /= max(1, len(rows))
    return {"policy_loss": tot[0], "value_loss": tot[1], "policy_acc": tot[2]}


def train(a: argparse.Namespace) -> Path:
    """The whole pipeline for the parsed command line; returns the ONNX path."""
    import torch

    from .export import export_onnx
    from .model import NetConfig, PolicyValueNet, count_params

    torch.manual_seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    device = a.device if a.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    per_folder = [encode_all(d, a.workers, a.max_shards) for d in a.shards]
    files = [f for fs in per_folder for f in fs]
    data = load_data(files, [i for i, fs in enumerate(per_folder) for _ in fs])
    if a.val_folder is not None and not 0 <= a.val_folder < len(a.shards):
        raise SystemExit(f"--val-folder {a.val_folder}: there are {len(a.shards)} --shards folders (0-based)")
    tr, va = split_by_game(data, a.val_fraction, a.seed, a.val_folder)
    if a.max_val:
        va = va[:a.max_val]
    dd = DeviceData(data, device, a.policy_temp, a.sf_wdl_weight)
    log(f"{len(data)} positions ({len(tr)} train, {len(va)} val) on {device}")

    cfg = NetConfig(codec="lc0-112", blocks=a.blocks, filters=a.filters, se=not a.no_se)
    model = PolicyValueNet(cfg).to(device)
    run = start_run(a, cfg, model, len(tr), device, lambda: (dd.batch(tr[:1024])[0],))
    if a.init is not None and not run.resumed:  # the starting net on this run's held-out games
        log_validation(0, evaluate(model, dd, va, a.batch * 4), after_progress=False)
    log(f"model {cfg.arch}: {count_params(model):,} parameters; {run.total} steps of {a.batch} "
        f"({run.total / run.steps_per_epoch:.2f} epochs)")
    final = fit(run, tr, device, lambda rows: losses(model, *dd.batch(rows)),
                lambda: evaluate(model, dd, va, a.batch * 4))
    step = run.step
    (a.out / "final_metrics.json").write_text(json.dumps({"step": step, **final}, indent=1))

    m0 = data.meta[0]
    s = m0.get("settings", {})
    seeds = sorted({m.get("settings", {}).get("seed") for m in data.meta}, key=str)
    prov = (f"distilled from {m0.get('teacher', '?')} self-play (nodes {s.get('nodes')}, multipv "
            f"{s.get('multipv')}, seed {', '.join(map(str, seeds))}): {len(data)} positions from {len(files)} shards "
            f"by nets/distill_chess.py; policy target softmax(score / {a.policy_temp} pawns), value target "
            f"{a.sf_wdl_weight}*Stockfish WDL + {1 - a.sf_wdl_weight:g}*game result; {step} steps x {a.batch} "
            f"AdamW lr {a.lr} cosine, seed {a.seed}; val policy acc {final['policy_acc']:.3f}; "
            f"trained {time.strftime('%Y-%m-%d')} by nets/train.py")
    if a.init is not None:
        from .warmstart import started_from

        prov += f"; {started_from(a.init)}"
    onnx_path = a.onnx or a.out / "chess.onnx"
    model.to("cpu")
    export_onnx(model, onnx_path, provenance=prov, extra={"tabula.train_steps": str(step)})
    log(f"wrote {onnx_path}: {prov}")
    return onnx_path


def add_common_train_args(ap: argparse.ArgumentParser, out: str, *, epochs: float,
                          val_fraction: float) -> None:
    """Options every trainer shares (net size, schedule, validation, checkpoints, device)."""
    ap.add_argument("--out", type=Path, default=Path(out))
    ap.add_argument("--onnx", type=Path, default=None, help="export path (default in OUT)")
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--filters", type=int, default=64)
    ap.add_argument("--no-se", action="store_true")
    ap.add_argument("--epochs", type=float, default=epochs)
    ap.add_argument("--steps", type=int, default=0, help="total steps (overrides --epochs)")
    ap.add_argument("--time-budget", type=float, default=0,
                    help="seconds of training: fewer steps if the pace says so (schedule included)")
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--warmup", type=float, default=0.02, help="fraction of steps")
    ap.add_argument("--value-weight", type=float, default=1.0)
    ap.add_argument("--val-fraction", type=float, default=val_fraction)
    ap.add_argument("--max-val", type=int, default=50_000)
    ap.add_argument("--val-every", type=int, default=1000)
    ap.add_argument("--ckpt-every", type=int, default=500)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--restart", action="store_true", help="ignore OUT/last.pt")
    ap.add_argument("--init", type=Path, default=None,
                    help="start from another run's last.pt where names and shapes match (e.g. a 9x9 go "
                         "tower for a 19x19 net), or from one of our .onnx exports of the same "
                         "architecture (to train a bundled net further); ignored when resuming")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description="Train the chess net from distillation shards.")
    ap.add_argument("--shards", type=Path, nargs="+", default=[Path("data/distill/chess")],
                    help="shard folders (each generator's own; their games are kept apart)")
    add_common_train_args(ap, "data/train/chess", epochs=8, val_fraction=0.02)
    ap.add_argument("--policy-temp", type=float, default=0.3, help="policy target temperature (pawns)")
    ap.add_argument("--sf-wdl-weight", type=float, default=0.5)
    ap.add_argument("--max-shards", type=int, default=0)
    ap.add_argument("--val-folder", type=int, default=None,
                    help="draw validation games only from this --shards folder (0-based)")
    ap.add_argument("--workers", type=int, default=1, help="processes for encoding shards")
    a = ap.parse_args(argv)
    a.steps = int(a.steps)
    if not a.steps:
        a.epochs = float(a.epochs)
    return a


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m tabula.nets.train …``."""
    train(parse_args(argv))


if __name__ == "__main__":
    main()
