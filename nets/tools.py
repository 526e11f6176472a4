"""Network tools behind ``tabula nets …``: describe a net, quantise it, tag an lc0 export.

``info`` reads any ONNX file the engine can load (ours with metadata, lc0 and
dlshogi exports by signature). ``quantize`` writes an fp16 or int8 copy with the
metadata kept, and measures what the change costs: file size, CPU evals/s and
how often the top policy move still agrees with the fp32 net on a fixed,
seeded set of positions of the net's game. ``tag`` writes into an ONNX made by
``lc0 leela2onnx`` which lc0 input format it was trained with (the export itself
does not say; engine/codecs/lc0_formats.py).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from tabula.engine.codecs.base import Codec
from tabula.engine.evaluator import OnnxEvaluator, read_signature
from tabula.engine.games.base import GameState


@dataclass
class NetInfo:
    """What ``tabula nets info`` prints."""

    path: str
    game: str
    codec: str
    signature: str
    parameters: int
    precision: str
    size_bytes: int
    metadata: dict[str, str]
    #: codec-specific lines, e.g. an lc0 net's input format and where it was read from
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Human-readable lines."""
        out = [f"file:       {self.path} ({self.size_bytes / 1e6:.2f} MB)",
               f"game:       {self.game}", f"codec:      {self.codec}",
               f"signature:  {self.signature}",
               f"parameters: {self.parameters:,}", f"precision:  {self.precision}"]
        out += [f"note:       {n}" for n in self.notes]
        out += [f"metadata:   {k} = {v}" for k, v in sorted(self.metadata.items())] or ["metadata:   (none)"]
        return out


def net_info(path: str | Path) -> NetInfo:
    """Describe a network file (raises the engine's load/mismatch errors with their messages)."""
    import onnx

    from tabula.engine.codecs import codec_for

    sig = read_signature(path)
    codec = codec_for(sig)
    model = onnx.load(str(path), load_external_data=False)
    counts: dict[str, int] = {}
    params = 0
    for init in model.graph.initializer:
        n = int(np.prod(init.dims)) if init.dims else 1
        params += n
        name = onnx.TensorProto.DataType.Name(init.data_type).lower()
        counts[name] = counts.get(name, 0) + n
    precision = max(counts, key=counts.get) if counts else "unknown"
    return NetInfo(str(path), codec.game, codec.name, sig.describe(), params, precision,
                   Path(path).stat().st_size, dict(sig.metadata), tuple(_codec_notes(codec)))


def _codec_notes(codec: Codec) -> list[str]:
    """What ``nets info`` adds for an lc0 net: its input format, its source, a moves-left head."""
    res = getattr(codec, "resolution", None)
    if res is None:
        return []
    out = [res.describe()]
    if res.warning:
        out.append(f"warning: {res.warning}")
    if codec.has_moves_left:
        out.append(f"moves-left head: {codec.moves_left_output}")  # type: ignore[attr-defined]
    return out


def tag_lc0_format(path: str | Path, lc0_format: str | int | None = None, *,
                   weights: str | Path | None = None, output: str | Path | None = None) -> tuple[Path, str]:
    """Write which lc0 input format an lc0 ONNX net has into its metadata.

    The format is ``lc0_format`` (a number, lc0's enum name or Tabula's short name, see
    :data:`engine.codecs.lc0_formats.FORMATS`) or the one declared in the lc0 weights file
    ``weights`` (``.pb.gz``); give one of the two. Sets ``tabula.game``, ``tabula.codec`` and
    ``tabula.lc0_format``, keeps every other entry, and writes ``output`` (default: in place).
    Returns the file written and the format's lc0 name. Raises ``ValueError`` for an unknown
    format, a file that is no lc0 net, or the two sources disagreeing.
    """
    import onnx

    from tabula.engine.codecs.lc0 import Lc0Net
    from tabula.engine.codecs.lc0_formats import METADATA_KEY, parse_format, read_pb_format

    if lc0_format is None and weights is None:
        raise ValueError("give the format (--lc0-format) or the lc0 weights file it came from (--from)")
    fmt = parse_format(lc0_format) if lc0_format is not None else None
    if weights is not None:
        declared = parse_format(read_pb_format(weights)["input"])
        if fmt is not None and declared != fmt:
            raise ValueError(f"{weights} declares {declared.short} ({declared.number}), not {fmt.short}")
        fmt = declared
    assert fmt is not None
    sig = read_signature(path)
    if not Lc0Net.accepts(sig):
        raise ValueError(f"{path}: not an lc0 net: expected {Lc0Net.expects}, got {sig.describe()}")
    named = sig.metadata.get("tabula.codec")
    if named not in (None, Lc0Net.name):
        raise ValueError(f"{path}: its metadata says codec {named!r}, not {Lc0Net.name!r}")
    model = onnx.load(str(path))
    meta = {p.key: p.value for p in model.metadata_props}
    meta.update({"tabula.game": Lc0Net.game, "tabula.codec": Lc0Net.name, METADATA_KEY: fmt.name})
    del model.metadata_props[:]
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    dst = Path(output) if output is not None else Path(path)
    onnx.save(model, str(dst))
    return dst, fmt.name


