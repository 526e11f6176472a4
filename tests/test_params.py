"""Search parameters: every option-backed default is the one its option declares."""

from __future__ import annotations

import dataclasses

import pytest

from tabula.engine.controller import Engine
from tabula.engine.options import OptionError, Param, find_param
from tabula.engine.search.params import GO_SEARCH_PARAMS, LC0_SEARCH_PARAMS, SEARCH_PARAMS, SearchParams, with_default
from tabula.protocols.gtp import GTP_PARAMS


def test_field_defaults_come_from_the_declarations():
    declared = {p.name: p.default for p in (*SEARCH_PARAMS, *LC0_SEARCH_PARAMS, *GO_SEARCH_PARAMS)}
    backed = [f for f in dataclasses.fields(SearchParams) if "option" in f.metadata]
    assert {f.metadata["option"] for f in backed} >= set(declared) - {"SmartPruning"}
    for f in backed:
        assert f.default == declared[f.metadata["option"]], f.name
    assert SearchParams().net_scores_passes is False  # off unless a front end (GTP) turns it on


def test_from_options_reads_each_declared_option():
    chess = Engine("chess")
    assert SearchParams.from_options(chess.options) == SearchParams()
    chess.set_option("CPuct", "2.5")
    chess.set_option("MaxCollisionVisits", "7")
    chess.set_option("SmartPruning", "false")
    p = SearchParams.from_options(chess.options)
    assert (p.cpuct, p.max_collision_visits, p.smart_pruning) == (2.5, 7, 0.0)
    go = SearchParams.from_options(Engine("go", extra_params=GTP_PARAMS).options)
    assert go.net_scores_passes is True and go.policy_temperature == 1.0  # GTP's declared defaults


def test_with_default_and_find_param():
    p = with_default("MinibatchSize", 8, "Here: 8.")
    assert p.default == 8 and p.help.endswith("Here: 8.")
    assert find_param(SEARCH_PARAMS, "minibatch size").default == 64
    assert Param("X", "check", False, "x.").with_default(True, "on").default is True
    with pytest.raises(OptionError, match="unknown option"):
        find_param(SEARCH_PARAMS, "Nope")
