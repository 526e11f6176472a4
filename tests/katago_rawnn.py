"""KataGo's ``kata-raw-nn`` as numbers, for comparing a converted net with KataGo's own outputs.

The inputs of a few-stone position built by hand (no engine), KataGo's input symmetries, and
nneval.cpp's post-processing of the raw outputs into kata-raw-nn's White-view numbers; used by
tests/test_katago_import.py (the g170 net), tests/test_katago_import_modern.py and
tests/katago_record.py (the tiny nets and KataGo's test models).
"""

from __future__ import annotations

import numpy as np

from katago_tinynets import POST

F32 = np.float32

RULES = {"chinese": {"ko": "simple", "suicide": False}, "new-zealand": {"ko": "situational", "suicide": True}}


def gtp_point(coord: str, y_size: int) -> tuple[int, int]:
    """GTP vertex → (y, x) with y = 0 the top row."""
    col = "ABCDEFGHJKLMNOPQRSTUVWXYZ".index(coord[0].upper())
    return y_size - int(coord[1:]), col


def liberties(board: np.ndarray, y: int, x: int) -> int:
    """Liberties of the chain at (y, x)."""
    colour, seen, libs, todo = board[y, x], {(y, x)}, set(), [(y, x)]
    while todo:
        cy, cx = todo.pop()
        for ny, nx in ((cy - 1, cx), (cy + 1, cx), (cy, cx - 1), (cy, cx + 1)):
            if 0 <= ny < board.shape[0] and 0 <= nx < board.shape[1]:
                if board[ny, nx] == 0:
                    libs.add((ny, nx))
                elif board[ny, nx] == colour and (ny, nx) not in seen:
                    seen.add((ny, nx))
                    todo.append((ny, nx))
    return len(libs)


