"""Record KataGo's own ``kata-raw-nn`` outputs on the tiny nets of tests/katago_tinynets.py, and
compare a converted net with KataGo's outputs (used by tests/test_katago_import_modern.py).

    .venv/bin/python tests/katago_record.py --katago /root/katago-build/katago \\
        --json tests/data/katago_rawnn_tiny.json [--check MODEL.bin.gz ...]

KataGo runs with its own cpp/configs/gtp_example.cfg (path in ``TABULA_KATAGO_CONFIG``) and
the overrides below; KataGo 1.17 was built with ``cmake -DUSE_BACKEND=EIGEN``.

``--json`` writes the recorded cases of our own tiny nets; ``--check`` runs KataGo and the
converted ONNX on third-party models (e.g. KataGo's cpp/tests/models) and prints the largest
differences, writing nothing. Positions have a few stones, no captures, ko or ladders, so the
inputs are built here (katago_rawnn.katago_features) without the engine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))

import katago_tinynets as T  # noqa: E402
from katago_rawnn import apply_symmetry, differences, katago_features, keep_worst, postprocess  # noqa: E402

#: (x_size, y_size, rules, komi, moves, symmetries)
POSITIONS = [
    (9, 9, "chinese", 7.5, [("b", "C3"), ("w", "C6")], range(8)),
    (7, 10, "new-zealand", 7.5, [("b", "C3"), ("w", "C7"), ("b", "F7")], (0, 3, 5, 6)),
    (13, 13, "new-zealand", 6.5, [("b", "D4"), ("w", "K10"), ("b", "K4")], (1, 4)),
    (19, 19, "chinese", 7.5, [("b", "Q16"), ("w", "D4"), ("b", "Q4"), ("w", "D16")], (0, 2, 5, 7)),
]
#: fewer symmetries for the recorded tiny nets, to keep the JSON small
TINY_POSITIONS = [(*POSITIONS[0][:5], (0, 5)), (*POSITIONS[1][:5], (3, 6)), (*POSITIONS[2][:5], (4,))]
#: overrides on KataGo's cpp/configs/gtp_example.cfg (``--config``)
OVERRIDES = "logDir={logdir}, logAllGTPCommunication=false, logSearchInfo=false, numSearchThreads=1, " \
            "nnMaxBatchSize=1, nnCacheSizePowerOfTwo=12, nnMutexPoolSizePowerOfTwo=6, maxVisits=1"
CONFIG = os.environ.get("TABULA_KATAGO_CONFIG", "/root/katago-src/cpp/configs/gtp_example.cfg")


def gtp_script(pos: tuple) -> tuple[list[str], list[dict]]:
    """GTP commands for one position and the case records they answer (optimism 0, and 1 for symmetry 0)."""
    xs, ys, rules, komi, moves, syms = pos
    cmds = [f"rectangular_boardsize {xs} {ys}" if xs != ys else f"boardsize {xs}", f"kata-set-rules {rules}",
            f"komi {komi}"] + [f"play {c} {v}" for c, v in moves]
    cases = []
    for s in syms:
        for opt in ((0.0, 1.0) if s == syms[0] else (0.0,)):
            cmds.append(f"kata-raw-nn {s} {opt}")
            cases.append({"x_size": xs, "y_size": ys, "rules": rules, "komi": komi,
                          "moves": [list(m) for m in moves], "symmetry": s, "optimism": opt})
    return cmds, cases


def parse_raw_nn(text: str) -> list[dict]:
    """Each ``kata-raw-nn`` answer as a dict (policy rows with None for illegal points)."""
    out = []
    for block in text.split("\n\n"):
        lines = [ln.strip() for ln in block.strip().splitlines()]
        if not lines or not lines[0].startswith("= symmetry"):
            continue
        rec: dict = {"policy": [], "whiteOwnership": []}
        section = None
        for ln in lines[1:]:
            parts = ln.split()
            if parts[0] in ("policy", "whiteOwnership"):
                section = parts[0]
            elif parts[0] == "policyPass":
                rec["policyPass"], section = float(parts[1]), None
            elif section:
                rec[section].append([None if p == "NAN" else float(p) for p in parts])
            else:
                rec[parts[0]] = float(parts[1])
        out.append(rec)
    return out


def run_katago(katago: str, model: Path, cmds: list[str], config: str = CONFIG) -> str:
    """KataGo's GTP answers to ``cmds`` (its example GTP config with :data:`OVERRIDES`)."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([katago, "gtp", "-model", str(model), "-config", config, "-override-config",
                               OVERRIDES.format(logdir=Path(tmp) / "logs")],
                              input="\n".join(cmds) + "\nquit\n", capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"katago failed: {proc.stderr[-2000:]}")
    return proc.stdout


