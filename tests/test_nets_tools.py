"""`tabula nets info` / `quantize` on a toy lc0-signature net."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from netfactory import make_lc0_net
from tabula.nets.tools import compare, net_info, quantize
from tabula.protocols.cli import main


def test_info_reports_codec_and_metadata(tmp_path):
    path = make_lc0_net(tmp_path / "n.onnx", scale=0.01, metadata={"tabula.game": "chess",
                                                                  "tabula.codec": "lc0-112"})
    info = net_info(path)
    assert (info.game, info.codec, info.precision) == ("chess", "lc0-112", "float")
    assert info.parameters == 112 * 64 * 1858 + 1858 + 112 * 64 * 3 + 3
    result = CliRunner().invoke(main, ["nets", "info", str(path)])
    assert result.exit_code == 0 and "lc0-112" in result.output


def test_info_on_a_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.onnx"
    bad.write_bytes(b"nope")
    result = CliRunner().invoke(main, ["nets", "info", str(bad)])
    assert result.exit_code != 0 and "cannot load" in result.output


@pytest.mark.slow  # end to end: converts a 53 MB net, then plays both over 40 positions
def test_fp16_keeps_metadata_and_agrees(tmp_path):
    src = make_lc0_net(tmp_path / "n.onnx", scale=0.05, metadata={"tabula.game": "chess"})
    dst = quantize(src, tmp_path / "n16.onnx", "fp16")
    info = net_info(dst)
    assert info.metadata["tabula.game"] == "chess" and info.metadata["tabula.precision"] == "fp16"
    assert info.precision == "float16"
    rep = compare(src, dst, positions=40, seconds=0.2)
    assert rep.dst_bytes < rep.src_bytes * 0.6
    assert rep.agreement >= 0.9