def katago_features(case: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Inputs v7 for a few-stone position without captures, ko, ladders or territory.

    Returns (spatial [22,H,W], global [19], board with +1 = side to move, side to move: 1 black / 2 white).
    The area planes 18/19 hold just the stones: the one empty region touches both colours.
    """
    h, w = case["y_size"], case["x_size"]
    board = np.zeros((h, w), np.int8)  # 1 black, 2 white
    for colour, coord in case["moves"]:
        board[gtp_point(coord, h)] = 1 if colour == "b" else 2
    pla = 2 if case["moves"][-1][0] == "b" else 1
    opp = 3 - pla
    x = np.zeros((22, h, w), F32)
    x[0] = 1
    x[1], x[2] = board == pla, board == opp
    for y, xx in zip(*np.nonzero(board)):
        libs = liberties(board, y, xx)
        if libs <= 3:
            x[2 + libs, y, xx] = 1
    for plane, (colour, coord) in enumerate(reversed(case["moves"][-5:])):
        x[9 + plane][gtp_point(coord, h)] = 1
    x[18], x[19] = x[1], x[2]
    g = np.zeros(19, F32)
    self_komi = case["komi"] if pla == 2 else -case["komi"]
    g[5] = self_komi / 20
    rules = RULES[case["rules"]]
    g[6], g[7] = {"simple": (0, 0), "positional": (1, 0.5), "situational": (1, -0.5)}[rules["ko"]]
    g[8] = rules["suicide"]
    g[18] = komi_wave(self_komi, h * w)
    stones = np.where(board == 0, 0, np.where(board == pla, 1, -1))
    return x, g, stones, pla


def komi_wave(self_komi: float, area: int) -> float:
    """Global 18: triangle wave of the komi around the drawable komis (area scoring)."""
    floor = np.floor(self_komi / 2) * 2 if area % 2 == 0 else np.floor((self_komi - 1) / 2) * 2 + 1
    delta = min(max(self_komi - floor, 0.0), 2.0)
    return delta if delta < 0.5 else 1 - delta if delta < 1.5 else delta - 2


def apply_symmetry(planes: np.ndarray, sym: int) -> np.ndarray:
    """KataGo's input symmetry on [..., H, W]: flip y (bit 0), flip x (bit 1), then transpose (bit 2, square only)."""
    if sym & 1:
        planes = planes[..., ::-1, :]
    if sym & 2:
        planes = planes[..., :, ::-1]
    if sym & 4 and planes.shape[-1] == planes.shape[-2]:
        planes = np.swapaxes(planes, -1, -2)
    return np.ascontiguousarray(planes)


def undo_symmetry(planes: np.ndarray, sym: int) -> np.ndarray:
    if sym & 4 and planes.shape[-1] == planes.shape[-2]:
        planes = np.swapaxes(planes, -1, -2)
    if sym & 2:
        planes = planes[..., :, ::-1]
    if sym & 1:
        planes = planes[..., ::-1, :]
    return planes


def softplus(v: float) -> float:
    return float(np.log1p(np.exp(v)))


def postprocess(out: dict[str, np.ndarray], i: int, case: dict, stones: np.ndarray, pla: int,
                post: tuple = POST) -> dict:
    """nneval.cpp's post-processing of row ``i`` into kata-raw-nn's White-view numbers; ``post`` is the
    model's score multipliers (KataGo's order: td score, score mean, score stdev, lead, ...)."""
    h, w, sym, opt = case["y_size"], case["x_size"], case["symmetry"], case.get("optimism", 0)
    logits = out["out_policy"][i].astype(np.float64)
    if opt and "out_policy_optimistic" in out:  # one-channel nets ignore the optimism
        logits = logits + (out["out_policy_optimistic"][i].astype(np.float64) - logits) * opt
    board = np.where(stones != 0, -np.inf, undo_symmetry(logits[:-1].reshape(h, w), sym))
    allp = np.concatenate([board.ravel(), logits[-1:]])
    probs = np.exp(allp - allp.max())
    probs /= probs.sum()
    v = out["out_value"][i].astype(np.float64)
    no_result_off = RULES[case["rules"]]["ko"] != "simple"  # superko + area scoring: noResult forced off
    if no_result_off:
        v[2] -= 100000
    e = np.exp(v - v.max())
    win, loss, no_result = e / e.sum()
    if no_result_off:
        win, loss, no_result = win / (win + loss), loss / (win + loss), 0.0
    s = out["out_score"][i].astype(np.float64)
    _, mean_mult, stdev_mult, lead_mult = post[:4]
    mean, stdev, lead = s[0] * mean_mult, softplus(s[1]) * stdev_mult, s[2] * lead_mult
    mean_sq = (mean * mean + stdev * stdev) * (1 - no_result)
    mean, lead = mean * (1 - no_result), lead * (1 - no_result)
    own = np.tanh(undo_symmetry(out["out_ownership"][i].astype(np.float64), sym))
    sign = 1 if pla == 2 else -1
    if pla == 1:
        win, loss = loss, win
    return {"whiteWin": win, "whiteLoss": loss, "noResult": no_result, "whiteLead": sign * lead,
            "whiteScoreSelfplay": sign * mean, "whiteScoreSelfplaySq": mean_sq,
            "policy": probs[:-1].reshape(h, w), "policyPass": probs[-1], "whiteOwnership": sign * own}


def differences(got: dict, case: dict, stones: np.ndarray) -> dict[str, float]:
    """|ours − KataGo's| per output of one case (:func:`postprocess`'s ``got``); both must call
    the same points illegal."""
    want_policy = np.array([[np.nan if p is None else p for p in row] for row in case["policy"]])
    assert np.array_equal(np.isnan(want_policy), stones != 0), "illegal points differ"
    diffs = {"policy": np.nanmax(np.abs(got["policy"] - want_policy)),
             "policyPass": abs(got["policyPass"] - case["policyPass"]),
             "ownership": np.abs(got["whiteOwnership"] - np.array(case["whiteOwnership"])).max()}
    for key in ("whiteWin", "whiteLoss", "noResult", "whiteLead", "whiteScoreSelfplay"):
        diffs[key] = abs(got[key] - case[key])
    return {k: float(v) for k, v in diffs.items()}


def keep_worst(worst: dict[str, float], diffs: dict[str, float]) -> None:
    """Fold one case's :func:`differences` into the largest seen so far."""
    for key, val in diffs.items():
        worst[key] = max(worst.get(key, 0.0), float(val))
