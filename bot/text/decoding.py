"""Decoding text bytes that may be UTF-8 or GBK, byte-exact.

The CTI percent-encodes the recognized text as UTF-8, but some deployments still send
GBK, and older CTIs post GBK JSON to the knowledge webhook too. A framework's own
decoding would replace GBK bytes with U+FFFD, so both edges decode here instead.
"""

from __future__ import annotations

import re

from bot.errors import RequestError

_MISREAD_GBK = re.compile("[\u0080-\u07ff]")


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode a parameter's bytes: UTF-8, else GBK; returns (text, encoding).

    Some short GBK byte pairs are valid UTF-8 as well: 喂 (``CE B9``) reads as the
    Greek ι. Mandarin ASR never produces Latin-1-supplement to Arabic letters
    (U+0080–U+07FF), so UTF-8 text made of such letters, whose bytes are also GBK
    without them, is taken as GBK.

    Raises:
        RequestError: the bytes are neither UTF-8 nor GBK.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _MISREAD_GBK.search(text):
        return text, "utf-8"
    try:
        gbk = raw.decode("gbk")
    except UnicodeDecodeError:
        gbk = None
    if gbk is not None and not _MISREAD_GBK.search(gbk):
        return gbk, "gbk"
    if text is not None:
        return text, "utf-8"
    raise RequestError("parameter bytes are neither UTF-8 nor GBK")
