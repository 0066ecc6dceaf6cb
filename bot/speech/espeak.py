"""The espeak-ng speech backend (a subprocess per utterance)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time

from bot.errors import TTSError
from bot.speech.pinyin import PINYIN_VOICE, to_pinyin
from bot.speech.tts import IdentityValue
from bot.speech.wav import wav_duration_seconds

logger = logging.getLogger(__name__)

_MIN_RATE_WPM = 80
_MAX_RATE_WPM = 450
_WAV_HEADER_BYTES = 44
_STDERR_LIMIT = 500
_CHECK_TEXT = "您好"
_OTHER_LANGUAGE = re.compile(r"\(([^\s()]+) \d+\)")


class EspeakTTS:
    """Synthesize speech with the ``espeak-ng`` command-line program.

    The text goes to the program on stdin, never through a shell or the argument
    list, so no text can be taken for an option. One process runs per call; it is
    killed when the call times out or is cancelled.

    Args:
        voice: espeak-ng voice name. With ``cmn-latn-pinyin`` (the default), Chinese
            text is first turned into tone-numbered pinyin (``bot.speech.pinyin``),
            because the ``cmn`` voice of espeak-ng 1.51 misreads most hanzi.
        rate_wpm: Speaking rate in words per minute (80–450).
        binary: Program to run; a name looked up on ``PATH`` or a path.
        timeout_seconds: Longest time one synthesis may take.

    Raises:
        ValueError: An argument is out of range.
    """

    name = "espeak-ng"

    def __init__(
        self,
        voice: str = PINYIN_VOICE,
        rate_wpm: int = 175,
        binary: str = "espeak-ng",
        *,
        timeout_seconds: float = 10.0,
    ) -> None:
        if not voice or voice.startswith("-") or any(c.isspace() for c in voice):
            raise ValueError(f"invalid espeak-ng voice name {voice!r}")
        if not _MIN_RATE_WPM <= rate_wpm <= _MAX_RATE_WPM:
            raise ValueError(f"rate_wpm must be {_MIN_RATE_WPM}..{_MAX_RATE_WPM}, not {rate_wpm}")
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, not {timeout_seconds}")
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.binary = binary
        self.timeout_seconds = timeout_seconds

    def __repr__(self) -> str:
        return f"EspeakTTS(voice={self.voice!r}, rate_wpm={self.rate_wpm}, binary={self.binary!r})"

    def identity(self) -> dict[str, IdentityValue]:
        """Voice and rate: the options that change the audio (the binary path does not).

        Returns:
            ``{"voice": ..., "rate_wpm": ...}``.
        """
        return {"voice": self.voice, "rate_wpm": self.rate_wpm}

    async def synthesize(self, text: str) -> bytes:
        """Speak ``text`` with espeak-ng.

        Args:
            text: The text to speak (UTF-8 is passed to espeak-ng).

        Returns:
            espeak-ng's WAV output (22050 Hz mono 16-bit for the stock voices).

        Raises:
            TTSError: The binary is missing, exits non-zero, times out or
                produces no audio; the message carries espeak-ng's stderr.
        """
        started = time.perf_counter()
        if self.voice.split("+", 1)[0].lower() == PINYIN_VOICE:
            text = await asyncio.to_thread(to_pinyin, text)
        # -b 1: the input is UTF-8 whatever the service's locale; --stdin keeps the
        # text out of argv, where a leading "-" would read as an option.
        args = ("-v", self.voice, "-s", str(self.rate_wpm), "-b", "1", "--stdin", "--stdout")
        stdout = await self._run(*args, stdin=text.encode("utf-8"))
        if len(stdout) <= _WAV_HEADER_BYTES:
            raise TTSError(f"espeak-ng produced no audio for a {len(text)}-character text", backend=self.name)
        logger.debug(
            "espeak-ng synthesized %d characters in %.1f ms",
            len(text),
            (time.perf_counter() - started) * 1000,
        )
        return stdout

    async def check(self) -> str:
        """Verify at start-up that the binary runs and the voice exists.

        espeak-ng quietly falls back to a near match for many unknown names
        (``no-such-voice`` speaks Norwegian), so the voice is looked up in
        ``espeak-ng --voices`` as well as used once.

        Returns:
            The espeak-ng version line.

        Raises:
            TTSError: With a message that says what is wrong (binary missing, voice
                unknown, broken output).
        """
        version = (await self._run("--version")).decode("utf-8", "replace").strip()
        listing = (await self._run("--voices")).decode("utf-8", "replace")
        base_voice = self.voice.split("+", 1)[0].lower()  # "+f3" picks a variant of a voice
        if base_voice not in _voice_names(listing):
            raise TTSError(
                f"espeak-ng has no voice {self.voice!r}; see `{self.binary} --voices`",
                backend=self.name,
            )
        try:
            wav_duration_seconds(await self.synthesize(_CHECK_TEXT))
        except TTSError as exc:
            raise TTSError(f"espeak-ng voice {self.voice!r} does not work: {exc}", backend=self.name) from exc
        logger.info("speech backend ready: %s, voice %s, %d wpm", version, self.voice, self.rate_wpm)
        return version

    async def _run(self, *args: str, stdin: bytes | None = None) -> bytes:
        """Run the binary with ``args`` and return its stdout, translating every failure."""
        try:
            proc = await asyncio.create_subprocess_exec(
                self.binary,
                *args,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError as exc:
            raise TTSError(
                f"espeak-ng binary {self.binary!r} not found; install espeak-ng or fix the path",
                backend=self.name,
            ) from exc
        except OSError as exc:
            raise TTSError(f"cannot run {self.binary!r}: {exc}", backend=self.name) from exc
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(stdin), self.timeout_seconds)
        except TimeoutError as exc:
            raise TTSError(
                f"espeak-ng did not finish within {self.timeout_seconds:g} s", backend=self.name
            ) from exc
        finally:
            await _reap(proc)
        if proc.returncode != 0:
            raise TTSError(
                f"espeak-ng exited with status {proc.returncode}: {_clip(stderr)}",
                backend=self.name,
            )
        if stderr:
            logger.debug("espeak-ng stderr: %s", _clip(stderr))
        return stdout


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """Kill a process that is still running (timeout, cancellation) and wait for it.

    Waiting matters: an unreaped child is a zombie, and asyncio warns about a
    transport closed while its process is alive.
    """
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    await proc.wait()


def _clip(stderr: bytes) -> str:
    """espeak-ng's stderr, decoded and shortened for an error message."""
    message = stderr.decode("utf-8", "replace").strip()
    return message[:_STDERR_LIMIT] or "(no message on stderr)"


def _voice_names(listing: str) -> set[str]:
    """Every name ``-v`` accepts, from ``espeak-ng --voices`` output (lowercased).

    Columns: priority, language, age/gender, voice name, file, then other
    languages as ``(zh-cmn 5)``. A voice can be chosen by any of them or by its
    file's base name.
    """
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5:
            continue
        _, language, _, voice_name, file, *others = fields
        names.update((language, voice_name, file, file.rsplit("/", 1)[-1]))
        names.update(_OTHER_LANGUAGE.findall(" ".join(others)))
    return {name.lower() for name in names}
