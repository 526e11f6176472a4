"""The first start after an install: the kernels compile in a child process while the engine
answers at once and searches with the reference search; later starts load them from the cache."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tabula.engine.native import cachestamp


def test_warm_marks_follow_the_sources(tmp_path, monkeypatch):
    import numba
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))  # numba read the variable at import
    assert cachestamp.writable()
    assert not cachestamp.is_warm("chess")
    assert cachestamp.mark_warm("chess")
    assert not cachestamp.is_warm("chess")  # marked, but numba's cache files are gone
    for cache in cachestamp._stamp_dirs():  # noqa: SLF001 - where numba keeps them
        (cache / "kernels.descend-1.py311.nbi").write_bytes(b"")
    assert cachestamp.is_warm("chess") and not cachestamp.is_warm("other")
    monkeypatch.setattr(cachestamp, "digest", lambda: "an edited source")
    assert not cachestamp.is_warm("chess")  # compiled from other sources: compile again


def _uci(cache: str, script: str, timeout: float = 600) -> tuple[list[tuple[float, str]], int]:
    """Run `tabula uci` on the bundled net; each output line with its time since start."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "TABULA_COMPILE_APART": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tabula.protocols.cli", "uci"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    t0 = time.monotonic()
    assert proc.stdin and proc.stdout
    proc.stdin.write(script)
    proc.stdin.flush()
    lines = []
    for line in proc.stdout:
        lines.append((time.monotonic() - t0, line.rstrip("\n")))
        if line.startswith("bestmove") and sum(x.startswith("bestmove") for _, x in lines) == script.count("go "):
            proc.stdin.write("quit\n")
            proc.stdin.flush()
    return lines, proc.wait(timeout)


@pytest.mark.slow
def test_fresh_cache_answers_at_once_then_goes_native(tmp_path):
    cache = str(tmp_path / "numba")
    script = "uci\nisready\nposition startpos\ngo nodes 50\n"
    lines, rc = _uci(cache, script)
    text = [x for _, x in lines]
    assert rc == 0 and "readyok" in text and any(x.startswith("bestmove") for x in text)
    assert any("compiling the search kernels" in x for x in text), text  # said once, on the first search
    # the child filled the cache: a later start loads the kernels and searches natively at once
    deadline = time.monotonic() + 600
    while not cachestamp_is_warm(cache) and time.monotonic() < deadline:
        time.sleep(1)
    lines, rc = _uci(cache, script)
    text = [x for _, x in lines]
    assert rc == 0 and any(x.startswith("bestmove") for x in text)
    assert not any("compiling the search kernels" in x for x in text), text


def cachestamp_is_warm(cache: str) -> bool:
    """is_warm as a process with NUMBA_CACHE_DIR=cache sees it."""
    code = "from tabula.engine.native import cachestamp; import sys; sys.exit(0 if cachestamp.is_warm('chess') else 1)"
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, "NUMBA_CACHE_DIR": cache}).returncode == 0
