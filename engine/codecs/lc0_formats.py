"""Which of lc0's input formats a net was trained with, and where that is written down.

lc0 nets declare an ``InputFormat`` in their ``.pb.gz`` (``proto/net.proto``,
``NetworkFormat.input``); ``lc0 leela2onnx`` drops it, so an exported ONNX says nothing
and every format has the same signature ([B,112,8,8] in, [B,1858] policy out). The
format is read, in this order, from

1. the ONNX's ``tabula.lc0_format`` metadata (``tabula nets tag NET.onnx --lc0-format …``),
   or ``tabula.codec`` metadata with no ``tabula.lc0_format`` (a net Tabula exported: classical);
2. an lc0 weights file beside the ONNX with the same stem (``NET.pb.gz`` or ``NET.pb``);
3. the ``Lc0InputFormat`` UCI option, when not ``auto``;
4. otherwise it is assumed classical, and :class:`Resolution` carries a warning saying so.

>>> parse_format("hectoplies").number, parse_format("4").name, parse_format(133).short
(4, 'INPUT_112_WITH_CANONICALIZATION_HECTOPLIES', 'canonical-v2-armageddon')
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Mapping

__all__ = ["Lc0Format", "FORMATS", "CLASSICAL", "parse_format", "read_pb_format", "sibling_weights",
           "Resolution", "resolve_format", "METADATA_KEY", "OPTION_CHOICES"]

#: ONNX metadata key that names the format (``tabula nets tag`` writes it).
METADATA_KEY = "tabula.lc0_format"


@dataclass(frozen=True)
class Lc0Format:
    """One ``NetworkFormat.InputFormat`` and what it changes in the 112 planes."""

    number: int
    name: str  # lc0's enum name
    short: str  # Tabula's name: UCI option value, ``--lc0-format`` value

    @property
    def castling_plane(self) -> bool:
        """Planes 104/105 hold the castling rooks' squares, not 4 all-or-nothing planes."""
        return self.number >= 2

    @property
    def canonical(self) -> bool:
        """Plane 108 holds the en-passant square; boards may be flipped/mirrored/transposed;
        history stops at a castling change, an en-passant position or a rule-50 reset."""
        return self.number >= 3

    @property
    def hectoplies(self) -> bool:
        """Plane 109 holds the rule-50 counter divided by 100."""
        return self.number >= 4

    @property
    def armageddon(self) -> bool:
        """Plane 110 is all ones when black is to move."""
        return self.number in (132, 133)

    @property
    def repeats_only(self) -> bool:
        """Canonical v2: history boards after the first are only the earlier repetitions."""
        return self.number in (5, 133)


FORMATS: tuple[Lc0Format, ...] = (
    Lc0Format(1, "INPUT_CLASSICAL_112_PLANE", "classical"),
    Lc0Format(2, "INPUT_112_WITH_CASTLING_PLANE", "castling-plane"),
    Lc0Format(3, "INPUT_112_WITH_CANONICALIZATION", "canonical"),
    Lc0Format(4, "INPUT_112_WITH_CANONICALIZATION_HECTOPLIES", "hectoplies"),
    Lc0Format(132, "INPUT_112_WITH_CANONICALIZATION_HECTOPLIES_ARMAGEDDON", "hectoplies-armageddon"),
    Lc0Format(5, "INPUT_112_WITH_CANONICALIZATION_V2", "canonical-v2"),
    Lc0Format(133, "INPUT_112_WITH_CANONICALIZATION_V2_ARMAGEDDON", "canonical-v2-armageddon"),
)
CLASSICAL = FORMATS[0]
#: values of the ``Lc0InputFormat`` UCI option
OPTION_CHOICES: tuple[str, ...] = ("auto", *(f.short for f in FORMATS))

_BY_KEY: dict[str, Lc0Format] = {}
for _f in FORMATS:
    for _k in (str(_f.number), _f.name, _f.short, _f.name.removeprefix("INPUT_")):
        _BY_KEY[_k.lower().replace("_", "-")] = _f


