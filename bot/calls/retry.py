"""The CTI's retries: the same callback again, sent because the CTI stopped waiting.

A retry gets the answer the first one got, byte for byte, and is neither run nor
recorded again. It is recognised two ways: on this instance, while the first one is
still being answered or was answered less than the window ago (``RecentCallbacks``,
no lock needed, so a retry never queues behind a slow turn); and from the call's
state (``CallState.answered``), which outlives the process.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from bot.calls.events import Callback
from bot.dialog.state import Answer, Answered

Fingerprint = tuple[str, str, str | None, bool]


def fingerprint(callback: Callback) -> Fingerprint:
    """What makes two callbacks the same: call, event, text and whether audio played."""
    return callback.call_id, callback.event.value, callback.text, callback.playing


def answered(callback: Callback, answer: Answer, at: float) -> Answered:
    """The record of ``callback``'s answer that a later retry is compared with."""
    return Answered(callback.event.value, callback.text, callback.playing, at, answer)


def repeats(last: Answered | None, callback: Callback, *, now: float, window_seconds: float) -> bool:
    """Whether ``callback`` is a retry of the call's last answered callback."""
    return (
        last is not None
        and (last.event, last.text, last.playing) == (callback.event.value, callback.text, callback.playing)
        and now - last.at <= window_seconds
    )


class RecentCallbacks:
    """The callbacks this instance is answering or answered within the window."""

    def __init__(self, window_seconds: float) -> None:
        self.window_seconds = window_seconds
        self._answers: OrderedDict[Fingerprint, asyncio.Future[Answer]] = OrderedDict()
        self._answered_at: dict[Fingerprint, float] = {}

    def find(self, callback: Callback) -> asyncio.Future[Answer] | None:
        """The answer of the callback that ``callback`` retries, if any."""
        if self.window_seconds <= 0:
            return None
        self._forget_old()
        key = fingerprint(callback)
        answer = self._answers.get(key)
        if answer is None:
            return None
        at = self._answered_at.get(key)
        if at is not None and time.monotonic() - at > self.window_seconds:
            return None
        return answer

    def track(self, callback: Callback, answer: asyncio.Future[Answer]) -> None:
        """Remember ``answer`` as the answer of ``callback`` until the window after it."""
        if self.window_seconds <= 0:
            return
        key = fingerprint(callback)
        self._answers.pop(key, None)
        self._answers[key] = answer
        self._answered_at.pop(key, None)

        def done(_: asyncio.Future[Answer]) -> None:
            if self._answers.get(key) is answer:
                self._answered_at[key] = time.monotonic()

        answer.add_done_callback(done)

    def _forget_old(self) -> None:
        now = time.monotonic()
        while self._answers:
            key = next(iter(self._answers))
            at = self._answered_at.get(key)
            if at is None or now - at <= self.window_seconds:
                return  # the oldest still counts; newer ones do too
            del self._answers[key], self._answered_at[key]
