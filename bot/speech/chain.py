"""Which speech backends of a chain may be asked now: a failed one cools down for a while."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from bot.speech.tts import TTSBackend

logger = logging.getLogger(__name__)


class BackendHealth:
    """Which backends of a chain are cooling down after a failure.

    A backend that failed or was too slow is skipped for ``cooldown_seconds``, so
    that while a vendor is down every turn does not pay its timeout first; then it is
    tried again, and a success ends its cooldown. The last backend is always usable:
    skipping it would only trade a chance of speech for certain silence.

    Args:
        backends: The chain, in order of preference (for names in log lines).
        cooldown_seconds: How long a failed backend is skipped; 0 never skips.

    Raises:
        ValueError: ``cooldown_seconds`` is negative.
    """

    def __init__(self, backends: Sequence[TTSBackend], cooldown_seconds: float) -> None:
        if cooldown_seconds < 0:
            raise ValueError(f"cooldown_seconds must be >= 0, not {cooldown_seconds}")
        self._backends = backends
        self._cooldown_seconds = cooldown_seconds
        self._down_until: dict[int, float] = {}  # index → monotonic time it may be tried again

    def usable(self, index: int) -> bool:
        """Whether backend ``index`` may be asked now."""
        if index == len(self._backends) - 1 or index not in self._down_until:
            return True
        if time.monotonic() < self._down_until[index]:
            logger.debug("speech backend %s skipped: cooling down", self._backends[index].name)
            return False
        return True

    def failed(self, index: int, reason: str) -> None:
        """Backend ``index`` failed: log it (never the text) and start its cooldown."""
        self._down_until[index] = time.monotonic() + self._cooldown_seconds
        name = self._backends[index].name
        if index + 1 < len(self._backends):
            logger.warning(
                "speech backend %s failed (%s); falling back to %s, and skipping %s for %g s",
                name,
                reason,
                self._backends[index + 1].name,
                name,
                self._cooldown_seconds,
            )
        else:
            logger.warning("speech backend %s, the last of the chain, failed (%s)", name, reason)

    def succeeded(self, index: int) -> None:
        """Backend ``index`` made audio: it is healthy again."""
        if self._down_until.pop(index, None) is not None:
            logger.info("speech backend %s works again", self._backends[index].name)