def record_cases(katago: str, model: Path, positions: list = POSITIONS) -> list[dict]:
    """KataGo's answers on ``positions``, one case per kata-raw-nn command."""
    cases = []
    for pos in positions:
        cmds, want = gtp_script(pos)
        got = parse_raw_nn(run_katago(katago, model, cmds))
        assert len(got) == len(want), f"{len(got)} answers for {len(want)} kata-raw-nn commands"
        cases.extend({**w, **g} for w, g in zip(want, got))
    return cases


# -- comparing ---------------------------------------------------------------------------------------

def compare_proto(proto, post: tuple, cases: list[dict]) -> dict[str, float]:
    """Largest |ours − KataGo's| per output over ``cases``."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(proto.SerializeToString(), sess_options=so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    worst: dict[str, float] = {}
    for case in cases:
        spatial, glob, stones, pla = katago_features(case)
        x = apply_symmetry(spatial, case["symmetry"])[None]
        out = dict(zip(names, sess.run(None, {"input_spatial": x, "input_global": glob[None]})))
        keep_worst(worst, differences(postprocess(out, 0, case, stones, pla, post), case, stones))
    return worst


def _post(model) -> tuple:
    p = model.postprocess
    return (p.td_score, p.score_mean, p.score_stdev, p.lead)


def compare_cases(m: dict, cases: list[dict]) -> dict[str, float]:
    """Worst differences of the tiny net ``m`` (a katago_tinynets dict) from recorded cases."""
    from tabula.nets.katago_import import parse_model, to_onnx

    model = parse_model(T.serialize(m))
    return compare_proto(to_onnx(model), _post(model), cases)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--katago", required=True)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--check", type=Path, nargs="*", default=[])
    args = ap.parse_args()
    from tabula.nets.katago_import import read_model, to_onnx

    if args.json:
        all_cases = []
        with tempfile.TemporaryDirectory() as tmp:
            for name in T.RECORDED:
                path = Path(tmp) / f"{name}.bin.gz"
                path.write_bytes(gzip.compress(T.serialize(T.recorded_model(name))))
                cases = [{"net": name, **c} for c in record_cases(args.katago, path, TINY_POSITIONS)]
                worst = compare_cases(T.recorded_model(name), cases)
                print(name, len(cases), "cases;", {k: float(f"{v:.2e}") for k, v in worst.items()}, flush=True)
                all_cases.extend(cases)
        about = ("KataGo v1.17.2 (Eigen CPU backend, FP32) kata-raw-nn outputs for tabula's own tiny random nets "
                 "(tests/katago_tinynets.py RECORDED), made by tests/katago_record.py. Rows are y = 0 (top) first; "
                 "policy null = illegal point; values from White's view; optimism = kata-raw-nn's policy optimism.")
        args.json.write_text(json.dumps({"about": about, "cases": all_cases}, separators=(",", ":")) + "\n")
    for path in args.check:
        model = read_model(path)
        cases = record_cases(args.katago, path)
        worst = compare_proto(to_onnx(model), _post(model), cases)
        print(f"{path.name} (v{model.version}): {len(cases)} cases;",
              {k: float(f"{v:.2e}") for k, v in worst.items()}, flush=True)


if __name__ == "__main__":
    main()
