"""A small Ray cluster of its own for tests: a head and more nodes on this machine, started with
``ray start`` in a private temporary folder and on free ports, and stopped by killing exactly
the processes it started (``ray stop`` would stop every Ray cluster of this user here).

>>> with RayCluster(nodes=2) as c:          # doctest: +SKIP
...     run_match_ray(cfg, c.address)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: what every node gets: one CPU, a small object store, no dashboard, no usage report
NODE_ARGS = ["--num-cpus=1", "--object-store-memory=100000000", "--disable-usage-stats"]
ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def free_ports(n: int) -> list[int]:
    """``n`` TCP ports free right now (held open together so they differ)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _parents() -> dict[int, int]:
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                out[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return out


class RayCluster:
    """Head plus ``nodes - 1`` more nodes, each its own raylet on 127.0.0.1; ``address`` to connect."""

    def __init__(self, nodes: int = 2) -> None:
        self.n_nodes = nodes
        self.tmp = Path(tempfile.mkdtemp(prefix="tray", dir="/tmp"))  # short: Ray's socket paths
        self.ray = str(Path(sys.executable).with_name("ray"))
        self.env = {**os.environ, **ENV}
        self.address = ""
        self.node_roots: list[int] = []  #: each node's raylet pid

    def _start(self, head: bool) -> None:
        p = free_ports(8)
        args = [self.ray, "start", "--node-ip-address=127.0.0.1", *NODE_ARGS, f"--node-manager-port={p[0]}",
                f"--object-manager-port={p[1]}", f"--dashboard-agent-listen-port={p[2]}",
                f"--dashboard-agent-grpc-port={p[3]}", f"--runtime-env-agent-port={p[4]}",
                f"--metrics-export-port={p[5]}", f"--min-worker-port={20000 + p[6] % 20000}",
                f"--max-worker-port={20000 + p[6] % 20000 + 40}"]
        if head:
            args += ["--head", f"--port={p[7]}", "--include-dashboard=false", f"--temp-dir={self.tmp}"]
            self.address = f"127.0.0.1:{p[7]}"
        else:
            args += [f"--address={self.address}"]
        before = set(self._raylets())
        r = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=180)
        if r.returncode:
            raise RuntimeError(f"ray start failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        new = set(self._raylets()) - before
        self.node_roots.extend(sorted(new))

    def _raylets(self) -> list[int]:
        return [pid for pid in _parents() if "raylet" in _cmdline(pid).split(" ")[0] and str(self.tmp) in _cmdline(pid)]

    def __enter__(self) -> "RayCluster":
        try:
            self._start(head=True)
            for _ in range(self.n_nodes - 1):
                self._start(head=False)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def processes(self) -> set[int]:
        """Every process of this cluster: those naming its folder, and all their descendants."""
        parents = _parents()
        mine = {pid for pid in parents if str(self.tmp) in _cmdline(pid)} - {os.getpid()}
        grew = True
        while grew:
            kids = {pid for pid, pp in parents.items() if pp in mine and pid not in mine and pid != os.getpid()}
            grew = bool(kids)
            mine |= kids
        return mine

    def workers(self) -> list[int]:
        """Pids of the Ray worker processes (children of the raylets running Python tasks)."""
        parents = _parents()
        return [pid for pid, pp in parents.items() if pp in self.node_roots and "ray::" in _cmdline(pid)]

    def stop(self) -> None:
        """Kill this cluster's processes (TERM, then KILL after 5 s) and remove its folder."""
        pids = self.processes()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 5
            while time.time() < deadline and any(Path(f"/proc/{p}").exists() and not _zombie(p) for p in pids):
                time.sleep(0.1)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
