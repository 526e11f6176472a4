"""The bundled default nets: present, small, described by a model card, and playing through each front end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import onnxruntime as ort
import pytest

from tabula.nets import DEFAULT_FILES, HERE, default_net

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {  # net → (tabula.game, tabula.codec, board size)
    "chess": ("chess", "lc0-112", 8),
    "shogi": ("shogi", "dlshogi", 9),
    "go9": ("go", "go", 9),
    "go19": ("go", "go", 19),
}


@pytest.mark.parametrize("name", sorted(DEFAULT_FILES))
def test_bundled_net_is_shipped_small_and_carded(name: str) -> None:
    path = default_net(name)
    assert path is not None, f"{DEFAULT_FILES[name]} is missing from nets/"
    assert Path(path).stat().st_size <= 12 * 2 ** 20
    card = HERE / DEFAULT_FILES[name].replace(".onnx", ".md")
    assert card.is_file() and "## Strength" in card.read_text()
    meta = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    game, codec, board = EXPECTED[name]
    assert meta["tabula.game"] == game and meta["tabula.codec"] == codec
    assert str(board) in meta.get("tabula.board_size", str(board)) and meta.get("tabula.provenance")


def _run(args: list[str], script: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "tabula.protocols.cli", *args], input=script, capture_output=True,
                          text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow  # end to end: starts `tabula` processes that load the bundled nets and play
def test_gtp_plays_both_board_sizes_with_no_net_given() -> None:
    out = _run(["gtp", "--visits", "16", "--threads", "1"],
               "1 boardsize 9\n2 genmove b\n3 boardsize 19\n4 clear_board\n5 genmove b\n6 quit\n")
    replies = out.split("\n\n")
    assert re.fullmatch(r"=2 [A-HJ][1-9]", replies[1]), out
    assert re.fullmatch(r"=5 [A-HJ-T]1?[0-9]", replies[4]), out


@pytest.mark.slow  # end to end: starts `tabula` processes that load the bundled nets and play
def test_uci_and_usi_play_with_no_net_given() -> None:
    uci = _run(["uci", "--threads", "1"], "uci\nisready\nposition startpos\ngo nodes 32\n")
    assert re.search(r"^bestmove [a-h][1-8][a-h][1-8]", uci, re.M), uci
    usi = _run(["usi", "--threads", "1"], "usi\nisready\nusinewgame\nposition startpos\ngo nodes 32\n")
    assert re.search(r"^bestmove [1-9][a-i][1-9][a-i]", usi, re.M), usi
