"""A chain's renderer with its memory of texts, one per chain the voices of flows lead.

:class:`bot.speech.synthesizer.SpeechSynthesizer` says a text with the chain of its
voice (:mod:`bot.speech.voices`). Each distinct chain has its own
:class:`~bot.speech.rendering.ChainRenderer` and its own memory of which clip its
first backend made of a text; all of them share the clips, the synthesis slots and
the backends' cooldowns, so that a vendor failing for one flow is skipped for all.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.speech.chain import BackendHealth
from bot.speech.clips import AudioClip, ClipStore
from bot.speech.memo import Lru
from bot.speech.rendering import ChainRenderer
from bot.speech.tts import TTSBackend
from bot.speech.voices import VoiceChains, VoiceChoice


@dataclass(frozen=True)
class Speaker:
    """One chain's renderer, and what it remembers of the texts its first backend said.

    Attributes:
        renderer: Says a normalised text with the first backend of the chain that can.
        by_text: A text as given → the clip the chain's first backend made of it.
        by_sentence: Whether a long text is said sentence by sentence
            (:mod:`bot.speech.sentences`): when the chain's first backend is ``remote``
            (a service over the network). A local engine (espeak-ng, sherpa-onnx) is
            busy on this machine's cores the whole time, so cutting gains it nothing.
    """

    renderer: ChainRenderer
    by_text: Lru[str, AudioClip]
    by_sentence: bool = False


class Speakers:
    """A :class:`Speaker` per chain, found by voice; two voices of one chain share it.

    Args:
        voices: The chains of the voices.
        clips: Where clips are found and stored.
        slots: The synthesis slots, shared with the conversion of recordings.
        cooldown_seconds: How long a backend that failed is skipped, in every chain
            (:attr:`health`).
        attempt_timeout_seconds: Longest one backend may take for one text.
        memo_size: Most texts each chain remembers.

    Raises:
        ValueError: ``cooldown_seconds`` is negative, ``attempt_timeout_seconds`` not
            positive.
    """

    def __init__(
        self,
        voices: VoiceChains,
        clips: ClipStore,
        slots: asyncio.Semaphore,
        *,
        cooldown_seconds: float,
        attempt_timeout_seconds: float | None,
        memo_size: int,
    ) -> None:
        self._voices = voices
        self._clips, self._slots = clips, slots
        self.health = BackendHealth(cooldown_seconds)  # one per backend, whatever chains it is in
        self._attempt_timeout_seconds, self._memo_size = attempt_timeout_seconds, memo_size
        self._by_chain: dict[tuple[int, ...], Speaker] = {}
        self._by_voice: dict[tuple[str, str | None], Speaker] = {}
        self.default = self._of_chain(voices.default)

    async def of(self, voice: VoiceChoice) -> Speaker:
        """The speaker of ``voice``'s chain: a dictionary lookup once the chain is built
        (:meth:`bot.speech.voices.VoiceChains.chain`).

        Raises:
            ConfigError: The voice's backend cannot be built.
        """
        key = (voice.backend, voice.name)
        speaker = self._by_voice.get(key)
        if speaker is None:
            speaker = self._by_voice[key] = self._of_chain(await self._voices.chain(voice))
        return speaker

    def _of_chain(self, chain: tuple[TTSBackend, ...]) -> Speaker:
        key = tuple(id(backend) for backend in chain)
        speaker = self._by_chain.get(key)
        if speaker is None:
            renderer = ChainRenderer(
                chain,
                self._clips,
                self._slots,
                attempt_timeout_seconds=self._attempt_timeout_seconds,
                cooldown_seconds=0,  # unused: the shared health's cooldown counts
                health=self.health,
            )
            remote = bool(getattr(chain[0], "remote", False))
            speaker = self._by_chain[key] = Speaker(renderer, Lru(self._memo_size), by_sentence=remote)
        return speaker
