"""``/cti/ivr`` through the app: every outcome is 200 with speakable text and the exact header.

Queries that ask a business API ask a real HTTP server on loopback
(:class:`~tests.loopback.LoopbackServer`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.errors import FlowValidationError
from bot.hooks.ivr import NOT_CONFIGURED, speakable
from bot.hooks.ivr_file import DEFAULT_UNKNOWN
from bot.text.segmenter import Segmenter
from tests.conftest import FLOWS_DIR
from tests.hooks.flows import hello_app
from tests.loopback import LoopbackServer, unused_port

CONTENT_TYPE = "text/html;charset=UTF-8"
FOUND = "您的申通快递包裹目前在上海浦东转运中心，状态：运输中。"
NOT_FOUND = "没有查到单号为七七三零，幺二三，四五六，七八九的快递，请核对后重新输入。"
INVALID = "快递单号是十到十五位数字，请重新输入。"


@pytest.fixture
async def client(tmp_path: Path, segmenter: Segmenter) -> AsyncIterator[QuartClient]:
    """The sample ivr.yaml and its table beside one small flow (faster to start than the samples)."""
    files = {
        name: (FLOWS_DIR / name).read_text(encoding="utf-8")
        for name in ("hooks/ivr.yaml", "data/parcels.csv")
    }
    async with hello_app(tmp_path, segmenter, files).test_app() as app:
        yield app.test_client()


async def ask(client: QuartClient, query: str) -> str:
    response = await client.get(f"/cti/ivr?{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    return await response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("in1=773012345678901&opt=kuaidi&caller=808&callee=1000&id=63c972e1@127.0.0.1:508", FOUND),
        ("opt=kuaidi&in1=773012345678901%23", FOUND),  # the caller's closing #
        ("opt=kuaidi&in1=7730123456789", NOT_FOUND),
        ("opt=kuaidi&in1=123", INVALID),
        ("opt=kuaidi&in1=77301234567890a", INVALID),
        ("opt=kuaidi&in1=", INVALID),
        ("opt=kuaidi", INVALID),
        ("opt=hours&in1=9", "我们的人工服务时间是周一至周五上午八点半到下午六点，节假日除外。"),
        ("opt=nosuch&in1=9", DEFAULT_UNKNOWN),
        ("in1=9", DEFAULT_UNKNOWN),
        ("", DEFAULT_UNKNOWN),
        ("opt=kuaidi&in1=%FF%FE", DEFAULT_UNKNOWN),  # unreadable bytes: as if nothing was sent
    ],
    ids=[
        "found",
        "closing-hash",
        "not-found",
        "too-short",
        "not-digits",
        "empty-key",
        "missing-key",
        "no-keys-needed",
        "unknown-opt",
        "no-opt",
        "nothing",
        "unreadable",
    ],
)
async def test_every_outcome_is_speakable_text(client: QuartClient, query: str, answer: str) -> None:
    assert await ask(client, query) == answer


async def test_a_post_form_is_read_too(client: QuartClient) -> None:
    response = await client.post(
        "/cti/ivr?opt=kuaidi",
        data="in1=773012345678901&caller=808",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert await response.get_data(as_text=True) == FOUND


async def test_head_runs_no_query(client: QuartClient) -> None:
    response = await client.head("/cti/ivr?opt=kuaidi&in1=773012345678901")
    assert response.status_code == 200
    assert await response.get_data() == b""


async def test_the_log_masks_the_keys(client: QuartClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.cti.ivr"):
        await ask(client, "opt=kuaidi&in1=773012345678901&id=call-7")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.cti.ivr" and r.levelno == 20]
    assert line.startswith("ivr kuaidi: answered in ")
    assert "call call-7" in line
    assert "in1=773*********901" in line
    assert "773012345678901" not in line


def test_answers_lose_tags_and_line_breaks() -> None:
    assert speakable(" <b>您好</b>，\n\t<br/>再见 ") == "您好， 再见"
    assert len(speakable("长" * 1000)) == 300


async def test_without_ivr_yaml_every_query_apologizes(tmp_path: Path, segmenter: Segmenter) -> None:
    async with hello_app(tmp_path, segmenter, {}).test_app() as app:
        assert await ask(app.test_client(), "opt=kuaidi&in1=1") == NOT_CONFIGURED


def test_a_bad_ivr_yaml_stops_the_service(tmp_path: Path, segmenter: Segmenter) -> None:
    with pytest.raises(FlowValidationError, match=r"ivr\.yaml:2:\d+: .*unknown key 'kuaidi'"):
        hello_app(tmp_path, segmenter, {"hooks/ivr.yaml": "queries: {}\nkuaidi: {}\n"})


# --- queries that ask the business API ------------------------------------------------

BUSINESS_QUERIES = """
    texts:
      unavailable: 系统忙，请稍后再拨。
    queries:
      balance:
        keys:
          in1: {{pattern: '[0-9]{{6}}'}}
        http:
          url: {base}/echo/cards/{{{{in1}}}}
          query: {{caller: '{{{{caller}}}}'}}
          save: {{amount: data.amount}}
        say_as: {{amount: amount}}
        answer: 尾号{{{{in1}}}}的卡余额是{{{{amount}}}}。
      owner:
        http: {{url: '{base}/echo', save: {{owner: data.owner}}}}
        found: owner != null
        answer: 持卡人是{{{{owner}}}}。
      missing:
        http: {{url: '{base}/missing'}}
        answer: 不会说到这里。
        texts: {{not_found: 没有这张卡。}}
      down:
        http: {{url: '{base}/flaky/503/9', retries: 1}}
        answer: 不会说到这里。
      slow:
        http: {{url: '{base}/slow', timeout: 0.2}}
        answer: 不会说到这里。
      html:
        http: {{url: '{base}/text'}}
        answer: 不会说到这里。
      refused:
        http: {{url: 'http://127.0.0.1:{closed_port}/'}}
        answer: 不会说到这里。
