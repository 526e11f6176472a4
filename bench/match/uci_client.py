"""The UCI engine client (chess), driven by python-chess's ``chess.engine``."""

from __future__ import annotations

import asyncio
import time

from .errors import EngineFailure
from .player import MoveAnswer, Player
from .records import Clock


class UciPlayer(Player):
    """A UCI engine through python-chess's ``SimpleEngine``."""

    def __init__(self, *a, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*a, **kw)
        self.engine = None

    def ensure_started(self) -> None:
        """Start the process, handshake, set the options (raises :class:`EngineFailure`)."""
        if self.engine is not None:
            if not self.engine.protocol.returncode.done():
                return
            self.kill()  # died since its last move: start a fresh one
        import chess.engine

        self.starts += 1
        try:
            eng = chess.engine.SimpleEngine.popen_uci(self.spec.cmd, timeout=self.start_timeout,
                                                      cwd=self.spec.cwd, stderr=self.stderr)
        except (OSError, chess.engine.EngineError, asyncio.TimeoutError, TimeoutError) as exc:
            raise EngineFailure("crash", f"{self.name} did not start: {type(exc).__name__}: {exc}") from None
        try:
            if self.spec.options:
                eng.configure(dict(self.spec.options))
            eng.ping()
        except (chess.engine.EngineError, asyncio.TimeoutError, TimeoutError) as exc:
            self._close(eng)
            raise EngineFailure("crash", f"{self.name}: setting options failed: {exc}") from None
        self.engine = eng

    @staticmethod
    def _close(eng) -> None:  # noqa: ANN001
        try:
            eng.close()
        except Exception:  # noqa: BLE001 - closing a broken engine may fail in many ways
            pass

    def kill(self) -> None:
        """Stop the process at once (next game restarts it)."""
        if self.engine is not None:
            self._close(self.engine)
            self.engine = None

    def quit(self) -> None:
        """Send ``quit`` and wait briefly; kill if it lingers."""
        eng, self.engine = self.engine, None
        if eng is None:
            return
        try:
            eng.quit()
        except Exception:  # noqa: BLE001
            pass
        self._close(eng)

    def play(self, board, clocks: tuple[Clock, Clock], game_id: object, timeout: float) -> MoveAnswer:  # noqa: ANN001
        """Ask for a move in ``board``; ``timeout`` seconds at most (raises :class:`EngineFailure`)."""
        import chess
        import chess.engine

        self.ensure_started()
        eng = self.engine
        lim = self.limits
        kw: dict = {}
        if lim.tc.clocked:
            w, b = clocks
            kw.update(white_clock=w.remaining, black_clock=b.remaining,
                      white_inc=w.tc.inc, black_inc=b.tc.inc)
        if lim.nodes is not None:
            kw["nodes"] = lim.nodes
        if lim.movetime is not None:
            kw["time"] = lim.movetime
        if lim.depth is not None:
            kw["depth"] = lim.depth
        limit = chess.engine.Limit(**kw)
        coro = asyncio.wait_for(eng.protocol.play(board, limit, game=game_id, info=chess.engine.INFO_SCORE),
                                timeout)
        t0 = time.perf_counter()
        try:
            # python-chess's own timeout ignores clocks; the referee's is the engine's time left
            res = asyncio.run_coroutine_threadsafe(coro, eng.protocol.loop).result(timeout + 5.0)
        except (asyncio.TimeoutError, TimeoutError):
            raise EngineFailure("time", f"{self.name} did not answer within {timeout:.2f} s") from None
        except chess.engine.EngineTerminatedError as exc:
            raise EngineFailure("crash", f"{self.name} terminated: {exc}") from None
        except chess.engine.EngineError as exc:
            text = str(exc)
            kind = "illegal" if "illegal" in text or "invalid" in text else "protocol"
            raise EngineFailure(kind, f"{self.name}: {text}") from None
        except RuntimeError as exc:  # the engine's event loop is gone
            raise EngineFailure("crash", f"{self.name}: {exc}") from None
        dt = time.perf_counter() - t0
        ans = MoveAnswer(res.move.uci() if res.move else None, dt)
        score = res.info.get("score")
        if res.resigned:
            ans.move = "resign"
        if score is not None:
            rel = score.relative
            if rel.is_mate():
                ans.mate = rel.mate()
            else:
                ans.score_cp = rel.score()
        ans.depth = res.info.get("depth")
        return ans
