"""Write an untrained net of a given shape, for speed measurements (needs the `train` extra).

    python -m tabula.bench.random_net --codec lc0-112 --blocks 20 --filters 256 -o big.onnx

Weights are PyTorch's default initialisation: the net plays nonsense but costs exactly
what a trained net of that shape costs, which is all ``tabula bench`` needs.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    """Command line entry."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codec", default="lc0-112", choices=["lc0-112", "dlshogi", "go"])
    ap.add_argument("--blocks", type=int, default=20)
    ap.add_argument("--filters", type=int, default=256)
    ap.add_argument("--no-se", action="store_true")
    ap.add_argument("--board-size", type=int, default=19, help="go only")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)

    import torch

    from tabula.nets.export import export_onnx
    from tabula.nets.model import NetConfig, PolicyValueNet

    torch.manual_seed(0)
    extra = {"in_channels": 17, "board_size": args.board_size} if args.codec == "go" else {}
    cfg = NetConfig(codec=args.codec, blocks=args.blocks, filters=args.filters, se=not args.no_se, **extra)
    export_onnx(PolicyValueNet(cfg), args.output, provenance="untrained, for speed tests (bench.random_net)")
    print(f"wrote {args.output}: {cfg.arch} {args.codec}")


if __name__ == "__main__":
    main()
