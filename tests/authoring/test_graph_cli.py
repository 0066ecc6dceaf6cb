"""`voicebot flows graph`: only edges a call can take, and no PNG of boxes when no font
can draw Chinese (fontconfig really run, pointed at a configuration without fonts)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.authoring.graph import CJK_FONT_FIX, cjk_fonts
from bot.cli import main
from tests.conftest import FLOWS_DIR, ROOT

needs_graphviz = pytest.mark.skipif(
    shutil.which("dot") is None or shutil.which("fc-list") is None,
    reason="graphviz and fontconfig (make test)",
)

EMPTY_FONTCONFIG = (
    '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n'
)

ENGLISH_FLOW = """\
title: hello
steps:
  welcome:
    say: Hello, this is the hotline.
    hangup: true
"""


def graph(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["flows", "graph", "--flows-dir", str(FLOWS_DIR), *arguments])
    return result.exit_code, result.stdout


def test_a_collect_step_with_its_own_fail_draws_no_no_match_edge() -> None:
    status, dot = graph("yibao", "--format", "dot")
    assert status == 0
    edges = [line.strip() for line in dot.splitlines() if " -> " in line]
    assert '"query_progress" -> "offer_agent" [label="fail"];' in edges
    assert not [e for e in edges if e.startswith('"query_progress" ->') and "no match" in e], edges
    assert not [e for e in edges if e.startswith('"card_loss" ->') and "no match" in e], edges
    # An ask step without its own ladder still climbs the default one to the knowledge base.
    assert '"menu" -> "knowledge" [label="no match", style=dashed];' in edges


def run_graph_without_fonts(tmp_path: Path, flow: str, fmt: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "fonts.conf"
    config.write_text(EMPTY_FONTCONFIG, encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "PYTHONIOENCODING": "utf-8"}
    script = "import sys; from bot.cli import main; sys.exit(main())"
    return subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "flows",
            "graph",
            flow,
            "--format",
            fmt,
            "-o",
            str(tmp_path / f"out.{fmt}"),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@needs_graphviz
def test_a_png_without_a_cjk_font_fails_with_the_fix(tmp_path: Path) -> None:
    result = run_graph_without_fonts(tmp_path, str(FLOWS_DIR / "yibao.yaml"), "png")
    assert result.returncode == 1, result.stderr
    assert f"how to fix: {CJK_FONT_FIX}" in result.stderr
    assert "install fonts-wqy-zenhei (Debian) or another CJK font" in result.stderr
    assert not (tmp_path / "out.png").exists()


@needs_graphviz
def test_svg_and_text_without_chinese_need_no_cjk_font(tmp_path: Path) -> None:
    svg = run_graph_without_fonts(tmp_path, str(FLOWS_DIR / "yibao.yaml"), "svg")
    assert svg.returncode == 0, svg.stderr
    assert "医保服务热线" in (tmp_path / "out.svg").read_text(encoding="utf-8")
    english = tmp_path / "hello.yaml"
    english.write_text(ENGLISH_FLOW, encoding="utf-8")
    png = run_graph_without_fonts(tmp_path, str(english), "png")
    assert png.returncode == 0, png.stderr
    assert (tmp_path / "out.png").read_bytes().startswith(b"\x89PNG")


@needs_graphviz
def test_the_installed_cjk_font_is_found_and_used() -> None:
    if not cjk_fonts():
        pytest.skip("no CJK font installed (make test installs fonts-wqy-zenhei)")
    result = CliRunner().invoke(main, ["flows", "graph", str(FLOWS_DIR / "yibao.yaml"), "--format", "png"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"\x89PNG")
