"""The local neural voice: a sherpa-onnx model on this machine (``VOICEBOT_TTS=sherpa``).

For sites without cloud access. The deployer unpacks a published Mandarin model into
``VOICEBOT_TTS_SHERPA_MODEL_DIR`` (docs/speech.md names those that work); nothing is
downloaded at run time. :func:`build` reads the model's layout from its files
(:mod:`bot.speech.vendors.sherpa_model`) and fails with a :class:`~bot.errors.ConfigError`
naming a missing file.

The model is loaded once, at the start-up check (or by the first text), in a worker
process (:mod:`bot.speech.vendors.sherpa_worker`: why a process, and its protocol;
:mod:`bot.speech.vendors.sherpa_process`: this side of it), and stays loaded. The
worker speaks one text at a time, on ``VOICEBOT_TTS_SHERPA_THREADS`` threads;
concurrent texts wait their turn. A text the chain gave up on is still
finished, so the worker is free for the next; a worker that dies or hangs is replaced
by the next text. The audio is a WAV at the model's own rate (the synthesizer converts
it to the served format).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging

from bot.config import Settings
from bot.errors import ConfigError, TTSError
from bot.speech.tts import IdentityValue
from bot.speech.vendors.common import Voice, pcm_wav
from bot.speech.vendors.sherpa_model import FETCH, ModelLayout, detect_layout
from bot.speech.vendors.sherpa_process import WorkerFailedError, WorkerProcess

logger = logging.getLogger(__name__)

NAME = "sherpa"
VOICES: tuple[Voice, ...] = (
    Voice(
        "0",
        "the model's first (or only) speaker; a multi-speaker model has more "
        "(VOICEBOT_TTS_SHERPA_SPEAKER_ID; SherpaTTS.voices() lists the loaded model's)",
    ),
)
_CHECK_TEXT = "您好"


def build(settings: Settings) -> SherpaTTS:
    """The backend ``VOICEBOT_TTS_SHERPA_*`` describe.

    Raises:
        ConfigError: The model directory is not set, sherpa-onnx is not installed, or
            a file the model needs is missing or unreadable.
    """
    directory = settings.tts_sherpa_model_dir
    if directory is None:
        raise ConfigError(f"VOICEBOT_TTS lists sherpa, but VOICEBOT_TTS_SHERPA_MODEL_DIR is not set; {FETCH}")
    if importlib.util.find_spec("sherpa_onnx") is None:
        raise ConfigError("VOICEBOT_TTS lists sherpa, but the sherpa-onnx package is not installed")
    layout = detect_layout(directory, model_file=settings.tts_sherpa_model_file)
    return SherpaTTS(
        layout,
        speaker_id=settings.tts_sherpa_speaker_id,
        speed=settings.tts_sherpa_speed,
        threads=settings.tts_sherpa_threads,
    )


def speaker_voices(num_speakers: int) -> tuple[Voice, ...]:
    """The speakers of a model with ``num_speakers`` (0 or 1: one), as voices."""
    count = max(num_speakers, 1)
    return tuple(Voice(str(i), f"speaker {i} of the model's {count}") for i in range(count))


class SherpaTTS:
    """Speech from a sherpa-onnx model (VITS, Matcha or Kokoro) in a worker process.

    Args:
        layout: The model's files (:func:`~bot.speech.vendors.sherpa_model.detect_layout`).
        speaker_id: The speaker of a multi-speaker model.
        speed: Speaking speed, 0.5 to 2.
        threads: CPU threads the model runs on.
        load_timeout_seconds: Longest the worker may take to load the model.
        request_timeout_seconds: Longest one text may take; then the worker is killed
            (a text the chain gave up on earlier is still finished until then).

    Raises:
        ValueError: An argument is out of range.
        ConfigError: A model file cannot be read.
    """

    name = NAME

    def __init__(
        self,
        layout: ModelLayout,
        *,
        speaker_id: int = 0,
        speed: float = 1.0,
        threads: int = 2,
        load_timeout_seconds: float = 120.0,
        request_timeout_seconds: float = 60.0,
    ) -> None:
        if speaker_id < 0:
            raise ValueError(f"speaker_id must be >= 0, not {speaker_id}")
        if not 0.5 <= speed <= 2.0:
            raise ValueError(f"speed must be 0.5..2, not {speed}")
        if threads < 1 or load_timeout_seconds <= 0 or request_timeout_seconds <= 0:
            raise ValueError("threads and timeouts must be positive")
        self.layout, self.speaker_id, self.speed, self.threads = layout, speaker_id, speed, threads
        self.load_timeout_seconds = load_timeout_seconds
        self.request_timeout_seconds = request_timeout_seconds
        self._fingerprint = layout.fingerprint()
        self._worker: WorkerProcess | None = None
        self._busy = asyncio.Lock()
        self._requests: set[asyncio.Task[tuple[int, bytes]]] = set()

    def __repr__(self) -> str:
        return (
            f"SherpaTTS({self.layout.kind} model in {self.layout.directory}, "
            f"speaker_id={self.speaker_id}, speed={self.speed:g})"
        )

    def identity(self) -> dict[str, IdentityValue]:
        """The model's fingerprint, the speaker and the speed (threads do not change the audio).

        Returns:
            ``{"model": …, "speaker_id": …, "speed": …}``.
        """
        return {"model": self._fingerprint, "speaker_id": self.speaker_id, "speed": self.speed}

    async def synthesize(self, text: str) -> bytes:
        """Speak ``text`` with the model (loading it first if no text has yet).

        Args:
            text: Normalised text; words missing from the model's lexicon are skipped.

        Returns:
            A WAV of 16-bit mono PCM at the model's sample rate.

        Raises:
            TTSError: The model cannot be loaded, the speaker is not the model's, the
                worker failed, died or took too long, or no audio came out. Messages
                never contain the text.
        """
        request = asyncio.create_task(self._speak(text))
        self._requests.add(request)
        request.add_done_callback(self._settled)
        # Shielded: a text the chain gives up on is finished all the same, so that the
        # worker's answer is read and the worker is free for the next text.
        rate, pcm = await asyncio.shield(request)
        if not pcm:
            raise self._error(
                f"made no audio for a {len(text)}-character text (words its lexicon lacks are skipped)"
            )
        return pcm_wav(pcm, rate)

    async def check(self) -> str:
        """Load the model at start-up and say a short text with it.

        Returns:
            A description of the model and the voice.

        Raises:
            TTSError: What is wrong (sherpa-onnx's own words when it cannot load the model).
        """
        await self.synthesize(_CHECK_TEXT)
        worker = self._worker
        assert worker is not None
        description = (
            f"sherpa-onnx {self.layout.kind} model in {self.layout.directory} ({worker.rate} Hz, "
            f"{max(worker.speakers, 1)} speakers), speaker {self.speaker_id}, speed {self.speed:g}"
        )
        logger.info("speech backend ready: %s", description)
        return description

    async def voices(self) -> tuple[Voice, ...]:
        """The loaded model's speakers (the model is loaded if it is not yet).

        Raises:
            TTSError: The model cannot be loaded.
        """
        async with self._busy:
            worker = await self._ready()
        return speaker_voices(worker.speakers)

    async def aclose(self) -> None:
        """Stop the worker (at shutdown); a text still being spoken is abandoned."""
        for request in list(self._requests):
            request.cancel()
        await asyncio.gather(*self._requests, return_exceptions=True)
        if self._worker is not None:
            await self._worker.close()
            self._worker = None

    async def _speak(self, text: str) -> tuple[int, bytes]:
        async with self._busy:
            try:
                return await self._speak_once(text)
            except WorkerFailedError as exc:
                if not exc.ended:
                    raise self._error(str(exc)) from None
            # The worker was gone, perhaps before this text reached it (killed while idle):
            # a new one is given the text once.
            try:
                return await self._speak_once(text)
            except WorkerFailedError as exc:
                raise self._error(str(exc)) from None

    async def _speak_once(self, text: str) -> tuple[int, bytes]:
        worker = await self._ready()
        count = max(worker.speakers, 1)
        if self.speaker_id >= count:
            raise self._error(
                f"VOICEBOT_TTS_SHERPA_SPEAKER_ID={self.speaker_id}, but the model has "
                f"{count} speaker(s): 0 to {count - 1}"
            )
        try:
            return await asyncio.wait_for(
                worker.speak(text, self.speaker_id, self.speed), self.request_timeout_seconds
            )
        except TimeoutError:
            await self._discard(worker, force=True)
            limit = self.request_timeout_seconds
            raise self._error(f"took longer than {limit:g} s for a {len(text)}-character text") from None
        except WorkerFailedError as exc:
            if exc.ended:
                await self._discard(worker)
            raise
        except BaseException:  # cancelled at shutdown: its answer would be left in the pipe
            await self._discard(worker, force=True)
            raise

    async def _ready(self) -> WorkerProcess:
        """The running worker, started (and the model loaded) when there is none."""
        if self._worker is None or not self._worker.alive:
            if self._worker is not None:
                await self._discard(self._worker)
            config = self.layout.worker_config(threads=self.threads)
            self._worker = await WorkerProcess.start(config, self.load_timeout_seconds, self._error)
        return self._worker

    async def _discard(self, worker: WorkerProcess, *, force: bool = False) -> None:
        if self._worker is worker:
            self._worker = None
        await worker.close(force=force)

    def _settled(self, request: asyncio.Task[tuple[int, bytes]]) -> None:
        self._requests.discard(request)
        if not request.cancelled():
            request.exception()  # a text given up on: its failure was the chain's to log, not asyncio's

    def _error(self, reason: str) -> TTSError:
        return TTSError(f"sherpa-onnx ({self.layout.directory}): {reason}", backend=self.name)
