"""The training run every trainer shares (chess: nets/train.py; shogi and go: ``train_packed`` in
nets/train_shogi.py): AdamW set-up, resume from ``OUT/last.pt`` or start from ``--init``, linear
warm-up then cosine decay, a ``--time-budget`` that re-plans the run's length, progress and
validation lines, and checkpoints written atomically.

What differs between trainers is passed in: how a batch of rows becomes the three losses
(policy, value, top-1 accuracy), how the held-out rows are evaluated, and a sample of inputs for
``--init``'s norm recalibration. PyTorch is imported only when a run starts, so the trainers'
command lines and data code load without it.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .progress import log, progress

#: steps after the start at which a --time-budget run re-plans its length
BUDGET_CHECKS = (20, 300)


def lr_at(step: int, total: int, base: float, warmup: int, floor: float = 0.02) -> float:
    """Linear warm-up, then cosine decay to ``floor`` × base."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def fit_to_budget(planned: int, step: int, done: int, elapsed: float, budget: float) -> int:
    """Total steps that end a run within ``budget`` seconds at the pace of its last ``done``
    steps (``elapsed`` seconds), never more than ``planned``; the cosine schedule follows."""
    if budget <= 0 or done <= 0 or elapsed <= 0:
        return planned
    return max(step, min(planned, step + int((budget - elapsed) * done / elapsed)))


@dataclass
class Run:
    """A training run's state: the model, its optimizer, where it stands and its plan."""

    a: argparse.Namespace
    cfg: Any                   #: the model's NetConfig (checkpoints hold it as a dict)
    model: Any
    opt: Any
    step: int
    steps_per_epoch: int
    total: int
    warmup: int
    resumed: bool

    @property
    def checkpoint(self) -> Path:
        """``OUT/last.pt``."""
        return self.a.out / "last.pt"

    def save(self) -> None:
        """Write the checkpoint (model, optimizer, step, arguments) through a temporary file."""
        import torch

        tmp = self.a.out / "last.pt.tmp"
        torch.save({"config": self.cfg.to_dict(), "model": self.model.state_dict(), "opt": self.opt.state_dict(),
                    "step": self.step, "args": {k: str(v) for k, v in vars(self.a).items()}}, tmp)
        tmp.replace(self.checkpoint)


def start_run(a: argparse.Namespace, cfg: Any, model: Any, train_rows: int, device: str,
              init_inputs: Callable[[], tuple]) -> Run:
    """AdamW on ``model`` and the run's plan; then resume from ``OUT/last.pt`` (unless
    ``--restart``; another architecture there is refused) or else load ``--init``'s weights,
    recalibrating the norms on ``init_inputs()``."""
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    spe = max(1, train_rows // a.batch)
    total = a.steps or max(1, int(spe * a.epochs))
    run = Run(a, cfg, model, opt, 0, spe, total, max(1, int(total * a.warmup)), False)
    a.out.mkdir(parents=True, exist_ok=True)
    ck_path = run.checkpoint
    if ck_path.exists() and not a.restart:
        ck = torch.load(ck_path, map_location=device, weights_only=False)
        if ck["config"] != cfg.to_dict():
            raise SystemExit(f"{ck_path} holds another architecture; use --restart or another --out")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        run.step, run.resumed = ck["step"], True
        log(f"resumed from {ck_path} at step {run.step}")
    elif a.init is not None:
        from .warmstart import init_from

        log(init_from(model, a.init, init_inputs()))
    return run


def fit(run: Run, train_rows: np.ndarray, device: str,
        losses: Callable[[np.ndarray], tuple[Any, Any, Any]],
        evaluate: Callable[[], dict[str, float]]) -> dict[str, float]:
    """Train from ``run.step`` to the plan's end (``--time-budget`` may shorten it): each epoch
    a fresh permutation of ``train_rows`` (seeded by ``--seed`` and the epoch, so a resumed run
    sees the batches it would have), ``losses(rows)`` → (policy, value, accuracy) under bf16
    autocast on CUDA, loss = policy + ``--value-weight`` × value. Progress every ``--log-every``
    steps, ``evaluate()`` every ``--val-every``, a checkpoint every ``--ckpt-every`` and at the
    end. Returns the final evaluation."""
    import torch

    a, model, opt = run.a, run.model, run.opt
    spe, warmup = run.steps_per_epoch, run.warmup
    use_amp = device == "cuda" and not a.no_amp
    model.train()
    t0, seen, step0, planned = time.time(), 0, run.step, run.total
    acc_sum, acc_n = torch.zeros(3, device=device), 0
    while run.step < run.total:
        step = run.step
        if a.time_budget and step - step0 in BUDGET_CHECKS:
            run.total = fit_to_budget(planned, step, step - step0, time.time() - t0, a.time_budget)
            log(f"\n--time-budget {a.time_budget:g} s: {run.total} steps in all")
            if step >= run.total:
                break
        total = run.total
        epoch, off = divmod(step, spe)
        rows = np.random.default_rng(a.seed * 7919 + epoch).permutation(train_rows)[off * a.batch:(off + 1) * a.batch]
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total, a.lr, warmup)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
            pol, val, acc = losses(rows)
        loss = pol + a.value_weight * val
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run.step = step = step + 1
        seen += len(rows)
        acc_sum += torch.stack([pol.detach(), val.detach(), acc.detach()]).float()
        acc_n += 1
        if step % a.log_every == 0 or step == total:
            m = (acc_sum / acc_n).tolist()
            progress(f"step {step}/{total} ep {step / spe:.2f} lr {lr_at(step, total, a.lr, warmup):.2e} | "
                     f"policy {m[0]:.3f} acc {m[2]:.3f} value {m[1]:.3f} | {seen / (time.time() - t0):.0f} pos/s")
            acc_sum.zero_()
            acc_n = 0
        if (a.val_every and step % a.val_every == 0) or step == total:
            log_validation(step, evaluate())
        if step % a.ckpt_every == 0:
            run.save()
    run.save()  # the final weights, also when --time-budget ends the run at a check
    return evaluate()


def log_validation(step: int, r: dict[str, float], *, after_progress: bool = True) -> None:
    """One ``[val step N]`` line (on a line of its own after a progress line)."""
    log(f"{chr(10) if after_progress else ''}[val step {step}] policy {r['policy_loss']:.4f} "
        f"acc {r['policy_acc']:.4f} value {r['value_loss']:.4f}")
