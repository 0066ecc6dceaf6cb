"""A long text said sentence by sentence: the pieces synthesized at the same time, then
joined into one clip.

A callback is answered with one WAV URL, and the CTI plays nothing before it has the
whole file (the GX manual says nothing of progressive playback), so the caller's wait
for an answer said for the first time is the time to synthesize all of it. A vendor's
non-streaming API answers once it has synthesized the whole text: its time grows with
the text's length. Cut after each sentence end, the sentences of a long answer
(a knowledge answer, a prompt with variables) are asked for at the same time, within the
synthesis slots (``VOICEBOT_TTS_CONCURRENCY``), the longest first; the answer is ready
when the slowest piece is. Each sentence is a clip of its own, so a sentence said
before (the fixed sentence of a template, a reminder several answers end with) is taken
from the cache instead of being synthesized again.

The pieces are joined with the gap the prompts of a reply are joined with.

Texts shorter than :data:`MIN_SPLIT_CHARS` are said whole: their time is mostly the
vendor's first byte, which cutting does not shorten, and every piece is a request.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

SENTENCE_END = re.compile(r"[。！？；!?;…]+[”’\"')）]*")
"""A sentence's end: its marks, and a closing quote or bracket after them."""
CLAUSE_END = re.compile(r"[，、,：:]+")
"""A clause's end inside a sentence."""
MIN_SPLIT_CHARS = 30
"""A normalised text shorter than this is said whole."""

T = TypeVar("T")


def sentence_pieces(spoken: str, *, min_chars: int | None = MIN_SPLIT_CHARS) -> list[str]:
    """``spoken`` cut after each sentence end, or whole when it is short or one sentence.

    A piece with nothing to say (only marks, such as a leading ``……``) stays with the
    piece before it, or the one after it when it comes first. Pieces are stripped.

    Args:
        spoken: A text normalised for speech.
        min_chars: Texts shorter than this are not cut; None: no text is.

    Returns:
        The pieces in order (one, the text itself, when it is not cut).
    """
    if min_chars is None or len(spoken) < min_chars:
        return [spoken]
    pieces: list[str] = []
    start = 0
    for end in SENTENCE_END.finditer(spoken):
        _add(pieces, spoken[start : end.end()])
        start = end.end()
    _add(pieces, spoken[start:])
    if pieces and not _sayable(pieces[0]) and len(pieces) > 1:
        pieces[1] = pieces[0] + pieces[1]
        del pieces[0]
    return pieces or [spoken]


def _add(pieces: list[str], piece: str) -> None:
    piece = piece.strip()
    if not piece:
        return
    if pieces and not _sayable(piece):
        pieces[-1] += piece
    else:
        pieces.append(piece)


def _sayable(piece: str) -> bool:
    """Whether a piece has a word to say (a letter, a digit, a hanzi), not only marks."""
    return any(character.isalnum() for character in piece)


async def say_all(pieces: Sequence[str], say: Callable[[str], Awaitable[T]]) -> list[T]:
    """Say every piece at the same time, the longest asked first; results in the pieces' order.

    With fewer synthesis slots than pieces, the pieces asked first take the slots, so the
    longest do not wait behind the short ones (the time is the slowest slot's).

    Raises:
        Whatever ``say`` raises first; the other pieces still finish (their clips are kept).
    """
    order = sorted(range(len(pieces)), key=lambda index: -len(pieces[index]))
    started = {index: asyncio.ensure_future(say(pieces[index])) for index in order}
    return list(await asyncio.gather(*(started[index] for index in range(len(pieces)))))
