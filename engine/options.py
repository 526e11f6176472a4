"""Engine parameters, declared once: each :class:`Param` carries its protocol name,
type, default, range and help. UCI/USI ``option`` lines, ``setoption`` parsing and
the CLI all come from this one registry.

Floats are shown to GUIs as ``string`` options, as lc0 does (UCI has no float type).

>>> opts = Options(SEARCH_PARAMS)
>>> opts.set("cpuct", "2.5"); opts["CPuct"]
2.5
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence


class OptionError(ValueError):
    """An unknown option name or a value its declaration does not allow."""


@dataclass(frozen=True)
class Param:
    """One engine parameter, as shown to the GUI and validated on ``setoption``."""

    name: str
    kind: str  # "spin" | "check" | "combo" | "string" | "float" | "button"
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: Sequence[str] = ()

    def parse(self, text: str | None) -> Any:
        """Turn a ``setoption`` value into a typed value; raise :class:`OptionError` if not allowed."""
        if self.kind == "button":
            return True
        if text is None:
            raise OptionError(f"option {self.name} needs a value")
        text = text.strip()
        if self.kind == "check":
            low = text.lower()
            if low not in ("true", "false"):
                raise OptionError(f"option {self.name} takes true or false, not {text!r}")
            return low == "true"
        if self.kind in ("spin", "float"):
            try:
                value: float = int(text) if self.kind == "spin" else float(text)
            except ValueError:
                kind = "an integer" if self.kind == "spin" else "a number"
                raise OptionError(f"option {self.name} takes {kind}, not {text!r}") from None
            if value != value or (self.min is not None and value < self.min) or (
                    self.max is not None and value > self.max):
                raise OptionError(f"option {self.name} value {text} is outside [{self.min}, {self.max}]")
            return value
        if self.kind == "combo":
            for choice in self.choices:
                if choice.lower() == text.lower():
                    return choice
            raise OptionError(f"option {self.name} takes one of {', '.join(self.choices)}, not {text!r}")
        return "" if text == "<empty>" else text

    def declaration(self, *, spaces: bool = True) -> str:
        """The ``option name … type …`` line (UCI/USI); floats are ``string`` options."""
        name = self.name if spaces else self.name.replace(" ", "")
        if self.kind == "spin":
            return f"option name {name} type spin default {self.default} min {int(self.min or 0)} max {int(self.max or 0)}"
        if self.kind == "check":
            return f"option name {name} type check default {'true' if self.default else 'false'}"
        if self.kind == "combo":
            vars_ = " ".join(f"var {c}" for c in self.choices)
            return f"option name {name} type combo default {self.default} {vars_}"
        if self.kind == "button":
            return f"option name {name} type button"
        if self.kind == "float":
            return f"option name {name} type string default {self.default:g}"
        return f"option name {name} type string default {self.default or '<empty>'}"

    def with_default(self, default: object, why: str) -> "Param":
        """This parameter with another default, for one front end (``why`` joins its help).

        A front end passes it among its own parameters; :class:`Options` lets a later
        declaration of a name replace the earlier one.

        >>> Param("Visits", "spin", 800, "Playouts.", 0, 10**9).with_default(200, "Go: 200.").default
        200
        """
        return replace(self, default=self.parse(str(default)), help=f"{self.help} {why}")


def find_param(params: Iterable[Param], name: str) -> Param:
    """The declaration of ``name`` (case- and space-insensitive) among ``params``; :class:`OptionError` if none."""
    return Options(params).param(name)


class Options:
    """Current values of a set of :class:`Param`; names are case- and space-insensitive."""

    def __init__(self, params: Iterable[Param]) -> None:
        self.params: dict[str, Param] = {}
        self.values: dict[str, Any] = {}
        for p in params:
            self.params[self._norm(p.name)] = p
            self.values[self._norm(p.name)] = p.default

    @staticmethod
    def _norm(name: str) -> str:
        return name.replace(" ", "").replace("_", "").lower()

    def param(self, name: str) -> Param:
        """The declaration of ``name``; raise :class:`OptionError` if unknown."""
        try:
            return self.params[self._norm(name)]
        except KeyError:
            raise OptionError(f"unknown option {name!r}") from None

    def set(self, name: str, text: str | None) -> Any:
        """Parse and store a value; returns the typed value."""
        p = self.param(name)
        value = p.parse(text)
        if p.kind != "button":
            self.values[self._norm(name)] = value
        return value

    def __getitem__(self, name: str) -> Any:
        self.param(name)
        return self.values[self._norm(name)]

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``name``, or ``default`` where this front end does not declare it."""
        return self.values.get(self._norm(name), default)

    def __iter__(self):
        return iter(self.params.values())
