"""Reading a model's JSON answer, as servers without guided decoding write it too."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.llm.asking import Rejected

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def json_object(text: str) -> dict[str, Any]:
    """The JSON object ``text`` is (a Markdown code fence around it allowed).

    Raises:
        Rejected: it is not one.
    """
    text = text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        value = json.loads(text)
    except ValueError:
        raise Rejected(f"not JSON: {text[:80]!r}") from None
    if not isinstance(value, dict):
        raise Rejected(f"not a JSON object: {text[:80]!r}")
    return value
