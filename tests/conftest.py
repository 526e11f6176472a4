"""Shared fixtures: small ONNX nets built at test time (no third-party nets in the repo)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The compiled search from the first move on, in this process and in the engines the tests
# start: tests of the compile-apart start set it back themselves (tests/test_compile_ahead.py).
os.environ["TABULA_COMPILE_APART"] = "0"

from netfactory import CACHE_ENV, make_lc0_net  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Keep the toy nets between runs in pytest's cache folder (tests/netfactory.py says how)."""
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    if cache is not None and CACHE_ENV not in os.environ:
        os.environ[CACHE_ENV] = str(cache.mkdir("tabula-nets"))


@pytest.fixture(scope="session")
def uniform_chess_net(tmp_path_factory) -> Path:
    """lc0-signature net with a uniform policy and a constant even WDL."""
    return make_lc0_net(tmp_path_factory.mktemp("nets") / "uniform.onnx", scale=0.0)


@pytest.fixture(scope="session")
def random_chess_net(tmp_path_factory) -> Path:
    """lc0-signature net with small random weights (varied priors and values), our metadata."""
    return make_lc0_net(tmp_path_factory.mktemp("nets") / "random.onnx", scale=0.02, seed=1,
                        metadata={"tabula.game": "chess", "tabula.codec": "lc0-112",
                                  "tabula.value": "wdl"})
