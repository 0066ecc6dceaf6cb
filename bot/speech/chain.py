"""Which speech backends may be asked now: a failed one cools down for a while."""

from __future__ import annotations

import logging
import time

from bot.speech.tts import TTSBackend

logger = logging.getLogger(__name__)


class BackendHealth:
    """Which backends are cooling down after a failure, shared by every chain they are in.

    A backend that failed or was too slow is skipped for ``cooldown_seconds``, so
    that while a vendor is down every turn does not pay its timeout first; then it is
    tried again, and a success ends its cooldown. A backend in several chains (the
    chain of ``VOICEBOT_TTS`` and those of flows that choose a voice) cools down once,
    for all of them. The last backend of a chain is always usable: skipping it would
    only trade a chance of speech for certain silence.

    Args:
        cooldown_seconds: How long a failed backend is skipped; 0 never skips.

    Raises:
        ValueError: ``cooldown_seconds`` is negative.
    """

    def __init__(self, cooldown_seconds: float) -> None:
        if cooldown_seconds < 0:
            raise ValueError(f"cooldown_seconds must be >= 0, not {cooldown_seconds}")
        self._cooldown_seconds = cooldown_seconds
        # id(backend) → monotonic time it may be tried again; backends live as long as this
        self._down_until: dict[int, float] = {}

    def usable(self, backend: TTSBackend, *, last: bool) -> bool:
        """Whether ``backend`` may be asked now (``last``: it ends its chain)."""
        until = self._down_until.get(id(backend))
        if last or until is None:
            return True
        if time.monotonic() < until:
            logger.debug("speech backend %s skipped: cooling down", backend.name)
            return False
        return True

    def failed(self, backend: TTSBackend, reason: str, *, then: TTSBackend | None) -> None:
        """``backend`` failed: log it (never the text) and start its cooldown; ``then``
        is the backend its chain falls back to (None: it was the last)."""
        self._down_until[id(backend)] = time.monotonic() + self._cooldown_seconds
        if then is not None:
            logger.warning(
                "speech backend %s failed (%s); falling back to %s, and skipping %s for %g s",
                backend.name,
                reason,
                then.name,
                backend.name,
                self._cooldown_seconds,
            )
        else:
            logger.warning("speech backend %s, the last of the chain, failed (%s)", backend.name, reason)

    def succeeded(self, backend: TTSBackend) -> None:
        """``backend`` made audio: it is healthy again."""
        if self._down_until.pop(id(backend), None) is not None:
            logger.info("speech backend %s works again", backend.name)