def parse_format(value: str | int | Lc0Format) -> Lc0Format:
    """A format from its number, lc0 enum name or short name (case and ``-``/``_`` free).

    Raises ``ValueError`` naming the accepted values.
    """
    if isinstance(value, Lc0Format):
        return value
    key = str(value).strip().lower().replace("_", "-")
    try:
        return _BY_KEY[key]
    except KeyError:
        known = ", ".join(f"{f.number}/{f.short}" for f in FORMATS)
        raise ValueError(f"unknown lc0 input format {value!r} (known: {known})") from None


# -- the format inside an lc0 weights file (proto/net.proto) --------------------------------------
# Net.format = 4 → Format.network_format = 2 → NetworkFormat.input = 1 (.output 2, .network 3,
# .policy 4, .value 5, .moves_left 6). Read with a few lines of protobuf wire format, so that
# neither protoc nor lc0's .proto is needed.

_NET_FORMAT, _FORMAT_NETWORK_FORMAT = 4, 2
_NETWORK_FORMAT_FIELDS = {1: "input", 2: "output", 3: "network", 4: "policy", 5: "value", 6: "moves_left"}
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_CHUNK = 1 << 20


def _varint(read) -> int | None:
    """One varint from a ``read(n)`` callable; None at a clean end of input."""
    shift = result = 0
    while True:
        b = read(1)
        if not b:
            if shift:
                raise ValueError("truncated varint")
            return None
        result |= (b[0] & 0x7F) << shift
        if b[0] < 0x80:
            return result
        shift += 7
        if shift > 63:
            raise ValueError("bad varint")


def _fields(data: bytes):
    """(field number, wire type, value) of one message held in memory."""
    pos = 0

    def read(n: int) -> bytes:
        nonlocal pos
        out = data[pos:pos + n]
        pos += len(out)
        return out

    while True:
        key = _varint(read)
        if key is None:
            return
        field, wire = key >> 3, key & 7
        if wire == _VARINT:
            yield field, wire, _varint(read)
        elif wire == _BYTES:
            n = _varint(read) or 0
            chunk = read(n)
            if len(chunk) != n:
                raise ValueError("truncated field")
            yield field, wire, chunk
        elif wire in (_FIXED64, _FIXED32):
            read(8 if wire == _FIXED64 else 4)
        else:
            raise ValueError(f"unsupported wire type {wire}")


def _skip(stream: BinaryIO, n: int) -> None:
    while n > 0:
        got = len(stream.read(min(n, _CHUNK)))
        if not got:
            raise ValueError("truncated file")
        n -= got


