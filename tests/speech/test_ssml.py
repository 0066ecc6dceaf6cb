"""ssml_body: escaped text, long pauses as <break>, always well-formed XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.speech.normalize import normalize_for_speech
from bot.speech.ssml import LONG_PAUSE, LONG_PAUSE_MS, ssml_body

BREAK = f'<break time="{LONG_PAUSE_MS}ms"/>'


def _parse(body: str) -> ET.Element:
    """The body inside a <speak> element, parsed by the standard library's XML parser."""
    return ET.fromstring(f"<speak>{body}</speak>")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("您好，请问有什么可以帮您？", "您好，请问有什么可以帮您？"),
        ("幺三八，幺二三四，五六七八", "幺三八，幺二三四，五六七八"),
        (f"请稍候{LONG_PAUSE}正在为您查询", f"请稍候{BREAK}正在为您查询"),
        (f"好的{LONG_PAUSE}", f"好的{BREAK}"),
        ("a<b & c>d", "a&lt;b &amp; c&gt;d"),
        ("]]> <!-- --> <break/>", "]]&gt; &lt;!-- --&gt; &lt;break/&gt;"),
        ("他说\"好\"，别'急'", "他说&quot;好&quot;，别&apos;急&apos;"),
        ("响\x07铃\x00", "响铃"),
        ("", ""),
    ],
    ids=[
        "plain",
        "phone-groups",
        "long-pause",
        "trailing-pause",
        "escaped",
        "markup",
        "quotes",
        "controls",
        "empty",
    ],
)
def test_ssml_body(text: str, expected: str) -> None:
    assert ssml_body(text) == expected


def test_long_pause_reads_as_one_break_element() -> None:
    root = _parse(ssml_body(f"请稍候{LONG_PAUSE}正在为您查询{LONG_PAUSE}"))

    assert root.text == "请稍候"
    assert [(e.tag, e.get("time"), e.tail) for e in root] == [
        ("break", f"{LONG_PAUSE_MS}ms", "正在为您查询"),
        ("break", f"{LONG_PAUSE_MS}ms", None),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "AT&T 客服<转人工>",
        "价格<100元&折扣>5折",
        "]]> <!-- -->好的",
        "\ud800坏\ufffe字符\x1b",
        "请稍候...好的",
    ],
    ids=["ampersand", "angle-brackets", "markup-lookalikes", "not-xml-characters", "author-ellipsis"],
)
def test_any_normalised_text_makes_well_formed_xml(text: str) -> None:
    body = ssml_body(normalize_for_speech(text))

    root = _parse(body)
    spoken = "".join(root.itertext())
    assert "<" not in body.replace(BREAK, "")
    assert spoken.strip()


def test_normaliser_marks_an_ellipsis_as_the_long_pause() -> None:
    assert ssml_body(normalize_for_speech("请稍候...好的")) == f"请稍候{BREAK}好的"
