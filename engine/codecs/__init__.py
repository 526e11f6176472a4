"""Codec registry: pick the codec that drives a network.

A net that names its codec in metadata (``tabula.codec``) gets that codec, and its
signature must fit it; a third-party net with no metadata gets the first codec
whose :meth:`~engine.codecs.base.Codec.accepts` matches its inputs and outputs.
"""

from __future__ import annotations

from importlib import import_module

from .base import Codec, NetSignature, NetworkMismatchError

#: module:class of every codec, in detection order.
_CODEC_PATHS = (
    "tabula.engine.codecs.lc0:Lc0Codec",
    "tabula.engine.codecs.dlshogi:DlshogiCodec",
    "tabula.engine.codecs.go_planes:GoPlanesCodec",
    "tabula.engine.codecs.leelaz:LeelaZeroCodec",
    "tabula.engine.codecs.katago:KataGoCodec",
)


def all_codecs() -> list[type[Codec]]:
    """Every codec class available in this installation."""
    found = []
    for path in _CODEC_PATHS:
        module, cls = path.split(":")
        try:
            found.append(getattr(import_module(module), cls))
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return found


def codec_for(sig: NetSignature, game: str | None = None, *, lc0_format: str | int | None = None) -> Codec:
    """The codec instance for a net, or :class:`NetworkMismatchError` saying what was expected.

    ``lc0_format`` is the ``Lc0InputFormat`` option: the input format of an lc0 net that
    does not declare its own (None or ``"auto"``: classical, with a warning on the codec;
    see :mod:`engine.codecs.lc0_formats`).
    """
    hints = {"lc0_format": lc0_format}
    codecs = all_codecs()
    named = sig.metadata.get("tabula.codec")
    if named:
        for cls in codecs:
            if cls.name == named:
                if not cls.accepts(sig):
                    raise NetworkMismatchError(
                        f"{sig.path}: metadata says codec {named!r}, which expects {cls.expects}, "
                        f"but the net has {sig.describe()}")
                return _check_game(cls.create(sig, **hints), game)
        raise NetworkMismatchError(f"{sig.path}: unknown codec {named!r} in metadata "
                                   f"(known: {', '.join(c.name for c in codecs)})")
    for cls in codecs:
        if (game is None or cls.game == game) and cls.accepts(sig):
            return cls.create(sig, **hints)
    wanted = "; ".join(f"{c.name} ({c.game}): {c.expects}" for c in codecs
                       if game is None or c.game == game)
    raise NetworkMismatchError(f"{sig.path}: no codec accepts {sig.describe()}; expected {wanted}")


def _check_game(codec: Codec, game: str | None) -> Codec:
    if game is not None and codec.game != game:
        raise NetworkMismatchError(f"{codec.sig.path} is a {codec.game} network, not a {game} one")
    return codec
