"""The evaluator's GPU batch padding, exercised on the CPU provider by switching it on."""

from __future__ import annotations

import numpy as np
import pytest

from engine.evaluator import OnnxEvaluator, batch_buckets
from tests.netfactory import make_lc0_net


def test_buckets_are_powers_of_two_then_the_cap() -> None:
    assert batch_buckets(256) == [8, 16, 32, 64, 128, 256]
    assert batch_buckets(100) == [8, 16, 32, 64, 100]
    assert batch_buckets(8) == [8]
    assert batch_buckets(4) == [4]


def test_padding_sends_a_bucket_and_returns_only_the_asked_rows(tmp_path) -> None:
    ev = OnnxEvaluator(make_lc0_net(tmp_path / "n.onnx", scale=0.3), backend="cpu", threads=1, max_batch=64)
    try:
        assert not ev.padded and ev.padded_size(5, 64) == 5
        batch = ev.new_batch(64)
        rng = np.random.default_rng(1)
        for buf in batch.inputs.values():
            buf[:] = rng.random(buf.shape) > 0.5
        plain = ev.run(batch, 5)
        ev.padded, ev.buckets = True, batch_buckets(64)
        assert [ev.padded_size(n, 64) for n in (1, 8, 9, 33, 64)] == [8, 8, 16, 64, 64]
        assert ev.padded_size(20, 24) == 24  # never past the batch's own capacity
        padded = ev.run(batch, 5)
        for name, out in plain.items():
            assert padded[name].shape == out.shape
            np.testing.assert_allclose(padded[name], out, rtol=1e-5, atol=1e-6)
        ev.warmup()  # every bucket runs once without error
    finally:
        ev.close()


def test_backend_options_parse_and_reach_only_gpu_providers() -> None:
    from engine.evaluator import NetworkLoadError, parse_backend_options, with_options

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
    from engine.controller import Engine

    eng = Engine("chess")
    eng.set_option("WeightsFile", str(make_lc0_net(tmp_path / "n.onnx")))
    eng.set_option("Threads", "1")
    eng.set_option("BackendOptions", "fp16")
    with pytest.raises(Exception, match="not key=value"):
        eng.ensure_ready()
    eng.set_option("BackendOptions", "")
    assert eng.ensure_ready()
