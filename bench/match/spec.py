"""Parsing what the engines play under: time controls, engine specs and per-engine limits."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .errors import MatchError


@dataclass(frozen=True)
class TimeControl:
    """A clock: ``base`` seconds, ``inc`` seconds per move (Fischer), ``byoyomi`` seconds per
    move once the base is spent (shogi). ``base=None`` means no clock.

    >>> TimeControl.parse("10+0.1"), TimeControl.parse("0+0", byoyomi=1).describe()
    (TimeControl(base=10.0, inc=0.1, byoyomi=0.0), '0+0 byoyomi 1')
    """

    base: float | None = None
    inc: float = 0.0
    byoyomi: float = 0.0

    @classmethod
    def parse(cls, text: str | None, byoyomi: float = 0.0) -> "TimeControl":
        """From ``base+inc`` or ``base`` in seconds (``inf``/empty: no clock)."""
        if text is None or text.strip().lower() in ("", "inf", "none"):
            return cls(None, 0.0, float(byoyomi)) if byoyomi else cls()
        t = text.strip()
        try:
            if "+" in t:
                b, i = t.split("+", 1)
                return cls(float(b), float(i), float(byoyomi))
            return cls(float(t), 0.0, float(byoyomi))
        except ValueError:
            raise MatchError(f"bad time control {text!r}: use BASE+INC in seconds, e.g. 10+0.1") from None

    @property
    def clocked(self) -> bool:
        """Whether there is a clock at all."""
        return self.base is not None or self.byoyomi > 0

    def describe(self) -> str:
        """Short text; PGN's ``TimeControl`` style for Fischer clocks."""
        if not self.clocked:
            return "-"
        s = f"{self.base or 0:g}+{self.inc:g}"
        return s + (f" byoyomi {self.byoyomi:g}" if self.byoyomi else "")


@dataclass
class EngineSpec:
    """One engine: its command line, name, options and (optionally) its own limits.

    Parsed from ``key=value`` fields (shell quoting): ``cmd`` (the command line, split
    like a shell would), ``arg`` (one more argument, repeatable), ``name``, ``proto``
    (uci|usi|gtp), ``dir`` (working directory), ``option.NAME=VALUE`` (repeatable),
    and per-engine limits ``tc``, ``byoyomi``, ``nodes``, ``st`` (seconds per move),
    ``depth`` that override the match's.
    """

    cmd: list[str]
    name: str = ""
    options: dict[str, str] = field(default_factory=dict)
    proto: str | None = None
    cwd: str | None = None
    tc: TimeControl | None = None
    nodes: int | None = None
    movetime: float | None = None
    depth: int | None = None

    @classmethod
    def parse(cls, text: str) -> "EngineSpec":
        """Parse ``"cmd='…' name=… option.X=Y …"``; a spec without ``=`` is the command itself."""
        try:
            tokens = shlex.split(text)
        except ValueError as exc:
            raise MatchError(f"engine spec {text!r}: {exc}") from None
        if tokens and all("=" not in t for t in tokens):
            tokens = [f"cmd={text}"]
        spec = cls(cmd=[])
        tc_text, byo = None, 0.0
        for tok in tokens:
            if "=" not in tok:
                raise MatchError(f"engine spec field {tok!r} is not key=value (in {text!r})")
            k, v = tok.split("=", 1)
            try:
                if k == "cmd":
                    spec.cmd += shlex.split(v)
                elif k == "arg":
                    spec.cmd.append(v)
                elif k == "name":
                    spec.name = v
                elif k == "proto":
                    if v not in ("uci", "usi", "gtp"):
                        raise MatchError(f"proto must be uci, usi or gtp, not {v!r}")
                    spec.proto = v
                elif k == "dir":
                    spec.cwd = v
                elif k.startswith("option."):
                    spec.options[k[len("option."):]] = v
                elif k == "tc":
                    tc_text = v
                elif k == "byoyomi":
                    byo = float(v)
                elif k == "nodes":
                    spec.nodes = int(v)
                elif k == "st":
                    spec.movetime = float(v)
                elif k == "depth":
                    spec.depth = int(v)
                else:
                    raise MatchError(f"unknown engine spec field {k!r} (in {text!r}); use cmd, arg, name, "
                                     f"proto, dir, option.NAME, tc, byoyomi, nodes, st, depth")
            except ValueError:
                raise MatchError(f"engine spec field {tok!r}: bad number") from None
        if not spec.cmd:
            raise MatchError(f"engine spec {text!r} has no cmd=")
        if tc_text is not None or byo:
            spec.tc = TimeControl.parse(tc_text, byo)
        if not spec.name:
            spec.name = Path(spec.cmd[0]).name
        return spec


@dataclass(frozen=True)
class Limits:
    """What one engine's moves are limited by (clock, nodes, fixed time, depth)."""

    tc: TimeControl = TimeControl()
    nodes: int | None = None
    movetime: float | None = None
    depth: int | None = None

    def describe(self) -> str:
        """Short text for headers and summaries."""
        parts = []
        if self.tc.clocked:
            parts.append(f"tc {self.tc.describe()}")
        if self.movetime is not None:
            parts.append(f"st {self.movetime:g}")
        if self.nodes is not None:
            parts.append(f"nodes {self.nodes}")
        if self.depth is not None:
            parts.append(f"depth {self.depth}")
        return ", ".join(parts) or "none"


def limits_for(spec: EngineSpec, default: Limits) -> Limits:
    """The engine's own limits where it gives them, the match's otherwise."""
    return Limits(spec.tc if spec.tc is not None else default.tc,
                  spec.nodes if spec.nodes is not None else default.nodes,
                  spec.movetime if spec.movetime is not None else default.movetime,
                  spec.depth if spec.depth is not None else default.depth)
