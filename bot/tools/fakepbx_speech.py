"""The fake PBX sends live transcript lines as the GX CTI does (GX manual §54;
docs/tools.md): ``POST /control/agent-speech`` makes it GET a URL (the bot's
``/cti/agent-speech``) with the manual's parameters, ``caller``, ``callee``, ``callid``,
``caller-callid``, ``side`` and ``txt``, the text URL-encoded UTF-8 as Java's
``URLEncoder`` writes it (a space is ``+``), or GBK when asked. Several lines go out
one after the other, in order, as the CTI sends a conversation sentence by sentence.

The manual names no answer for the push, and the CTI does not send a line again: the
control request answers what each GET got (status and body, or why it failed).
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import quote_plus

import httpx
from quart import Blueprint, Response, jsonify, request

from bot.errors import FailureSpecError
from bot.tools.fakepbx_state import note

blueprint = Blueprint("fake_pbx_speech", __name__)
ENCODINGS = ("utf-8", "gbk")
SIDES = ("caller", "callee")
MAX_LINES = 100
MAX_TIMEOUT_MS = 60_000
CONTROL_FIELDS = frozenset(
    {"url", "caller", "callee", "callid", "caller_callid", "side", "txt", "lines", "encoding", "timeout_ms"}
)
# §54.3's parameters, in its order (``caller_callid`` is sent as ``caller-callid``).
PARAMETERS = ("caller", "callee", "callid", "caller-callid", "side", "txt")


@blueprint.post("/control/agent-speech")
async def send_agent_speech() -> Response:
    body = await request.get_json(force=True, silent=True)
    spec = _spec(body)  # a FailureSpecError is the app's 400 (bot.tools.fakepbx)
    sent = []
    async with httpx.AsyncClient(timeout=spec["timeout_ms"] / 1000) as client:
        for line in spec["lines"]:
            sent.append(await _send(client, spec["url"], line, spec["encoding"]))
    note(agent_speech={"url": spec["url"], "sent": sent})
    return jsonify({"sent": sent})


def query_of(line: dict[str, str], encoding: str) -> str:
    """A line's parameters as the CTI writes them: each value URL-encoded in ``encoding``."""
    return "&".join(
        f"{name}={quote_plus(line[name].encode(encoding, 'replace'))}" for name in PARAMETERS if name in line
    )


async def _send(client: httpx.AsyncClient, url: str, line: dict[str, str], encoding: str) -> dict[str, Any]:
    query = query_of(line, encoding)
    target = f"{url}{'&' if '?' in url else '?'}{query}"
    began = time.monotonic()
    try:
        response = await client.get(target)
    except httpx.HTTPError as exc:
        return {"query": query, "error": f"{type(exc).__name__}: {exc}"[:300], "ms": _ms(began)}
    return {
        "query": query,
        "status": response.status_code,
        "answer": response.text.strip()[:300],
        "ms": _ms(began),
    }


def _spec(body: Any) -> dict[str, Any]:
    """The control request's fields, checked: one line (``txt``) or several (``lines``:
    objects with ``side`` and ``txt``), the call's numbers and ids shared by all."""
    if not isinstance(body, dict):
        raise FailureSpecError(
            'send a JSON object, e.g. {"url": "http://127.0.0.1:8080/cti/agent-speech", "caller": '
            '"13800138000", "callee": "801", "side": "caller", "txt": "异地就医怎么备案"}'
        )
    if unknown := set(body) - CONTROL_FIELDS:
        raise FailureSpecError(f"unknown fields {sorted(unknown)}: use {', '.join(sorted(CONTROL_FIELDS))}")
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise FailureSpecError(f"url must be the receiver's http(s) URL, not {url!r}")
    encoding = str(body.get("encoding", "utf-8")).lower()
    if encoding not in ENCODINGS:
        raise FailureSpecError(
            f"encoding must be one of {', '.join(ENCODINGS)}, not {body.get('encoding')!r}"
        )
    call = {
        "caller": _text(body, "caller", "13800138000"),
        "callee": _text(body, "callee", "801"),
        "callid": _text(body, "callid", f"{secrets.randbelow(10**15)}-{secrets.randbelow(10**15)}@127.0.0.1"),
        "caller-callid": _text(body, "caller_callid", f"{secrets.randbelow(10**15)}@127.0.0.1"),
    }
    given = body.get("lines", [{"side": body.get("side", "caller"), "txt": body.get("txt")}])
    if not isinstance(given, list) or not 1 <= len(given) <= MAX_LINES:
        raise FailureSpecError(f"lines must be a list of 1 to {MAX_LINES} objects with side and txt")
    lines = [{**call, **_line(item)} for item in given]
    timeout_ms = body.get("timeout_ms", 5000)
    if (
        isinstance(timeout_ms, bool)
        or not isinstance(timeout_ms, int)
        or not 1 <= timeout_ms <= MAX_TIMEOUT_MS
    ):
        raise FailureSpecError(f"timeout_ms must be a whole number from 1 to {MAX_TIMEOUT_MS}")
    return {"url": url, "encoding": encoding, "lines": lines, "timeout_ms": timeout_ms}


def _line(item: Any) -> dict[str, str]:
    if not isinstance(item, dict) or not isinstance(item.get("txt"), str):
        raise FailureSpecError('each line needs "txt", the words (and "side": caller or callee)')
    side = item.get("side", "caller")
    if side not in SIDES:  # the fake sends what the manual allows
        raise FailureSpecError(f"side must be caller or callee (§54.3), not {side!r}")
    return {"side": side, "txt": item["txt"]}


def _text(body: dict[str, Any], name: str, default: str) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise FailureSpecError(f"{name} must be a string")
    return value


def _ms(began: float) -> float:
    return round((time.monotonic() - began) * 1000, 1)
