"""Reading a bounded whole number from a query parameter, for every JSON API alike."""

from __future__ import annotations

from bot.errors import RequestError


def whole_number(raw: str, name: str, low: int, high: int) -> int:
    """``raw`` as an int from ``low`` to ``high``, else a 400 naming ``name``.

    ``str.isdigit`` alone admits ``²`` and 5,000-digit numbers, which ``int()`` refuses
    (a 500 before this check existed): only ASCII digits, no longer than ``high``'s.
    """
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))) or not low <= int(raw) <= high:
        raise RequestError(f'"{name}" must be a whole number from {low} to {high}')
    return int(raw)
