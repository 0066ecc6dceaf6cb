"""A tiny flows directory with the hook files a test gives, and an app on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from quart import Quart

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter

FLOW = "steps:\n  hello:\n    say: 您好。\n    hangup: true\n"


def write_flows(directory: Path, files: dict[str, str]) -> Path:
    """``directory`` with one small flow, ``hello``, and ``files`` (relative path → text,
    dedented) beside it, such as ``hooks/ivr.yaml`` or ``data/parcels.csv``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hello.yaml").write_text(FLOW, encoding="utf-8")
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return directory


def hello_app(tmp_path: Path, segmenter: Segmenter, files: dict[str, str], **settings: object) -> Quart:
    """The service on a flows directory of ``files`` (see :func:`write_flows`)."""
    flows = write_flows(tmp_path / "flows", files)
    config = Settings(data_dir=tmp_path / "var", flows_dir=flows, default_flow="hello", **settings)  # type: ignore[arg-type]
    return create_app(config, pbx=LogPBX(), segmenter=segmenter)