"""


@pytest.fixture
async def remote() -> AsyncIterator[LoopbackServer]:
    server = LoopbackServer()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def business_client(
    tmp_path: Path, segmenter: Segmenter, remote: LoopbackServer
) -> AsyncIterator[QuartClient]:
    text = BUSINESS_QUERIES.format(base=remote.base_url, closed_port=unused_port())
    async with hello_app(tmp_path, segmenter, {"hooks/ivr.yaml": text}).test_app() as app:
        yield app.test_client()


async def test_an_http_query_answers_from_the_business_api(
    business_client: QuartClient, remote: LoopbackServer
) -> None:
    answer = await ask(business_client, f"opt=balance&in1=123456&caller={quote('+86 138')}")
    assert answer == "尾号123456的卡余额是十二元五角。"
    assert remote.hits["/echo/cards/123456"] == 1


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("opt=balance&in1=12345", "抱歉，您的输入有误，请核对后重新输入。"),
        ("opt=owner", "抱歉，没有查到相关信息，请核对后再试。"),  # `found:` does not hold
        ("opt=missing", "没有这张卡。"),  # a 404
        ("opt=down", "系统忙，请稍后再拨。"),
        ("opt=slow", "系统忙，请稍后再拨。"),
        ("opt=html", "系统忙，请稍后再拨。"),
        ("opt=refused", "系统忙，请稍后再拨。"),
    ],
    ids=["invalid", "not-found-by-expression", "not-found-404", "5xx", "timeout", "not-json", "refused"],
)
async def test_business_failures_have_words(business_client: QuartClient, query: str, answer: str) -> None:
    assert await ask(business_client, query) == answer


async def test_a_failing_backend_is_asked_no_more_than_the_query_allows(
    business_client: QuartClient, remote: LoopbackServer
) -> None:
    await ask(business_client, "opt=down")
    assert remote.hits["/flaky/503/9"] == 2
