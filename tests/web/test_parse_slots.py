"""``POST /model/parse`` with slots: the optional ``today`` and the values' formats."""

from __future__ import annotations

import pytest
from quart.typing import TestClientProtocol as QuartClient


async def test_today_resolves_relative_dates(client: QuartClient) -> None:
    payload = {"text": "下周三下午三点半再打吧", "flow": "survey", "today": "2026-11-21"}
    body = await (await client.post("/model/parse", json=payload)).get_json()
    assert body["entities"] == [
        {"entity": "callback_date", "value": "2026-11-25", "start": 0, "end": 3, "text": "下周三"},
        {"entity": "callback_time", "value": "15:30", "start": 3, "end": 8, "text": "下午三点半"},
    ]


async def test_another_today_gives_another_date(client: QuartClient) -> None:
    payload = {"text": "明天上午十点", "flow": "survey", "today": "2026-12-31"}
    body = await (await client.post("/model/parse", json=payload)).get_json()
    assert [e["value"] for e in body["entities"]] == ["2027-01-01", "10:00"]


async def test_an_unsure_value_says_so_with_its_other_reading(client: QuartClient) -> None:
    payload = {"text": "两点吧", "flow": "survey", "today": "2026-11-21"}
    body = await (await client.post("/model/parse", json=payload)).get_json()
    assert body["entities"] == [
        {
            "entity": "callback_time",
            "value": "14:00",
            "start": 0,
            "end": 2,
            "text": "两点",
            "unsure": True,
            "alternatives": ["02:00"],
        }
    ]


@pytest.mark.parametrize(
    ("today", "reason"),
    [
        ("2026-02-30", "not a calendar date"),
        ("2026/11/21", "today"),
        ("21.11.2026", "today"),
        ("2026-11-21T10:00", "today"),
        (20261121, "today"),
        ("", "today"),
    ],
    ids=["impossible-day", "slashes", "dotted", "with-time", "number", "empty"],
)
async def test_a_bad_today_is_a_400_with_a_reason(client: QuartClient, today: object, reason: str) -> None:
    response = await client.post("/model/parse", json={"text": "明天", "flow": "survey", "today": today})
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["code"] == "bad_request"
    assert reason in error["message"]
