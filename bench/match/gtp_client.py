"""The GTP engine client (go), over :class:`bench.gtp_referee.GtpClient`, and the match clock as GTP's."""

from __future__ import annotations

import shlex

from .errors import EngineFailure, MatchError
from .player import Player
from .spec import TimeControl


class GtpPlayer(Player):
    """A GTP engine through :class:`bench.gtp_referee.GtpClient`."""

    def __init__(self, *a, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*a, **kw)
        self.client = None
        self.reply_timeout = 60.0

    def ensure_started(self) -> None:
        """Start the process (again, if it died) and read its name."""
        from ..gtp_referee import GtpClient

        if self.client is not None:
            if self.client.proc.poll() is None:
                return
            self.kill()
        if self.spec.cwd or self.spec.options:
            raise MatchError(f"{self.name}: GTP engines take no dir= or option.*; put them on the command line")
        self.starts += 1
        try:
            self.client = GtpClient(shlex.join(self.spec.cmd), timeout=self.reply_timeout)
        except (OSError, EngineFailure) as exc:
            raise EngineFailure("crash", f"{self.name} did not start: {exc}") from None

    def kill(self) -> None:
        """Stop the process at once (next game restarts it)."""
        if self.client is not None:
            if self.client.proc.poll() is None:
                self.client.proc.kill()
                self.client.proc.wait()
            self.client = None

    def quit(self) -> None:
        """``quit``, then kill if it lingers."""
        if self.client is not None:
            if self.client.proc.poll() is None:
                self.client.close()
            self.client = None


def go_clock(tc: TimeControl) -> tuple[float, float, int] | None:
    """A :class:`TimeControl` as the GTP referee's Canadian clock (main, period, stones)."""
    if not tc.clocked:
        return None
    if tc.inc:
        raise MatchError("GTP clocks have no increment: use --tc BASE with --byoyomi S")
    return (tc.base or 0.0, tc.byoyomi, 1 if tc.byoyomi else 0)
