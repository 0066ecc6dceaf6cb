"""The JSON APIs: /model/parse, /calls, /healthz, /audio, and their one error shape."""

from __future__ import annotations

import datetime as dt
import io
import re
import wave
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.language.loader import load_flows
from bot.text.segmenter import Segmenter
from tests.conftest import CTI


async def error_of(response: object) -> dict[str, object]:
    body = await response.get_json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message"}
    assert body["error"]["status"] == response.status_code  # type: ignore[attr-defined]
    return body["error"]  # type: ignore[no-any-return]


async def test_parse_answers_rasa_shape(client: QuartClient) -> None:
    response = await client.post("/model/parse", json={"text": "我要专人工", "flow": "yibao"})
    assert response.status_code == 200
    body = await response.get_json()
    assert set(body) == {"text", "intent", "intent_ranking", "entities"}
    assert body["text"] == "我要专人工"
    assert body["intent"]["name"] == "transfer_agent"
    assert 0.5 <= body["intent"]["confidence"] <= 1
    assert body["intent_ranking"][0] == body["intent"]
    assert body["entities"] == []


@pytest.mark.parametrize(
    ("text", "flow", "expected"),
    [
        (
            "我的医保卡丢了，手机号幺三八 幺二三四 五六七八",
            "yibao",
            [
                {
                    "entity": "phone",
                    "value": "13812345678",
                    "start": 11,
                    "end": 24,
                    "text": "幺三八 幺二三四 五六七八",
                }
            ],
        ),
        (
            "查一下身份证11010519491231002x的报销",
            "yibao",
            [
                {
                    "entity": "id_card",
                    "value": "11010519491231002X",
                    "start": 6,
                    "end": 24,
                    "text": "11010519491231002x",
                }
            ],
        ),
        (
            "下周三下午三点半再打吧",
            "survey",
            [
                {"entity": "callback_date", "value": "2026-11-25", "start": 0, "end": 3, "text": "下周三"},
                {"entity": "callback_time", "value": "15:30", "start": 3, "end": 8, "text": "下午三点半"},
            ],
        ),
    ],
    ids=["phone", "id-card", "date-and-time"],
)
async def test_parse_returns_slots_as_rasa_entities(
    client: QuartClient, settings: Settings, text: str, flow: str, expected: list[dict[str, object]]
) -> None:
    body = await (await client.post("/model/parse", json={"text": text, "flow": flow})).get_json()
    found = body["entities"]
    if flow == "survey":  # relative dates resolve against today in the configured time zone
        today = settings.today()
        for entity in expected:
            if entity["entity"] == "callback_date":
                entity["value"] = next_wednesday(today).isoformat()
    assert found == expected


def next_wednesday(today: dt.date) -> dt.date:
    """下周三: the Wednesday of the week after this one (weeks start on Monday)."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday + dt.timedelta(days=9)


async def test_parse_uses_the_default_flow_and_reports_no_match(client: QuartClient) -> None:
    body = await (await client.post("/model/parse", json={"text": "今天天气怎么样"})).get_json()
    assert body["intent"]["name"] is None
    assert body["intent"]["confidence"] < 0.5


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"text": "你好", "flow": "nosuch"}, 404, "unknown_flow"),
        ({"flow": "yibao"}, 400, "bad_request"),
        ({"text": 5}, 400, "bad_request"),
        ({"text": "好", "flow": 3}, 400, "bad_request"),
        ({"text": "转" * 600}, 413, "request_rejected"),
        ("not json", 400, "bad_request"),
    ],
    ids=["unknown-flow", "no-text", "text-not-string", "flow-not-string", "too-long", "not-json"],
)
async def test_parse_errors(client: QuartClient, payload: object, status: int, code: str) -> None:
    if isinstance(payload, str):
        response = await client.post("/model/parse", data=payload)
    else:
        response = await client.post("/model/parse", json=payload)
    assert response.status_code == status
    assert (await error_of(response))["code"] == code


async def test_calls_lists_newest_first(cti: CTI, client: QuartClient) -> None:
    for call in ("first", "second", "third"):
        await cti.say(call, "ready2speak")
    body = await (await client.get("/calls?limit=2")).get_json()
    assert [c["callid"] for c in body["calls"]] == ["third", "second"]
    assert body["calls"][0]["turn_count"] == 1


@pytest.mark.parametrize("limit", ["0", "1001", "abc", "-1"], ids=["zero", "too-many", "word", "negative"])
async def test_calls_limit_is_validated(client: QuartClient, limit: str) -> None:
    response = await client.get(f"/calls?limit={limit}")
    assert response.status_code == 400
    assert "limit" in str((await error_of(response))["message"])


async def test_unknown_call_and_unknown_route_are_json_404(client: QuartClient) -> None:
    for path in ("/calls/nobody", "/nothing-here"):
        response = await client.get(path)
        assert response.status_code == 404
        await error_of(response)


async def test_audio_get_head_range_and_missing(cti: CTI, client: QuartClient) -> None:
    path = urlsplit(await cti.say("audio-1", "ready2speak")).path
    full = await client.get(path)
    data = await full.get_data(as_text=False)
    assert full.headers["Content-Length"] == str(len(data))
    assert full.headers["Accept-Ranges"] == "bytes"
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getframerate() == 8000
    head = await client.head(path)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(data))
    part = await client.get(path, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert await part.get_data(as_text=False) == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    for missing in ("/audio/" + "0" * 64 + ".wav", "/audio/..%2F..%2Fetc%2Fpasswd.wav", "/audio/XYZ.wav"):
        assert (await client.get(missing)).status_code == 404


async def test_health_is_ok_once_started(client: QuartClient) -> None:
    body = await (await client.get("/healthz")).get_json()
    assert body["status"] == "ok"
    assert re.fullmatch(r"[0-9a-f]{12}", body["flows"]["yibao"])
    flows = load_flows(Path("flows")).values()
    assert body["prompts_rendered"] == sum(len({p.text for p in f.flow.static_prompts()}) for f in flows)
    assert body["startup_seconds"] > 0


async def test_health_counts_the_event_loops_tasks(client: QuartClient) -> None:
    """The benchmarks' soak watches it for growth (bench/calls_monitor.py)."""
    body = await (await client.get("/healthz")).get_json()
    assert isinstance(body["tasks"], int)
    assert body["tasks"] >= 1  # at least the task serving this request


async def test_health_is_503_before_start(settings: Settings, segmenter: Segmenter) -> None:
    app = create_app(settings, segmenter=segmenter)
    response = await app.test_client().get("/healthz")
    assert response.status_code == 503
    assert (await response.get_json())["status"] == "starting"


async def test_odd_inputs_are_4xx_not_500(client: QuartClient) -> None:
    assert (await client.get("/calls?limit=%C2%B2")).status_code == 400  # ² is a digit to Python
    response = await client.post("/model/parse", data=b"\xff\xfe")
    assert response.status_code == 400
    await error_of(response)


async def test_audio_deleted_under_the_service_is_made_again(
    cti: CTI, client: QuartClient, settings: Settings
) -> None:
    path = urlsplit(await cti.say("gone-1", "ready2speak")).path
    served = await (await client.get(path)).get_data()
    (settings.audio_dir / path.rsplit("/", 1)[1]).unlink()
    again = await client.get(path)  # from its recipe
    assert (again.status_code, await again.get_data()) == (200, served)
    assert (await client.get(f"/audio/{'0' * 64}.wav")).status_code == 404
