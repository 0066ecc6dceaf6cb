"""``/cti/route`` through the app: always a bare number, the default when in doubt.

The time rules are tested for fixed moments in tests/hooks/test_routing.py; these
requests use rules that do not depend on the time of day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.errors import FlowValidationError
from bot.text.segmenter import Segmenter
from tests.hooks.flows import hello_app

CONTENT_TYPE = "text/plain; charset=utf-8"
RULES = """
    default: 1000
    rules:
      - name: vip
        callers: [13800138000]
        to: 8001
      - name: shanghai
        prefixes: ["021"]
        to: 8102
"""


async def route(client: QuartClient, query: str) -> str:
    response = await client.get(f"/cti/route?{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    return await response.get_data(as_text=True)


async def test_the_sample_rules_send_a_vip_to_their_desk(client: QuartClient) -> None:
    assert await route(client, "caller=13800138000") == "8001"  # the first rule: at any time


@pytest.fixture
async def rules_client(tmp_path: Path, segmenter: Segmenter) -> AsyncIterator[QuartClient]:
    async with hello_app(tmp_path, segmenter, {"hooks/routing.yaml": RULES}).test_app() as app:
        yield app.test_client()


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("caller=13800138000", "8001"),
        ("caller=%2B86%20138%200013%208000", "8001"),
        ("caller=02168880000", "8102"),
        ("caller=13700000000", "1000"),
        ("caller=", "1000"),
        ("", "1000"),
        ("caller=anonymous", "1000"),
        ("caller=%FF%FE", "1000"),
        ("caller=" + "1" * 5000, "1000"),
    ],
    ids=["vip", "vip-international", "prefix", "no-rule", "empty", "missing", "odd", "unreadable", "huge"],
)
async def test_every_request_gets_a_number(rules_client: QuartClient, query: str, target: str) -> None:
    assert await route(rules_client, query) == target


async def test_a_post_form_is_read_too(rules_client: QuartClient) -> None:
    response = await rules_client.post(
        "/cti/route", data="caller=13800138000", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert await response.get_data(as_text=True) == "8001"


async def test_without_routing_yaml_the_setting_is_the_answer(tmp_path: Path, segmenter: Segmenter) -> None:
    async with hello_app(tmp_path, segmenter, {}, route_default="6000").test_app() as app:
        assert await route(app.test_client(), "caller=13800138000") == "6000"


def test_a_bad_routing_yaml_stops_the_service(tmp_path: Path, segmenter: Segmenter) -> None:
    with pytest.raises(FlowValidationError, match=r"routing\.yaml:2:\d+: .*'80o1' is not an extension"):
        hello_app(tmp_path, segmenter, {"hooks/routing.yaml": "rules:\n  - {to: 80o1, prefixes: ['0']}\n"})
