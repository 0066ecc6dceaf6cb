"""Replies made audible: a reply's prompts joined into one clip of the audio cache.

When no speech backend works, the caller hears a pre-rendered apology and the reply's
words are handed to the CTI's own TTS (``Spoken.push``); silence stands in when not
even the apology could be rendered at start.

A call's words are said in the voice of the flow it is in (the flow's ``voice:``,
:meth:`Voice.of`); the apology and the busy words, in the chain of ``VOICEBOT_TTS``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from bot.dialog.context import FlowLookup
from bot.dialog.state import CallState, Playback, Reply
from bot.errors import FlowError, TTSError
from bot.language.flow import Prompt
from bot.speech.synthesizer import AudioClip, SpeechSynthesizer
from bot.speech.voices import VoiceChoice

logger = logging.getLogger(__name__)

# Said when no speech backend works; the reply's own words then go to the CTI's TTS.
APOLOGY = "抱歉，请您稍等。"
# How long the CTI's own TTS takes per character of pushed text, for the wait before acting.
PUSHED_TEXT_SECONDS_PER_CHAR = 0.25


class AudioLinks(Protocol):
    """Where the transport's peer fetches a clip: the HTTP edge builds the URLs, and the
    core hands them only to the PBX and the transcript."""

    def url(self, playback: Playback) -> str: ...


class RelativeAudioLinks:
    """Paths on this service, for an action taken over before any callback came (the
    PBX is then told a path, not a URL: configure ``VOICEBOT_PUBLIC_URL``)."""

    def url(self, playback: Playback) -> str:
        return f"/audio/{playback.key}.wav"


@dataclass(frozen=True)
class Spoken:
    """A reply made audible: what plays, for how long, and the text the CTI must speak
    itself when no speech backend could (``push``)."""

    playback: Playback
    seconds: float
    push: str | None = None
    backend: str = ""  # what made the audio (espeak-ng, hwd, recording…), for the transcript


class Voice:
    """Turns replies into audio the CTI can play.

    Args:
        speech: The synthesizer.
        flows: The flows calls are in, whose ``voice:`` says their words; None: every
            word in ``VOICEBOT_TTS``'s chain.
    """

    def __init__(self, speech: SpeechSynthesizer, flows: FlowLookup | None = None) -> None:
        self._speech = speech
        self._flows = flows
        self._apology: AudioClip | None = None
        self._warming: set[asyncio.Task[None]] = set()

    def of(self, state: CallState) -> VoiceChoice | None:
        """The voice of the flow the call is in now; None: ``VOICEBOT_TTS``'s chain."""
        if self._flows is None:
            return None
        try:
            return self._flows.get(*state.position).flow.voice
        except FlowError:  # not loaded here (yet): the words are still said
            return None

    async def prepare(self) -> None:
        """Render the apology before the first call, so that it plays when no speech
        backend works; silence stands in when none works even now."""
        try:
            self._apology = await self._speech.render(APOLOGY)
            self._speech.pin(self._apology)  # kept by the cache bound: it plays when backends fail
        except TTSError as exc:
            logger.error("no speech backend can say the apology (%s); silence stands in for it", exc)
            self._apology = await self._speech.silence()

    async def speak(self, reply: Reply, voice: VoiceChoice | None = None) -> Spoken:
        """The reply's prompts as one clip (silence when it has none), said in ``voice``
        (the call's flow's, :meth:`of`).

        Raises:
            TTSError: no backend can say it and the reply has no words to push instead.
        """
        try:
            clip = await self._clip(reply.prompts, voice)
        except TTSError as exc:
            if not reply.text:
                raise
            logger.error("no speech for a reply (%s): the apology plays, the CTI speaks the text", exc)
            apology = await self._apology_clip()
            return Spoken(Playback(apology.key, False), apology.duration_seconds, push=reply.text)
        return Spoken(Playback(clip.key, reply.interruptible), clip.duration_seconds, backend=clip.backend)

    def warm(self, text: str, state: CallState) -> None:
        """Start making the speech of ``text`` in the call's voice, so that saying it soon
        finds it made: a grounded answer's sentence while the model writes the next
        (``bot.llm.answers``). A failure is left to the saying."""

        async def render() -> None:
            try:
                await self._speech.render_prompt(Prompt(text=text), voice=self.of(state))
            except TTSError:
                pass  # the saying tries again, and falls back as it does
            except Exception:  # never a call's failure: the saying renders it anyway
                logger.exception("call %s: a sentence's speech could not be made early", state.call_id)

        task = asyncio.create_task(render())
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)

    async def finish(self) -> None:
        """At shutdown: speech still being made early is given up."""
        for task in self._warming:
            task.cancel()
        await asyncio.gather(*self._warming, return_exceptions=True)

    async def filler(self, wait: Prompt, voice: VoiceChoice | None = None) -> Playback:
        """The words said while a slow turn works (the apology when they cannot be said)."""
        try:
            clip = await self._speech.render_prompt(wait, voice=voice)
        except TTSError:
            clip = await self._apology_clip()
        return Playback(clip.key, wait.interruptible)

    async def apology(self) -> Playback:
        """The apology, for a turn that could not run (its call's state is out of reach)."""
        return Playback((await self._apology_clip()).key, False)

    async def seconds(self, playback: Playback) -> float:
        """How long a clip of the cache plays (0 when it is gone)."""
        clip = await self._speech.clip(playback.key)
        return clip.duration_seconds if clip else 0.0

    async def _clip(self, prompts: tuple[Prompt, ...], voice: VoiceChoice | None) -> AudioClip:
        if not prompts:
            return await self._speech.silence()
        return await self._speech.join([await self._speech.render_prompt(p, voice=voice) for p in prompts])

    async def _apology_clip(self) -> AudioClip:
        return self._apology or await self._speech.silence()
