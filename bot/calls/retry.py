"""The CTI's retries: the same callback again, sent because the CTI stopped waiting.

A retry gets the answer the first one got, byte for byte, and is neither run nor
recorded again. Only the call's last callback can be retried (A, B, A: the second A
is new). It is recognised two ways: on this instance, while the last callback is still
being answered or was answered less than the window ago (``RecentCallbacks``, no lock
needed, so a retry never queues behind a slow turn); and from the call's state
(``CallState.answered``, stored with the turn), which is what recognises a retry that
reaches another instance once the session store is shared.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

from bot.calls.events import Callback
from bot.dialog.state import Answer, Answered

CallbackKey = tuple[str, str | None, bool]  # event, text, playing


def key(callback: Callback) -> CallbackKey:
    """What makes two callbacks of a call the same: event, text and whether audio played."""
    return callback.event.value, callback.text, callback.playing


def answered(callback: Callback, answer: Answer, at: float) -> Answered:
    """The record of ``callback``'s answer that a later retry is compared with."""
    return Answered(*key(callback), at, answer)


def repeats(last: Answered | None, callback: Callback, *, now: float, window_seconds: float) -> bool:
    """Whether ``callback`` is a retry of the call's last answered callback."""
    return (
        last is not None
        and (last.event, last.text, last.playing) == key(callback)
        and now - last.at <= window_seconds
    )


@dataclass
class _Last:
    key: CallbackKey
    answer: asyncio.Future[Answer]
    answered_at: float | None = None  # monotonic seconds; None while it is answered


class RecentCallbacks:
    """The last callback of each call this instance answers or answered within the window."""

    def __init__(self, window_seconds: float) -> None:
        self.window_seconds = window_seconds
        self._last: OrderedDict[str, _Last] = OrderedDict()  # by call id, oldest first

    def find(self, callback: Callback) -> asyncio.Future[Answer] | None:
        """The answer of the callback that ``callback`` retries, if any: the call's last
        one, when it is the same and is still answered or was answered successfully
        within the window (a failed one is tried again)."""
        if self.window_seconds <= 0:
            return None
        self._forget_old()
        last = self._last.get(callback.call_id)
        if last is None or last.key != key(callback):
            return None
        if last.answered_at is None:
            return last.answer
        failed = last.answer.cancelled() or last.answer.exception() is not None
        if failed or time.monotonic() - last.answered_at > self.window_seconds:
            return None
        return last.answer

    def track(self, callback: Callback, answer: asyncio.Future[Answer]) -> None:
        """Remember ``answer`` as the answer of the call's last callback."""
        if self.window_seconds <= 0:
            return
        last = _Last(key(callback), answer)
        self._last.pop(callback.call_id, None)
        self._last[callback.call_id] = last

        def done(_: asyncio.Future[Answer]) -> None:
            last.answered_at = time.monotonic()

        answer.add_done_callback(done)

    def _forget_old(self) -> None:
        now = time.monotonic()
        while self._last:
            call_id, last = next(iter(self._last.items()))
            if last.answered_at is None or now - last.answered_at <= self.window_seconds:
                return  # the oldest still counts, and so may the newer ones
            del self._last[call_id]
