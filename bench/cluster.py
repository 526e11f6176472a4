"""Ray, for the work that leaves one machine (``tabula match --ray``, the distillers' ``--ray``).

Ray is an optional extra: :func:`require_ray` says how to install it when it is missing, and
:func:`connected` joins a cluster (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``) or, without an
address, starts a local Ray for the run and stops it afterwards.

>>> with connected(None, num_cpus=2) as ray:   # doctest: +SKIP
...     ray.cluster_resources()["CPU"]
2.0
"""

from __future__ import annotations

import socket
from contextlib import contextmanager
from types import ModuleType
from typing import Iterator

INSTALL_HINT = "--ray needs Ray, which is not installed: pip install -e '.[ray]' (or pip install 'ray>=2.9')"


class ClusterError(RuntimeError):
    """Ray is missing, or the cluster cannot be reached."""


def require_ray() -> ModuleType:
    """The ``ray`` module, or :class:`ClusterError` with the install command."""
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


@contextmanager
def connected(address: str | None, *, num_cpus: int | None = None) -> Iterator[ModuleType]:
    """Ray, connected for the ``with`` block. Blocks while Ray starts or connects.

    ``address`` None or empty: a local Ray of ``num_cpus`` worker slots, started now and shut
    down at the end. Otherwise the cluster at that address (``auto`` finds the one this machine
    belongs to). A connection that already exists (tests, a caller's own ``ray.init``) is used
    as it is and left open.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    try:
        if address:
            ray.init(address=address, logging_level="warning")
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="warning")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address or 'a new local Ray'}: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def cpu_slots(ray: ModuleType) -> int:
    """How many one-CPU tasks the cluster runs at once (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def node_label() -> str:
    """This machine as an error message names it: host name and Ray's address for it."""
    host = socket.gethostname()
    try:
        import ray

        return f"{host} ({ray.util.get_node_ip_address()})"
    except Exception:  # noqa: BLE001 - outside a Ray worker the host name is enough
        return host