def read_pb_format(path: str | Path) -> dict[str, int]:
    """``NetworkFormat`` fields of an lc0 weights file (``.pb.gz`` or plain ``.pb``).

    Returns e.g. ``{"input": 4, "output": 2, "network": 4, "policy": 2, "value": 2,
    "moves_left": 1}``; ``{"input": 1}`` for an old file with no format (lc0 takes it as
    classical). Only the top of the file is read: the weights that follow are skipped.
    Raises ``ValueError`` if the file is not an lc0 weights file.
    """
    p = Path(path)
    with open(p, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    fmt: dict[str, int] = {}
    found = magic = False
    with opener(p, "rb") as stream:  # type: ignore[operator]
        read = stream.read
        while True:
            try:
                key = _varint(read)
            except (OSError, EOFError) as exc:
                raise ValueError(f"{p}: not a readable lc0 weights file ({exc})") from None
            if key is None:
                break
            field, wire = key >> 3, key & 7
            if field == 1 and wire == _FIXED32:  # magic
                magic = int.from_bytes(read(4), "little") == 0x1C0
            elif wire == _BYTES:
                n = _varint(read) or 0
                if field == _NET_FORMAT:
                    for f2, w2, v2 in _fields(read(n)):
                        if f2 == _FORMAT_NETWORK_FORMAT and w2 == _BYTES:
                            found = True
                            for f3, w3, v3 in _fields(v2):
                                if f3 in _NETWORK_FORMAT_FIELDS and w3 == _VARINT:
                                    fmt[_NETWORK_FORMAT_FIELDS[f3]] = v3
                    break
                _skip(stream, n)
            elif wire == _VARINT:
                _varint(read)
            elif wire in (_FIXED64, _FIXED32):
                read(8 if wire == _FIXED64 else 4)
            else:
                raise ValueError(f"{p}: not an lc0 weights file (wire type {wire})")
    if not magic:
        raise ValueError(f"{p}: not an lc0 weights file (no lc0 magic number)")
    if not found:
        return {"input": CLASSICAL.number}
    fmt.setdefault("input", 0)
    return fmt


def sibling_weights(onnx_path: str | Path) -> Path | None:
    """``NET.pb.gz`` (or ``NET.pb``) beside ``NET.onnx``, if there is one."""
    p = Path(onnx_path)
    for suffix in (".pb.gz", ".pb"):
        cand = p.with_name(p.stem + suffix)
        if cand.is_file():
            return cand
    return None


# -- choosing the format for a net ---------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """The format a net is read with, where it came from, and what to tell the user."""

    format: Lc0Format
    #: "metadata", "tabula export", "weights file NET.pb.gz", "option", "assumed"
    source: str
    #: a warning for the GUI's log (``info string``): the format was guessed, or the option was overridden
    warning: str | None = None
    #: the ``Lc0InputFormat`` value it was resolved with (None: not given)
    option: str | None = None

    @property
    def assumed(self) -> bool:
        return self.source == "assumed"

    def describe(self) -> str:
        """One line: ``lc0 input format hectoplies (4, from metadata)``."""
        where = "assumed" if self.assumed else f"from {self.source}"
        return f"lc0 input format {self.format.short} ({self.format.number}, {where})"


def resolve_format(path: str, metadata: Mapping[str, str], option: str | int | None = None) -> Resolution:
    """The input format of the lc0-shaped net at ``path`` (see the module docstring for the order).

    ``option`` is the ``Lc0InputFormat`` value (``None``/``"auto"``: none given).
    Raises ``ValueError`` for a format name nobody knows, in metadata or option.
    """
    given = None if option is None or str(option).lower() == "auto" else str(option)
    wanted = parse_format(given) if given is not None else None
    declared: Resolution | None = None
    if METADATA_KEY in metadata:
        try:
            declared = Resolution(parse_format(metadata[METADATA_KEY]), "metadata", option=given)
        except ValueError as exc:
            raise ValueError(f"{path}: {METADATA_KEY} metadata: {exc}") from None
    elif "tabula.codec" in metadata:
        declared = Resolution(CLASSICAL, "tabula export", option=given)
    else:
        pb = sibling_weights(path)
        if pb is not None:
            try:
                number = read_pb_format(pb)["input"]
                declared = Resolution(parse_format(number), f"weights file {pb.name}", option=given)
            except ValueError as exc:
                raise ValueError(f"{path}: the lc0 weights file beside it: {exc}") from None
    if declared is not None:
        if wanted is not None and wanted != declared.format:
            return Resolution(declared.format, declared.source,
                              f"Lc0InputFormat={wanted.short} ignored: {Path(path).name} declares "
                              f"{declared.format.short} ({declared.source})", given)
        return declared
    if wanted is not None:
        return Resolution(wanted, "option", option=given)
    return Resolution(CLASSICAL, "assumed", (
        f"{Path(path).name} does not say which lc0 input format it was trained with; assuming "
        f"classical (112 planes, INPUT_CLASSICAL_112_PLANE). If it is a newer net, set the "
        f"Lc0InputFormat option, tag it with 'tabula nets tag {Path(path).name} --lc0-format N', "
        f"or put its .pb.gz beside it"))
