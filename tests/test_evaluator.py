"""The evaluator's GPU batch padding, exercised on the CPU provider by switching it on."""

from __future__ import annotations

import numpy as np
import pytest

from tabula.engine.evaluator import OnnxEvaluator
from tests.netfactory import make_lc0_net


def test_gpu_padding_runs_one_fixed_shape_and_returns_only_the_asked_rows(tmp_path) -> None:
    ev = OnnxEvaluator(make_lc0_net(tmp_path / "n.onnx", scale=0.3), backend="cpu", threads=1, max_batch=16)
    try:
        assert not ev.padded  # the CPU runs exactly the rows asked for
        batch = ev.new_batch(16)
        rng = np.random.default_rng(1)
        for buf in batch.inputs.values():
            buf[:] = rng.random(buf.shape) > 0.5
        plain = ev.run(batch, 5)
        shapes: list[int] = []
        real_run = ev.session.run
        ev.session.run = lambda names, feeds: shapes.append(len(next(iter(feeds.values())))) or real_run(names, feeds)
        ev.padded = True  # what a GPU provider switches on
        padded = ev.run(batch, 5)
        small = ev.new_batch(3)  # a smaller batch (GTP's one-position calls) goes through the stage
        for name, buf in small.inputs.items():
            buf[:] = batch.inputs[name][:3]
        staged = ev.run(small, 3)
        ev.warmup()
        assert shapes == [16, 16, 16]  # one shape, whatever the batch
        for name, out in plain.items():
            assert padded[name].shape == out.shape and staged[name].shape == (3, *out.shape[1:])
            np.testing.assert_allclose(padded[name], out, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(staged[name], out[:3], rtol=1e-5, atol=1e-6)
    finally:
        ev.close()


def test_backend_options_parse_and_reach_only_gpu_providers() -> None:
    from tabula.engine.evaluator import NetworkLoadError, parse_backend_options, with_options

    assert parse_backend_options("") == {}
    assert parse_backend_options(" trt_fp16_enable=True ,device_id=0,") == {"trt_fp16_enable": "True",
                                                                          "device_id": "0"}
    for bad in ("trt_fp16_enable", "=1", "device_id="):
        with pytest.raises(NetworkLoadError, match="key=value"):
            parse_backend_options(bad)
    cuda = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert with_options(cuda, {"device_id": "0"}) == [("CUDAExecutionProvider", {"device_id": "0"}),
                                                      "CPUExecutionProvider"]
    assert with_options(["CPUExecutionProvider"], {"device_id": "0"}) == ["CPUExecutionProvider"]


def test_a_bad_backend_option_is_a_clear_error_and_the_engine_stays_up(tmp_path) -> None:
    from tabula.engine.controller import Engine

    eng = Engine("chess")
    eng.set_option("WeightsFile", str(make_lc0_net(tmp_path / "n.onnx")))
    eng.set_option("Threads", "1")
    eng.set_option("BackendOptions", "fp16")
    with pytest.raises(Exception, match="not key=value"):
        eng.ensure_ready()
    eng.set_option("BackendOptions", "")
    assert eng.ensure_ready()


def test_every_evaluator_the_searches_meet_is_an_evaluator(tmp_path) -> None:
    """The ONNX and trivial evaluators and the bench's timing wrapper state every member of
    :class:`~tabula.engine.evaluator_api.Evaluator` (the wrapper forwards nothing implicitly)."""
    from tabula.bench.nps import _TimedEvaluator
    from tabula.engine.evaluator import Evaluator, TrivialEvaluator

    ev = OnnxEvaluator(make_lc0_net(tmp_path / "n.onnx", scale=0.0), backend="cpu", threads=1, max_batch=4)
    trivial = TrivialEvaluator(ev, max_batch=4)
    timed = _TimedEvaluator(trivial)
    try:
        assert all(isinstance(e, Evaluator) for e in (ev, trivial, timed))
        assert not hasattr(_TimedEvaluator, "__getattr__")
        assert timed.codec is ev.codec and timed.max_batch == 4 and timed.describe() == trivial.describe()
        batch = timed.new_batch(2)
        assert timed.run(batch, 2).keys() == timed.submit(batch, 2).result().keys()
        # both are counted (search threads call run); search_position reads the counters after the root's run
        assert timed.counters()[0] == 2
    finally:
        timed.close()
        ev.close()
