"""Reading the CTI's callback parameters, byte-exact.

The CTI percent-encodes the recognized text as UTF-8, but some deployments still
send GBK. The framework's own decoding would replace GBK bytes with U+FFFD, so the
raw query (or form body) is parsed here, each value decoded on its own by
``bot.text.decoding.decode_text``: valid UTF-8 is UTF-8, else valid GBK is GBK,
anything else is rejected.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote_to_bytes

from quart import request

from bot.calls.events import Callback, Event
from bot.errors import RequestError
from bot.text.decoding import decode_text

MAX_CALL_ID_CHARS = 256
MAX_REMEMBERED_BYTES = 128  # percent-encoded: about 14 characters of Chinese


async def read_form_body(max_bytes: int) -> bytes:
    """The current request's form body: a POST's raw bytes, empty for other methods.

    Raises:
        RequestError: 413, the body is larger than ``max_bytes`` (by its
            Content-Length, or as read when it came without one).
    """
    if request.method != "POST":
        return b""
    too_big = RequestError(f"form body larger than {max_bytes} bytes", status=413)
    if (request.content_length or 0) > max_bytes:
        raise too_big
    body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
    if len(body) > max_bytes:
        raise too_big
    return body


Params = dict[str, tuple[str, str]]  # name → (decoded value, the encoding it was read in)


def parse_params(*sources: bytes) -> Params:
    """Raw ``a=b&c=d`` bytes → {name: (decoded value, encoding)}; the first source wins.

    Split on bytes and percent-decoded to bytes, so each value's encoding can be
    judged on its own (``parse_qsl`` would decode with one codec for all, and
    costs several times more on this hot path).
    """
    params: dict[str, tuple[str, str]] = {}
    for source in sources:
        for pair in source.split(b"&"):
            raw_name, _, raw_value = pair.partition(b"=")
            name = _name(raw_name)
            if name and name not in params:
                params[name] = _value(raw_value)
    return params


# The same names every time, and values that repeat: a call's id and number on each of
# its callbacks, and what callers say most (对, 好的, ready2speak). A value that cannot be
# decoded raises, and is not remembered.
@lru_cache(maxsize=64)
def _name(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("latin-1")


def _value(raw: bytes) -> tuple[str, str]:
    if len(raw) > MAX_REMEMBERED_BYTES:  # a long text is rarely said twice: not kept
        return _decode(raw)
    return _remembered(raw)


@lru_cache(maxsize=4096)
def _remembered(raw: bytes) -> tuple[str, str]:
    return _decode(raw)


def _decode(raw: bytes) -> tuple[str, str]:
    return decode_text(unquote_to_bytes(raw.replace(b"+", b" ")))


def read_callback(params: Params, *, max_text_chars: int) -> Callback:
    """Validate the parameters of a callback.

    Raises:
        RequestError: a missing or invalid parameter, with a short reason.
    """
    call_id = params.get("callid", ("", ""))[0].strip()
    if not call_id:
        raise RequestError("missing callid")
    if len(call_id) > MAX_CALL_ID_CHARS:
        raise RequestError(f"callid longer than {MAX_CALL_ID_CHARS} characters")
    if not call_id.isprintable():  # a CR/LF would forge log lines, and no CTI sends one
        raise RequestError("callid has control characters")
    if "txt" not in params:
        raise RequestError("missing txt")
    text, encoding = params["txt"]
    text = text.strip()
    event = _event(text)
    if event is Event.TEXT and len(text) > max_text_chars:
        raise RequestError(f"txt longer than {max_text_chars} characters", status=413)
    flow = params["flow"][0].strip() if "flow" in params else None
    return Callback(
        call_id=call_id,
        telnum=params.get("telnum", ("", ""))[0].strip(),
        event=event,
        text=text if event is Event.TEXT else None,
        playing=params.get("playing", ("", ""))[0].strip().lower() in {"true", "1", "yes"},
        flow=flow or None,
        encoding=encoding,
    )


def _event(text: str) -> Event:
    lowered = text.lower()
    if lowered == Event.HUNGUP.value:
        return Event.HUNGUP
    # Blank recognized text means nothing was said: treat it as silence.
    if lowered == Event.READY.value or not text:
        return Event.READY
    return Event.TEXT
