"""Run a ``tabula`` front end's command line without a GUI: see the options it hands the protocol."""

from __future__ import annotations

import sys
from typing import Any, Callable

import pytest


def options_after_cli(monkeypatch: pytest.MonkeyPatch, protocol: type, entry: Callable[[], None],
                      *args: str) -> dict[str, Any]:
    """Call the entry point ``entry`` (e.g. ``protocols.cli.uci_main``) with ``args`` as its command
    line; ``protocol``'s loop is replaced, so no net loads and no input is read. Returns every engine
    option's value as the loop would have started with, or raises SystemExit on a usage error."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(protocol, "run", lambda self, lines: seen.update(
        {p.name: self.engine.options[p.name] for p in self.engine.options if p.kind != "button"}))
    monkeypatch.setattr(sys, "argv", [entry.__name__, *args])
    with pytest.raises(SystemExit) as exit_:
        entry()
    if exit_.value.code:
        raise exit_.value
    return seen
