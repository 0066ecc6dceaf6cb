"""Transfer targets as flows write them, and what an agent's screen gets (GX biz_data)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from bot.errors import FlowValidationError
from bot.language.loader import load_flow
from bot.pbx.base import TransferTarget
from bot.pbx.gx import BIZ_DATA_MAX_CHARS, fit_biz_data
from tests.conftest import FLOWS_DIR


@pytest.mark.parametrize(
    ("text", "kind", "number"),
    [("8001", "agent", "8001"), ("queue:200", "queue", "200"), ("ivr:aa_1001315", "ivr", "aa_1001315")],
)
def test_targets_parse(text: str, kind: str, number: str) -> None:
    target = TransferTarget.parse(text)
    assert (target.kind, target.number, str(target)) == (kind, number, text)


@pytest.mark.parametrize("text", ["", "queue:", "agent 8001", "sip:8001@pbx", "转人工"])
def test_other_text_is_not_a_target(text: str) -> None:
    with pytest.raises(ValueError, match="not a transfer target"):
        TransferTarget.parse(text)


def test_biz_data_fits_the_manuals_limit_on_the_encoded_form() -> None:
    data = {
        "callid": "fd6a66a6-52da-4bcd-ade3-902aecb2a996@192.168.1.82",
        "telnum": "13800138000",
        "grade": "A",
        "summary": "来电13800138000；最后说：" + "我想问一下异地就医备案的事情" * 20,
        "slots": {f"slot{n}": "很长的中文内容" * 10 for n in range(20)},
    }
    fitted = fit_biz_data(data)
    assert len(fitted) <= BIZ_DATA_MAX_CHARS
    decoded = json.loads(unquote(fitted))
    assert decoded["callid"] == data["callid"]
    assert decoded["truncated"] is True
    assert decoded["summary"].startswith("来电13800138000")


def test_small_biz_data_is_left_whole() -> None:
    data = {"callid": "c", "summary": "来电1", "slots": {"phone": "13812345678"}}
    fitted = fit_biz_data(data)
    assert fitted == quote(json.dumps(data, ensure_ascii=False, separators=(",", ":")), safe="")
    assert json.loads(unquote(fitted)) == data


def test_a_flow_with_an_unknown_target_is_refused_with_its_line(tmp_path: Path) -> None:
    source = (FLOWS_DIR / "yibao.yaml").read_text(encoding="utf-8")
    assert 'transfer: "8001"' in source
    broken = tmp_path / "yibao.yaml"
    broken.write_text(source.replace('transfer: "8001"', 'transfer: "sip:8001"'), encoding="utf-8")
    with pytest.raises(FlowValidationError) as error:
        load_flow(broken)
    (problem,) = error.value.problems
    assert problem.line == source.splitlines().index('    transfer: "8001"') + 1
    assert "not a transfer target" in problem.message