def sample_positions(codec: Codec, count: int = 64, seed: int = 7) -> list[GameState]:
    """A fixed set of positions of the codec's game: seeded random games, sampled every few plies."""
    rng = random.Random(seed)
    out: list[GameState] = []
    for state in _start_states(codec):
        while len(out) < count:
            s = state.copy()
            for _ in range(rng.randrange(0, 60)):
                moves = s.legal_moves()
                if not moves or s.terminal() is not None:
                    break
                s.push(rng.choice(list(moves)))
            if s.legal_moves() and s.terminal() is None:
                out.append(s)
    return out


def _start_states(codec: Codec) -> Iterator[GameState]:
    if codec.game == "chess":
        from tabula.engine.games.chess_game import ChessState

        yield ChessState()
    elif codec.game == "shogi":
        from tabula.engine.games.shogi_game import ShogiState

        yield ShogiState()
    elif codec.game == "go":
        from tabula.engine.games.go import GoState

        size = int(codec.input_shapes[next(iter(codec.input_shapes))][-1])
        yield GoState(size=size, komi=7.0)
    else:
        raise ValueError(f"no positions for game {codec.game!r}")


def top_moves(ev: OnnxEvaluator, states: list[GameState]) -> list[int]:
    """The policy's favourite legal move (index into legal moves) for each state."""
    out = []
    batch = ev.new_batch(len(states))
    for i, s in enumerate(states):
        ev.codec.encode(s, batch.inputs, i)
    res = ev.run(batch, len(states))
    pol = res[ev.codec.policy_output]
    for i, s in enumerate(states):
        idx = ev.codec.policy_indices(s, s.legal_moves())
        out.append(int(np.argmax(pol[i, idx])))
    return out


def evals_per_second(ev: OnnxEvaluator, states: list[GameState], batch: int = 64,
                     seconds: float = 2.0) -> float:
    """Network-alone throughput at one batch size on these positions."""
    b = ev.new_batch(batch)
    for i in range(batch):
        ev.codec.encode(states[i % len(states)], b.inputs, i)
    ev.run(b, batch)  # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        ev.run(b, batch)
        n += batch
    return n / (time.perf_counter() - t0)


def quantize(src: str | Path, dst: str | Path, to: str) -> Path:
    """Write an fp16 or int8 copy of ``src`` with inputs/outputs still float32 and metadata kept."""
    import onnx

    model = onnx.load(str(src))
    meta = {p.key: p.value for p in model.metadata_props}
    if to == "fp16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        out = convert_float_to_float16(model, keep_io_types=True)
        onnx.save(out, str(dst))
    elif to == "int8":
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.calibrate import CalibrationDataReader

        ev = OnnxEvaluator(src, backend="cpu", threads=1, max_batch=1)
        states = sample_positions(ev.codec, 64, seed=11)

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.items = iter(states)

            def get_next(self):
                s = next(self.items, None)
                if s is None:
                    return None
                b = ev.new_batch(1)
                ev.codec.encode(s, b.inputs, 0)
                return {k: v for k, v in b.inputs.items()}

        from onnxruntime.quantization.shape_inference import quant_pre_process

        raw = Path(dst).with_suffix(".raw.onnx")
        prepared = Path(dst).with_suffix(".prep.onnx")
        onnx.save(model, str(raw))
        quant_pre_process(str(raw), str(prepared))  # fold constants so conv biases are initializers
        raw.unlink(missing_ok=True)
        quantize_static(str(prepared), str(dst), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        per_channel=True)
        prepared.unlink(missing_ok=True)
        ev.close()
    else:
        raise ValueError(f"unknown precision {to!r}: use fp16 or int8")
    out_model = onnx.load(str(dst))
    del out_model.metadata_props[:]
    for k, v in {**meta, "tabula.precision": to}.items():
        out_model.metadata_props.add(key=k, value=v)
    onnx.save(out_model, str(dst))
    return Path(dst)


@dataclass
class QuantReport:
    """Sizes, speeds and agreement of a quantised net against its source."""

    src_bytes: int
    dst_bytes: int
    src_evals_per_s: float
    dst_evals_per_s: float
    agreement: float
    positions: int

    def lines(self) -> list[str]:
        return [f"size:      {self.src_bytes / 1e6:.2f} MB -> {self.dst_bytes / 1e6:.2f} MB",
                f"CPU evals/s (batch 64, 1 thread): {self.src_evals_per_s:.0f} -> {self.dst_evals_per_s:.0f}",
                f"top-move agreement with fp32: {self.agreement:.1%} on {self.positions} positions"]


def compare(src: str | Path, dst: str | Path, positions: int = 200, seconds: float = 2.0) -> QuantReport:
    """Measure a quantised net against its source on the same fixed positions."""
    a = OnnxEvaluator(src, backend="cpu", threads=1, max_batch=max(64, positions))
    b = OnnxEvaluator(dst, backend="cpu", threads=1, max_batch=max(64, positions))
    states = sample_positions(a.codec, positions)
    agree = np.mean(np.array(top_moves(a, states)) == np.array(top_moves(b, states)))
    rep = QuantReport(Path(src).stat().st_size, Path(dst).stat().st_size,
                      evals_per_second(a, states, 64, seconds), evals_per_second(b, states, 64, seconds),
                      float(agree), len(states))
    a.close()
    b.close()
    return rep
