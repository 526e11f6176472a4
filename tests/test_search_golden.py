"""Golden searches (tests/search_golden.py): the reference search still gives its recorded numbers."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("onnx")

from search_golden import GOLDEN, SCENARIOS, build_nets, compare, run_scenario  # noqa: E402

WANT = json.loads(GOLDEN.read_text())


@pytest.fixture(scope="module")
def golden_nets(tmp_path_factory):
    return build_nets(tmp_path_factory.mktemp("golden_nets"))


def test_every_scenario_is_recorded():
    assert {sc.name for sc in SCENARIOS} == set(WANT)


@pytest.mark.slow
@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda sc: sc.name)
def test_reference_search_reproduces_the_golden_file(golden_nets, sc):
    errs = compare(run_scenario(sc, golden_nets[sc.net]), WANT[sc.name])
    assert not errs, "\n".join(errs)
